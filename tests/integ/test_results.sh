#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Results files (docs/results.md): small runs of every collective with 2 and
# 3 ranks over shm and mpi; checks the JSON with jq and the CSV with awk:
# header, one row per size and placement, algbw and busbw recomputed from
# size and time, #wrong 0, JSON records equal to the CSV rows; both
# statistics over ranks (docs/statistics.md): the mean over ranks never
# above the max, time_us the one --stat chose, warm-up counts within their
# bounds (2 ranks: --stat max -w 1; 3 ranks: --stat avg --warmup auto:40).
. "$(dirname "$0")/../lib.sh"

# The documented header (docs/results.md, "One header line, exactly:"):
# the files must follow the page.
CSV_HEADER=$(awk '/^One header line, exactly:/ { getline; getline; sub(/^ +/, ""); print; exit }' \
	"$RB_ROOT/docs/results.md")
NF_CSV=$(awk -F, '{ print NF }' <<<"$CSV_HEADER")
# Sizes divisible by nranks x 16 bytes for n = 2 and 3, so no collective has
# to round them: -b 192 -e 48K -f 4 gives exactly these.
SIZES="192 768 3072 12288 49152"
ITERS=4
WARMUP=1	# -w of the 2-rank runs
AUTO_MAX=40	# --warmup auto:AUTO_MAX of the 3-rank runs
TAIL_MAX=16	# RB_WARMUP_TAIL_MAX: the tail after the last window

# Not rb_tmpdir: its EXIT trap would fire when the $(...) subshell ends.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rbtest.XXXXXX") || exit 3
trap 'rm -rf "$tmp"' EXIT
export RAILBENCH_RUN_ID=integ-results
res=$tmp/results

# csv_rows_ok CSV COLL TP N: every row has the collective, transport, nranks
# and redop of the run, size = count x type size, #wrong 0, and the
# (size, placement) pairs are
# exactly SIZES x {out-of-place, in-place}. Prints the first problem.
csv_rows_ok() {
	awk -F, -v coll="$2" -v tp="$3" -v n="$4" -v sizes="$SIZES" -v nf="$NF_CSV" '
	BEGIN {
		split("int32 4 int64 8 float 4 double 8 half 2 bfloat16 2", kv, " ")
		for (i = 1; i < 12; i += 2)
			tsize[kv[i]] = kv[i + 1]
	}
	NR == 1 { next }
	{
		if (NF != nf) { printf "line %d: %d fields\n", NR, NF; exit 1 }
		if ($1 != coll || $2 != tp || $4 != n) {
			printf "line %d: run is %s %s n=%s\n", NR, $1, $2, $4; exit 1
		}
		red_ok = coll == "allreduce" ? $9 != "none" : $9 == "none"
		if (!red_ok) { printf "line %d: redop %s for %s\n", NR, $9, coll; exit 1 }
		if ($17 != "0") { printf "line %d: wrong is %s\n", NR, $17; exit 1 }
		# size = count x sizeof(dtype) (docs/busbw.md).
		if (!($8 in tsize)) { printf "line %d: dtype %s\n", NR, $8; exit 1 }
		if ($7 * tsize[$8] != $6) {
			printf "line %d: count %s x %d bytes is not size %s\n", NR, $7,
			       tsize[$8], $6
			exit 1
		}
		if (($6, $5) in seen) {
			printf "line %d: second row for %s %s\n", NR, $6, $5; exit 1
		}
		seen[$6, $5] = 1
		rows++
	}
	END {
		ns = split(sizes, s, " ")
		for (i = 1; i <= ns; i++)
			for (p = 0; p < 2; p++) {
				pl = p ? "in-place" : "out-of-place"
				if (!((s[i], pl) in seen)) {
					printf "no row for size %s %s\n", s[i], pl
					exit 1
				}
			}
		if (rows != 2 * ns) { printf "%d rows, expected %d\n", rows, 2 * ns; exit 1 }
	}' "$1"
}

