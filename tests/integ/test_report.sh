#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The report (scripts/rb-report, docs/report.md) in a real browser: reports
# of real runs (one results directory; a comparison of two runs and of a
# run with a planted regression; a real qualification) rendered in
# headless Chromium, checked for console errors, charts, the verdict and
# peak figures against the JSON, and printed to a PDF with pages. Also
# interrupted runs (marked incomplete) and bad input (exit 2, one line).
# Screenshots: build/test-logs/report/*.png.
. "$(dirname "$0")/../lib.sh"
. "$RB_ROOT/tests/report/lib_report.sh"
report_require

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rbreport.XXXXXX") || exit 3
trap 'rm -rf "$tmp"' EXIT
export RAILBENCH_RUN_ID=integ-report

# ---- one results directory of real runs --------------------------------
A=$tmp/A
B=$tmp/B
ok=1
for d in "$A" "$B"; do
	real_run "$d" allreduce shm || ok=0
	real_run "$d" allgather shm || ok=0
done
real_run "$A" alltoall mpi || ok=0
if [ "$ok" = 1 ]; then
	tap_ok "real runs: allreduce, allgather over shm (twice), alltoall over mpi"
else
	tap_fail "real runs" "$(tail -3 "$tmp"/*.log)"
	tap_done
fi
jsons=("$A"/*.json)

out=$("$REPORT" "$A" 2>"$tmp/err")
rc=$?
if [ "$rc" -eq 0 ] && [ -s "$A/report.html" ] && [ -s "$A/report.pdf" ] &&
	[ "$out" = "# report: $A/report.html
# report: $A/report.pdf" ] && ! [ -s "$tmp/err" ]; then
	tap_ok "rb-report DIR writes report.html and report.pdf and prints both paths"
else
	tap_fail "rb-report DIR" "exit $rc" "$out" "$(cat "$tmp/err")"
fi
if ! grep -qiE '(src|href)="(https?:)?//|@import|url\((https?:)?//' "$A/report.html" &&
	! grep -qi '<script' "$A/report.html"; then
	tap_ok "the page is self-contained: no external URL, no script"
else
	tap_fail "the page is self-contained" "$(grep -oiE '(src|href)="[^"]*"' "$A/report.html" | head -3)"
fi
pages=$(pdf_pages "$A/report.pdf")
if [ "$pages" -ge 2 ]; then
	tap_ok "the PDF has $pages pages (pdfinfo)"
else
	tap_fail "the PDF has pages" "pdfinfo: $pages"
fi

f=$tmp/single.json
if browse "$A/report.html" "$f" "$SHOTS/single.png" 2>"$tmp/err"; then
	tap_ok "headless Chromium loads the page (screenshot single.png)"
else
	tap_fail "headless Chromium loads the page" "$(cat "$tmp/err")"
fi
tap_check "no console error, no script, no event handler, no image" facts_clean "$f"
tap_check "the verdict box is coloured" verdict_visible "$f"
ncoll=$(jq -s '[.[].meta.collective] | unique | length' "${jsons[@]}")
tap_check "every chart present and drawn: 2 per collective ($ncoll collectives)" \
	charts_drawn "$f" $((2 * ncoll))
# Curves: one per run and placement of the chart's collective.
want=$(jq -rs '[group_by(.meta.collective)[] | map([.records[].placement] | unique | length) | add]
	| map(., .) | join(",")' "${jsons[@]}")
got=$(jq -r '[.charts[].curves] | join(",")' "$f")
if [ "$got" = "$want" ]; then
	tap_ok "each chart has one curve per run and placement of its collective ($got)"
else
	tap_fail "each chart has one curve per run and placement of its collective" "page $got, JSON $want"
fi
want=$(jq -rs 'if all(.[]; .summary.complete and .summary.pass and .summary.wrong_total == 0)
	then "PASS" else "FAIL" end' "${jsons[@]}")
if [ "$(jq -r .verdict "$f")" = "$want" ] && [ "$(jq -r .summary_verdict "$f")" = "$want" ]; then
	tap_ok "the verdict matches the JSON ($want)"
else
	tap_fail "the verdict matches the JSON" "page $(jq -r .verdict "$f"), JSON $want"
fi
if msg=$(peaks_match "$f" "${jsons[@]}"); then
	tap_ok "the peak busbw of every run matches its JSON"
else
	tap_fail "the peak busbw of every run matches its JSON" "$msg"
fi
if jq -e '.sections | index("summary") == 0 and index("topology") != null and
	index("reproducibility") != null' "$f" >/dev/null &&
	jq -e --arg c "$(jq -r .meta.command_line "${jsons[0]}")" '.body_text | contains($c)' "$f" >/dev/null; then
	tap_ok "summary first; topology and reproducibility (exact command line) present"
else
	tap_fail "summary first; topology and reproducibility present" "$(jq -c .sections "$f")"
fi

# ---- line rate and target: reference lines, percentages, verdict -------
# A real run held to an impossible target (it exits 1: verdict FAIL), and
# the same run with a 100 Gb/s line rate written into its placements, as
# topo/ records it on a machine whose NICs report their speed.
L=$tmp/L
real_run "$L" allreduce shm --expect-busbw 1000
jq '.meta.ranks |= map(.placement = ((.placement | objects) // {}) + {nic_gbps: 100})' \
	"$L/allreduce-shm-auto.json" >"$tmp/l.json" && mv "$tmp/l.json" "$L/allreduce-shm-auto.json"
lj=$L/allreduce-shm-auto.json
if "$REPORT" --no-pdf "$L" >/dev/null 2>"$tmp/err" && browse "$L/report.html" "$tmp/l.json" "$SHOTS/linerate.png"; then
	tap_ok "report of a run with a target and a line rate renders (screenshot linerate.png)"
else
	tap_fail "report of a run with a target and a line rate renders" "$(cat "$tmp/err")"
fi
want_pct=$(printf '%.1f %%' "$(jq '([.records[].busbw_gbps] | max) * 100 / 12.5' "$lj")")
if jq -e --arg p "$want_pct" '.verdict == "FAIL" and .peaks[0].pct == $p and .peaks[0].target == "1000.000"' \
	"$tmp/l.json" >/dev/null && [ "$(jq -r .summary.pass "$lj")" = false ]; then
	tap_ok "target missed: verdict FAIL as in the JSON; % of line rate $want_pct (peak / 12.5 GB/s)"
else
	tap_fail "target missed: verdict and % of line rate" "page $(jq -c '[.verdict, .peaks[0]]' "$tmp/l.json"), want $want_pct"
fi
if jq -e '[.charts[] | select(.kind == "busbw")][0] | .curves == 3 and (.text | contains("line rate 12.5 GB/s"))' "$tmp/l.json" >/dev/null &&
	jq -e '[.charts[] | select(.kind == "time")][0] | .curves == 3 and (.text | contains("ideal at line rate"))' "$tmp/l.json" >/dev/null; then
	tap_ok "the line rate is drawn on the busbw chart and the ideal time on the time chart"
else
	tap_fail "reference lines drawn" "$(jq -c '[.charts[] | {kind, curves}]' "$tmp/l.json")"
fi

# ---- with a real qualification: heat maps per rail, culprits -----------
Q=$tmp/Q
mkdir -p "$Q"
cp "${jsons[0]}" "$FIXTURES/p2p-shm+tcp.json" "$Q/"
"$BIN/topo_map" --json >"$Q/topo-map.json" 2>/dev/null || rm -f "$Q/topo-map.json"
qj=$Q/p2p-shm+tcp.json
if "$REPORT" "$Q" >/dev/null 2>"$tmp/err" && browse "$Q/report.html" "$tmp/q.json" "$SHOTS/qualification.png"; then
	tap_ok "report with a qualification renders (screenshot qualification.png)"
else
	tap_fail "report with a qualification renders" "$(cat "$tmp/err")"
fi
rails=$(jq '[.records[] | select(.kind == "inter") | .rail] | unique | length' "$qj")
slow=$(jq '([.records[] | select(.kind == "inter" and .direction == "uni") | .size_bytes] | max) as $s
	| [.records[] | select(.kind == "inter" and .direction == "uni" and .size_bytes == $s and .slow)] | length' "$qj")
got_slow=$(jq '[.heatmaps[].slow] | add' "$tmp/q.json")
if [ "$(jq '.heatmaps | length' "$tmp/q.json")" = "$rails" ] && [ "$got_slow" = "$slow" ]; then
	tap_ok "one heat map per rail ($rails), the $slow slow pairs marked"
else
	tap_fail "one heat map per rail, slow pairs marked" "maps $(jq '.heatmaps | length' "$tmp/q.json") of $rails, slow $got_slow of $slow"
fi
want=$(jq -r '.verdict.culprits | map("\(.rail) \(.host)") | sort | join(";")' "$qj")
got=$(jq -r '[.heatmaps[] | .rail as $r | .culprit_hosts[] | "\($r) \(sub(" ⚠$"; ""))"] | sort | join(";")' "$tmp/q.json")
if [ -n "$want" ] && [ "$got" = "$want" ] &&
	[ "$(jq '.culprits | length' "$tmp/q.json")" = "$(jq '.verdict.culprits | length' "$qj")" ] &&
	[ "$(jq -r .verdict "$tmp/q.json")" = FAIL ]; then
	tap_ok "culprits listed in the summary and marked on their rail's map ($want); verdict FAIL"
else
	tap_fail "culprits marked" "page '$got', JSON '$want', verdict $(jq -r .verdict "$tmp/q.json")"
fi
tap_check "qualification page: no console error, no script" facts_clean "$tmp/q.json"

# ---- comparison: two real runs, and a planted regression ---------------
out=$("$REPORT" --compare -o "$tmp/cmp" "$A" "$B" 2>"$tmp/err")
rc=$?
if [ "$rc" -eq 0 ] && [ -s "$tmp/cmp/compare.html" ] && [ "$(pdf_pages "$tmp/cmp/compare.pdf")" -ge 1 ] &&
	browse "$tmp/cmp/compare.html" "$tmp/c.json" "$SHOTS/compare.png"; then
	tap_ok "rb-report --compare A B: HTML, PDF with pages (screenshot compare.png)"
else
	tap_fail "rb-report --compare A B" "exit $rc" "$(cat "$tmp/err")"
fi
tap_check "comparison page: no console error, no script" facts_clean "$tmp/c.json"
tap_check "comparison page: the verdict box is coloured" verdict_visible "$tmp/c.json"
# The collectives A and B share: allreduce and allgather over shm.
tap_check "comparison: overlay charts of both shared collectives" charts_drawn "$tmp/c.json" 4
if jq -e 'all(.charts[]; .curves == 2)' "$tmp/c.json" >/dev/null; then
	tap_ok "comparison: each overlay has a curve of A and one of B"
else
	tap_fail "comparison: each overlay has a curve of A and one of B" "$(jq -c '[.charts[].curves]' "$tmp/c.json")"
fi

# expected_flags A.json B.json FLOOR: "regressions improvements" by the
# documented rule (docs/report.md), computed here from the records.
expected_flags() {
	jq -rn --slurpfile a "$1" --slurpfile b "$2" --argjson floor "$3" '
	def oop($d): [$d[0].records[] | select(.placement == "out-of-place")];
	def spread($r): if $r.time_p50_us > 0 then ([0, ($r.time_p99_us - $r.time_p50_us) / $r.time_p50_us] | max) else 0 end;
	[oop($a)[] as $x | oop($b)[] | select(.size_bytes == $x.size_bytes) as $y
	 | ([$floor, spread($x) + spread($y)] | max) as $t
	 | ($x.time_p50_us / $y.time_p50_us) as $r
	 | if $r < 1 / (1 + $t) then "r" elif $r > 1 + $t then "i" else "n" end] as $f
	| "\([$f[] | select(. == "r")] | length) \([$f[] | select(. == "i")] | length) \($f | length)"'
}
ea=$(expected_flags "$A/allreduce-shm-auto.json" "$B/allreduce-shm-auto.json" 0.05)
eg=$(expected_flags "$A/allgather-shm-auto.json" "$B/allgather-shm-auto.json" 0.05)
read -r ra ia na <<<"$ea"
read -r rg ig ng <<<"$eg"
if [ "$(jq -r .regressions "$tmp/c.json")" = $((ra + rg)) ] &&
	[ "$(jq -r .improvements "$tmp/c.json")" = $((ia + ig)) ] &&
	[ "$(jq -r .ratio_rows "$tmp/c.json")" = $((na + ng)) ]; then
	tap_ok "comparison of two real runs: $((na + ng)) sizes, $((ra + rg)) regressions, $((ia + ig)) improvements, as the rule gives"
else
	tap_fail "comparison of two real runs: flags as the rule gives" \
		"page $(jq -c '[.ratio_rows, .regressions, .improvements]' "$tmp/c.json"), expected $((na + ng)) $((ra + rg)) $((ia + ig))"
fi

# C: A's allreduce made slower from 4 KiB on, each size by more than the
# rule's threshold can absorb: times x k, bandwidths / k, with
# k = 1.5 (1 + max(floor, 2 spread)) (the spread is unchanged by scaling).
C=$tmp/C
mkdir -p "$C"
jq '.records |= map(if .size_bytes >= 4096 then
	(if .time_p50_us > 0 then ([0, (.time_p99_us - .time_p50_us) / .time_p50_us] | max) else 0 end) as $s
	| (1.5 * (1 + ([0.05, 2 * $s] | max))) as $k
	| (.time_us, .time_min_us, .time_max_us, .time_p50_us, .time_p99_us) *= $k
	| (.algbw_gbps, .busbw_gbps) /= $k else . end)' "$A/allreduce-shm-auto.json" >"$C/allreduce-shm-auto.json"
read -r rc_ _ _ <<<"$(expected_flags "$A/allreduce-shm-auto.json" "$C/allreduce-shm-auto.json" 0.05)"
planted=$(jq '[.records[] | select(.placement == "out-of-place" and .size_bytes >= 4096)] | length' "$A/allreduce-shm-auto.json")
if "$REPORT" --compare --no-pdf -o "$tmp/cmp2" "$A" "$C" >/dev/null 2>"$tmp/err" &&
	browse "$tmp/cmp2/compare.html" "$tmp/c2.json" "$SHOTS/regression.png" &&
	[ "$(jq -r .verdict "$tmp/c2.json")" = REGRESSION ] && verdict_visible "$tmp/c2.json" &&
	[ "$(jq -r .regressions "$tmp/c2.json")" = "$planted" ] && [ "$rc_" = "$planted" ] &&
	[ "$(jq -r .improvements "$tmp/c2.json")" = 0 ]; then
	tap_ok "planted slowdown beyond noise: verdict REGRESSION, exactly the $planted slowed sizes flagged (screenshot regression.png)"
else
	tap_fail "planted slowdown flagged" "$(cat "$tmp/err")" "page $(jq -c '[.verdict, .regressions, .improvements]' "$tmp/c2.json" 2>/dev/null), expected $planted (rule: $rc_)"
fi
# Different settings: the difference is named, and not judged.
D=$tmp/D
mkdir -p "$D"
jq '.meta.dtype = "half" | .records |= map(.dtype = "half")' "$A/allreduce-shm-auto.json" >"$D/allreduce-shm-auto.json"
if "$REPORT" --compare --no-pdf -o "$tmp/cmp3" "$A" "$D" >/dev/null 2>&1 &&
	grep -q 'dtype: float (A) vs half (B)' "$tmp/cmp3/compare.html" &&
	grep -q 'no difference is judged' "$tmp/cmp3/compare.html" &&
	! grep -q 'class="flag-regression"' "$tmp/cmp3/compare.html"; then
	tap_ok "runs with another dtype: the page says what differs and judges nothing"
else
	tap_fail "runs with another dtype: the page says what differs"
fi

# ---- interrupted runs: a partial report, clearly marked ----------------
I=$tmp/I
mkdir -p "$I"
full=$A/allreduce-shm-auto.json
nrec=$(jq '.records | length' "$full")
# Cut inside the records, as a copy interrupted mid-file would be.
head -c $(($(stat -c %s "$full") * 2 / 3)) "$full" >"$I/allreduce-shm-auto.json"
out=$("$REPORT" --no-pdf "$I" 2>"$tmp/err")
rc=$?
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^rb-report: warning: .*truncated' "$tmp/err" &&
	browse "$I/report.html" "$tmp/i.json" "$SHOTS/truncated.png" &&
	jq -e '.incomplete and .verdict == "INCOMPLETE"' "$tmp/i.json" >/dev/null; then
	tap_ok "a truncated JSON: report of what it holds, marked incomplete, one warning line (screenshot truncated.png)"
else
	tap_fail "a truncated JSON gives a partial report" "exit $rc" "$(cat "$tmp/err")"
fi
# The rows it shows are rows of the full file, fewer than all of them.
shown=$(grep -c '<td class="l">\(out-of-place\|in-place\)</td>' "$I/report.html")
if [ "$shown" -ge 1 ] && [ "$shown" -lt "$nrec" ]; then
	tap_ok "the partial report shows the $shown complete records before the cut (of $nrec)"
else
	tap_fail "the partial report shows the records before the cut" "$shown of $nrec"
fi
# A run that stopped: complete false and the failure's reason, as written.
jq '.summary = {complete: false, exit_status: 3, failure: {reason: "rank 1 (host node1) timed out after 10 s", peer: 1}}
	| .records |= .[:4]' "$full" >"$I/allreduce-shm-auto.json"
if "$REPORT" --no-pdf "$I" >/dev/null 2>&1 && browse "$I/report.html" "$tmp/i2.json" "$SHOTS/stopped.png" &&
	jq -e '.incomplete and .verdict == "INCOMPLETE" and
		(.body_text | contains("rank 1 (host node1) timed out after 10 s"))' "$tmp/i2.json" >/dev/null; then
	tap_ok "a run recorded as incomplete: marked, with the recorded reason"
else
	tap_fail "a run recorded as incomplete: marked, with the recorded reason"
fi

# ---- bad input: exit 2, one line on stderr, nothing written ------------
# bad NAME PATTERN ARGS...
bad() {
	local name=$1 pat=$2 rc
	shift 2
	rm -rf "$tmp/out"
	"$REPORT" -o "$tmp/out" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
	rc=$?
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/stderr")" -eq 1 ] &&
		grep -qE "^rb-report: .*$pat" "$tmp/stderr" && ! [ -s "$tmp/stdout" ] &&
		! [ -e "$tmp/out/report.html" ] && ! [ -e "$tmp/out/compare.html" ]; then
		tap_ok "bad input: $name -> exit 2: $(cat "$tmp/stderr")"
	else
		tap_fail "bad input: $name" "exit $rc" "$(head -3 "$tmp/stderr")"
	fi
}
mkdir -p "$tmp/empty" "$tmp/other"
printf '{"hello": "world"}\n' >"$tmp/other/x.json"
printf 'not json at all\n' >"$tmp/text.json"
bad "a missing directory" "nosuch: no such file or directory" "$tmp/nosuch"
bad "an empty directory" "no railbench results JSON found" "$tmp/empty"
bad "a JSON that is not railbench's" "x.json: not railbench results JSON" "$tmp/other"
bad "a file that is not JSON" "text.json: not railbench results JSON" "$tmp/text.json"
bad "no argument" "no results directory given"
bad "--compare with one run" "--compare needs at least two" --compare "$A"
bad "an unknown option" "unrecognized arguments" --frobnicate "$A"
bad "a bad --threshold" "threshold" --threshold nan --compare "$A" "$B"
mkdir -p "$tmp/E"
cp "$A/alltoall-mpi-native.json" "$tmp/E/"
bad "comparing runs with nothing in common" "nothing comparable: .*A: .*allreduce.*B: alltoall" --compare "$B" "$tmp/E"

# ---- the browser driver itself sees console errors ---------------------
printf '<!DOCTYPE html><title>t</title><script>console.error("planted error")</script>\n' >"$tmp/err.html"
printf '<!DOCTYPE html><title>t</title><script>undefinedFunction()</script>\n' >"$tmp/exc.html"
if browse "$tmp/err.html" "$tmp/e1.json" "" && browse "$tmp/exc.html" "$tmp/e2.json" "" &&
	jq -e '.errors | any(contains("planted error"))' "$tmp/e1.json" >/dev/null &&
	jq -e '.errors | any(contains("undefinedFunction"))' "$tmp/e2.json" >/dev/null; then
	tap_ok "the driver reports console.error and uncaught exceptions (so a clean page is truly clean)"
else
	tap_fail "the driver reports console errors" "$(cat "$tmp/e1.json" "$tmp/e2.json" 2>/dev/null | head -5)"
fi
tap_done
