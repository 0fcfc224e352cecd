#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Confidence-driven iterations, the straggler view and the fit on shm
# (docs/statistics.md, docs/model.md): --target-ci records iteration
# counts and CIs that hold for the recorded times; an impossible target
# stops at --max-time-per-size and is reported, never hangs; the fixed -n
# stays the default.
. "$(dirname "$0")/../lib.sh"

TMP=$(rb_tmpdir)
command -v jq >/dev/null || { tap_skip "target-ci" "no jq"; tap_done; }
B=$BIN/allreduce_bench

# A reachable target.
out=$TMP/ci
timeout 300 mpiexec -n 2 "$B" -b 1K -e 64K -f 4 --target-ci 5 --max-time-per-size 3 \
	--results "$out" --no-plot >"$TMP/ci.log" 2>&1
tap_check "--target-ci 5 runs (exit 0)" test $? -eq 0
J=$out/allreduce-shm-auto.json
tap_check "every row records iters, CI bounds and ci_met" \
	jq -e '.records | length > 0 and all(.[]; (.iters | type) == "number" and .iters >= 6
		and (.ci95_lo_us | type) == "number" and (.ci95_hi_us | type) == "number"
		and (.ci_met | type) == "boolean" and .ci_target_pct == 5)' "$J"
tap_check "the CI brackets the median of T" \
	jq -e 'all(.records[]; .ci95_lo_us <= .rankmax_p50_us and .rankmax_p50_us <= .ci95_hi_us)' "$J"
tap_check "rows marked met are within +-5 % of their median" \
	jq -e 'all(.records[] | select(.ci_met); (.rankmax_p50_us - .ci95_lo_us) <= 0.05 * .rankmax_p50_us + 1e-9
		and (.ci95_hi_us - .rankmax_p50_us) <= 0.05 * .rankmax_p50_us + 1e-9)' "$J"
tap_check "rows not met used their time bound" \
	jq -e 'all(.records[] | select(.ci_met | not); .measure_ms >= 3000)' "$J"
met=$(jq '[.records[] | select(.ci_met)] | length' "$J")
rows=$(jq '.records | length' "$J")
tap_check "footer counts the rows that did not converge" \
	grep -q "met on $met of $rows rows; $((rows - met)) did not converge" "$TMP/ci.log"
tap_check "summary carries the counts" \
	jq -e ".summary.ci_met_rows == $met and .summary.ci_unconverged_rows == $((rows - met))" "$J"
tap_check "CSV ends with iters, ci95_lo_us, ci95_hi_us, ci_met" \
	sh -c "head -1 '$out/allreduce-shm-auto.csv' | grep -q ',iters,ci95_lo_us,ci95_hi_us,ci_met\$'"

# An impossible target with a small bound: reported, bounded.
out=$TMP/nc
t0=$SECONDS
timeout 120 mpiexec -n 2 "$B" -b 1K -e 4K -f 4 --target-ci 0.0001 --max-time-per-size 0.2 \
	--results "$out" --no-plot >"$TMP/nc.log" 2>&1
rc=$?
tap_check "impossible target ends (exit 0, $((SECONDS - t0)) s)" test "$rc" -eq 0
J=$out/allreduce-shm-auto.json
tap_check "no row met, each stopped at the 0.2 s bound" \
	jq -e '.records | length == 4 and all(.[]; .ci_met == false and .measure_ms >= 200 and .measure_ms < 20000)' "$J"
tap_check "footer: 0 of 4 met, 4 did not converge" \
	grep -q "met on 0 of 4 rows; 4 did not converge within 0.2 s" "$TMP/nc.log"

# The default: fixed -n, no target.
out=$TMP/fx
timeout 120 mpiexec -n 2 "$B" -b 1K -e 4K -n 12 --per-rank-times --results "$out" --no-plot \
	>"$TMP/fx.log" 2>&1
tap_check "fixed -n with --per-rank-times runs" test $? -eq 0
J=$out/allreduce-shm-auto.json
tap_check "fixed -n: iters 12, ci_met null, a CI still recorded" \
	jq -e 'all(.records[]; .iters == 12 and .ci_met == null and .ci95_lo_us <= .ci95_hi_us)' "$J"
tap_check "per-rank times: 2 ranks x 12 iterations per row" \
	jq -e 'all(.records[]; (.rank_times_us | length) == 2 and all(.rank_times_us[]; length == 12))' "$J"
# Independent check: the slowest rank per iteration, recomputed from the
# per-rank times, gives the recorded maximum of T and the straggler.
tap_check "max of the per-rank times is rankmax_max_us" \
	jq -e 'all(.records[]; ([.rank_times_us[][]] | max) as $m | ($m - .rankmax_max_us | fabs) < 0.002)' "$J"
tap_check "straggler: the rank slowest most often, as recounted" \
	jq -e 'all(.records[]; (.rank_times_us | transpose | map(if .[0] >= .[1] then 0 else 1 end)) as $w
		| ($w | map(select(. == 0)) | length) as $c0
		| (if $c0 >= 12 - $c0 then 0 else 1 end) as $r
		| .straggler.rank == $r and .straggler.slowest_iters == ([$w[] | select(. == $r)] | length)
		and (.straggler.host | length) > 0)' "$J"
tap_check "straggler lines at the end of the table name rank and host" \
	grep -q "^# Straggler .*rank [01] (host " "$TMP/fx.log"
tap_check "the fit is in the summary and the footer" \
	sh -c "jq -e '.summary.fit.beta_gbps > 0 and .summary.fit.points == 3 and (.summary.fit.residuals | length) == 3' '$J' >/dev/null && grep -q '^# Fit  *: auto, intra-node link: alpha' '$TMP/fx.log'"
tap_done