# csv_bw_ok CSV COLL N: algbw = size / time and busbw = algbw x factor on
# every row, within 0.1 % plus the print rounding of time_us, or 1e-6 GB/s;
# the time statistics are ordered
# (min <= p50 <= p99 <= max, min <= mean <= max, 0.001 us of print rounding).
csv_bw_ok() {
	awk -F, -v coll="$2" -v n="$3" '
	function abs(x) { return x < 0 ? -x : x }
	# time_us is printed to 0.001 us: at sub-microsecond times that
	# rounding alone moves size/time by up to 0.0005/t, more than 0.1 %.
	function close_to(got, want) {
		tol = 1e-3 + 0.0005 / t
		return abs(got - want) <= tol * abs(want) || abs(got - want) <= 1e-6
	}
	BEGIN { factor = coll == "allreduce" ? 2 * (n - 1) / n : (n - 1) / n }
	NR == 1 { next }
	{
		size = $6; t = $10
		if (t <= 0) { printf "line %d: time_us %s\n", NR, t; exit 1 }
		algbw = size / (t * 1e-6) / 1e9
		if (!close_to($15, algbw)) {
			printf "line %d: algbw %s, size/time gives %.6f\n", NR, $15, algbw
			exit 1
		}
		if (!close_to($16, algbw * factor)) {
			printf "line %d: busbw %s, algbw x %.4f gives %.6f\n", NR, $16,
			       factor, algbw * factor
			exit 1
		}
		e = 0.0011
		# mean min max p50 p99 of time, rankmax and rankavg
		for (b = 10; b <= 25; b += b == 10 ? 10 : 5)
			if (!($(b + 1) <= $(b + 3) + e && $(b + 3) <= $(b + 4) + e &&
			      $(b + 4) <= $(b + 2) + e && $(b + 1) <= $b + e &&
			      $b <= $(b + 2) + e)) {
				printf "line %d: times from field %d not ordered: mean %s min %s max %s p50 %s p99 %s\n",
				       NR, b, $b, $(b + 1), $(b + 2), $(b + 3), $(b + 4)
				exit 1
			}
	}' "$1"
}

# csv_stats_ok CSV STAT WMIN WMAX: per row the mean over ranks is at most the
# max over ranks in each statistic (A_i <= T_i for every iteration, so every
# order statistic too); time_us..time_p99_us are the columns of STAT; the
# warm-up count is within WMIN..WMAX.
csv_stats_ok() {
	awk -F, -v stat="$2" -v wmin="$3" -v wmax="$4" '
	NR == 1 { next }
	{
		e = 0.0011
		for (f = 0; f < 5; f++) {
			if ($(25 + f) > $(20 + f) + e) {
				printf "line %d: mean over ranks %s above the max %s (statistic %d)\n",
				       NR, $(25 + f), $(20 + f), f + 1
				exit 1
			}
			want = stat == "avg" ? $(25 + f) : $(20 + f)
			if ($(10 + f) != want) {
				printf "line %d: time column %d is %s, the %s statistic is %s\n",
				       NR, 10 + f, $(10 + f), stat, want
				exit 1
			}
		}
		if ($18 != stat) { printf "line %d: stat %s, expected %s\n", NR, $18, stat; exit 1 }
		if ($19 < wmin || $19 > wmax) {
			printf "line %d: %s warm-up iterations, expected %d..%d\n", NR, $19, wmin, wmax
			exit 1
		}
	}' "$1"
}

# json_meta_ok JSON COLL TP N STAT: format, version, every meta key, the
# ranks list, the warm-up mode and its priming, summary complete with no
# errors; records carry warmup_stable and warmup_ms.
json_meta_ok() {
	local warm=fixed
	[ "$5" = avg ] && warm=auto
	jq -e --arg c "$2" --arg t "$3" --argjson n "$4" \
		--arg id "$RAILBENCH_RUN_ID" --argjson iters "$ITERS" \
		--arg stat "$5" --arg warm "$warm" \
		--argjson wn "$([ "$warm" = auto ] && echo "$AUTO_MAX" || echo "$WARMUP")" '
		.format == "railbench-results" and .version == 1
		and (.meta as $m | all("collective", "transport", "algo",
			"nranks", "dtype", "redop", "hosts", "ranks",
			"command_line", "version", "git", "build", "kernel",
			"mpi_library", "hwloc", "run_id", "started", "iters",
			"warmup", "warmup_iters", "stat", "priming",
			"check"; . as $k | $m | has($k)))
		and .meta.collective == $c and .meta.transport == $t
		and .meta.nranks == $n and .meta.run_id == $id
		and .meta.iters == $iters and .meta.warmup == $warm
		and .meta.warmup_iters == $wn and .meta.stat == $stat
		and (if $warm == "auto" then .meta.warmup_rule.max_iters == $wn
		     else (.meta | has("warmup_rule") | not) end)
		and (.meta.priming.iters >= 1
		     and .meta.priming.iters <= 1000 + 16
		     and (.meta.priming.stable | type == "boolean"))
		and .meta.check == true
		and (.meta.redop == "none") == ($c != "allreduce")
		and (.meta.hosts | type == "array" and length >= 1)
		and ([.meta.ranks[].rank] == [range($n)])
		and all(.meta.ranks[]; has("host") and has("pid")
			and has("transport_desc"))
		and (.meta.started | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"))
		and (.meta.command_line | contains("--transport"))
		and all(.records[]; (.warmup_stable | type == "boolean")
			and .warmup_ms >= 0 and .warmup_windows >= 0)
		and (if $warm == "fixed" then all(.records[]; .warmup_windows == 0)
		     else all(.records[]; .warmup_windows >= 1) end)
		and .summary.complete == true and .summary.wrong_total == 0
		and .summary.exit_status == 0
		and (.summary.avg_busbw_gbps | type == "number")
		' "$1" >/dev/null
}

# json_eq_csv JSON CSV: the records, in order, equal the CSV rows: strings
# and integers exactly, times within the CSV's 0.0005 us rounding,
# bandwidths within its 5e-7 GB/s rounding.
json_eq_csv() {
	local j=$tmp/records.txt
	jq -r '.records[] | [.collective, .transport, .algo, .nranks,
		.placement, .size_bytes, .count, .dtype, .redop, .time_us,
		.time_min_us, .time_max_us, .time_p50_us, .time_p99_us,
		.algbw_gbps, .busbw_gbps, .wrong, .stat, .warmup_iters,
		.rankmax_us, .rankmax_min_us, .rankmax_max_us, .rankmax_p50_us,
		.rankmax_p99_us, .rankavg_us, .rankavg_min_us, .rankavg_max_us,
		.rankavg_p50_us, .rankavg_p99_us, .iters, (.ci95_lo_us // ""),
		(.ci95_hi_us // ""), (if .ci_met == null then "" elif .ci_met then 1 else 0 end)]
		| map(tostring) | join(",")' \
		"$1" >"$j" || { echo "jq cannot read the records"; return 1; }
	awk -F, -v jf="$j" '
	function abs(x) { return x < 0 ? -x : x }
	NR == 1 { next }
	{
		if ((getline jl < jf) <= 0) { printf "CSV line %d has no record\n", NR; exit 1 }
		nj = split(jl, r, ",")
		if (nj != NF) { printf "record %d: %d fields\n", NR - 1, nj; exit 1 }
		for (f = 1; f <= NF; f++) {
			if (f == 4 || f == 6 || f == 7 || f == 17 || f == 19 || f == 30)
				ok = r[f] + 0 == $f + 0 && r[f] ~ /^-?[0-9]+$/
			else if (f <= 9 || f == 18 || f == 33 || r[f] == "" || $f == "")
				ok = r[f] == $f
			else if (f == 15 || f == 16)
				ok = abs(r[f] - $f) <= 5e-7 + 1e-9 * abs($f)
			else
				ok = abs(r[f] - $f) <= 0.0005 + 1e-9 * abs($f)
			if (!ok) {
				printf "record %d field %d: JSON %s, CSV %s\n", NR - 1, f, r[f], $f
				exit 1
			}
		}
	}
	END { if ((getline jl < jf) > 0) { print "more records than CSV rows"; exit 1 } }
	' "$2"
}

# check NAME CMD...: tap_ok, or tap_fail with CMD's output as the detail.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$name"
	else
		tap_fail "$name" "${out:-command failed: $*}"
	fi
}

for c in allreduce allgather alltoall; do
	bin=$BIN/${c}_bench
	if ! [ -x "$bin" ]; then
		tap_fail "$c: $bin is built"
		continue
	fi
	for t in shm mpi; do
		for n in 2 3; do
			name="$c $t n=$n"
			dir=$res/$c-$t-$n
			# files are named <collective>-<transport>-<algo>
			a=auto
			[ "$t" = mpi ] && a=native
			csv=$dir/$c-$t-$a.csv json=$dir/$c-$t-$a.json
			if [ "$n" = 2 ]; then
				stat=max wmin=$WARMUP wmax=$WARMUP
				sargs=(--stat max -w "$WARMUP")
			else
				stat=avg wmin=1 wmax=$((AUTO_MAX + TAIL_MAX))
				sargs=(--stat avg --warmup "auto:$AUTO_MAX")
			fi
			if timeout -k 5 120 mpiexec -n "$n" "$bin" --transport "$t" \
				-b 192 -e 48K -f 4 -n "$ITERS" "${sargs[@]}" -c 1 \
				--results "$dir" --no-plot >"$tmp/out.txt" 2>&1; then
				tap_ok "$name: run exits 0"
			else
				tap_fail "$name: run exits 0" "exit status $?" \
					"$(tail -5 "$tmp/out.txt")"
			fi
			check "$name: JSON parses and has the format and meta keys" \
				json_meta_ok "$json" "$c" "$t" "$n" "$stat"
			if [ -f "$csv" ] && [ "$(head -1 "$csv")" = "$CSV_HEADER" ]; then
				tap_ok "$name: CSV header"
			else
				tap_fail "$name: CSV header" "got: $(head -1 "$csv" 2>&1)"
			fi
			check "$name: one row per size and placement, #wrong 0" \
				csv_rows_ok "$csv" "$c" "$t" "$n"
			check "$name: algbw and busbw recompute from size and time" \
				csv_bw_ok "$csv" "$c" "$n"
			check "$name: --stat $stat columns, mean over ranks <= max, warm-up $wmin..$wmax" \
				csv_stats_ok "$csv" "$stat" "$wmin" "$wmax"
			check "$name: JSON records equal CSV rows" \
				json_eq_csv "$json" "$csv"
			check "$name: the footer reports the warm-up" \
				grep -q "^# Warm-up  *: .*priming [0-9]* iterations" "$tmp/out.txt"
			check "$name: no temporary files left" \
				test -z "$(find "$dir" -name '*.tmp*' 2>/dev/null)"
		done
	done
done

# -w 0: no warm-up at all, no priming.
dir=$res/cold
timeout -k 5 120 mpiexec -n 2 "$BIN/allreduce_bench" --transport shm -b 64 -e 256 \
	-n 2 -w 0 --results "$dir" --no-plot >"$tmp/out-cold.txt" 2>&1
if jq -e '(.meta | has("priming") | not) and .meta.warmup == "fixed"
	and all(.records[]; .warmup_iters == 0)' \
	"$dir/allreduce-shm-auto.json" >/dev/null 2>&1 &&
	grep -q "^# Warm-up  *: 0 iterations per row; no priming" "$tmp/out-cold.txt"; then
	tap_ok "-w 0: no warm-up iterations and no priming"
else
	tap_fail "-w 0: no warm-up iterations and no priming" "$(tail -3 "$tmp/out-cold.txt")"
fi

# Two algorithms of one collective in one results directory keep their
# own files.
dir=$res/two-algos
for a in ring rd; do
	timeout -k 5 120 mpiexec -n 2 "$BIN/allreduce_bench" --transport shm \
		--algo $a -b 64 -e 4K -f 8 -n 2 -w 1 --results "$dir" --no-plot \
		>"$tmp/out-$a.txt" 2>&1
done
if [ "$(jq -r .meta.algo "$dir/allreduce-shm-ring.json" 2>/dev/null)" = ring ] &&
	[ "$(jq -r .meta.algo "$dir/allreduce-shm-rd.json" 2>/dev/null)" = rd ] &&
	[ -s "$dir/allreduce-shm-ring.csv" ] && [ -s "$dir/allreduce-shm-rd.csv" ]; then
	tap_ok "--algo ring and --algo rd in one directory: allreduce-shm-ring.* and allreduce-shm-rd.*"
else
	tap_fail "two algorithms in one directory keep their files" "$(ls "$dir" 2>&1)"
fi
tap_done
