#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark, not a test: railbench over shm against MPICH (--transport mpi)
# on 2 and 4 local ranks: all-reduce (float sum) at 8 B and 64 MiB and
# all-to-all at 64 MiB, plus the host's memcpy bandwidth measured in the same
# repetition (tests/progs/memcpy_bw: one thread alone, and one thread per
# rank copying concurrently, each on its own CPU: the per-core rate when
# every core copies). Every repetition runs each contender once, shm and mpi
# alternating; the summary gives medians and, per comparison, the median of
# the paired ratios (same repetition) with min and max. Both contenders use
# railbench's default warm-up (--warmup auto). Always exits 0 once the runs
# are done.
#
# usage: scripts/bench-shm-vs-mpi.sh [-r REPS] [-N "2 4"] [-c 0|1] [--parse FILE]
#   -r REPS        repetitions (default 7)
#   -N "LIST"      rank counts (default "2 4"; the goals are for 2)
#   -c 0|1         data check in every run (default 1)
#   --parse FILE   print "size time busbw wrong" of every out-of-place data
#                  row of a saved railbench output and exit
# Env: BUILD (default build), TIMEOUT (s per run, default 600).
set -u
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
BUILD=${BUILD:-build}
TIMEOUT=${TIMEOUT:-600}
MEMCPY=$BUILD/tests/progs/memcpy_bw
REPS=7
RANKS="2 4"
CHECK=1
LARGE=$((64 * 1024 * 1024))

usage() {
	sed -n 's/^# \{0,1\}//; 14,20p' "$0" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	-r) REPS=${2:-}; shift 2 ;;
	-N) RANKS=${2:-}; shift 2 ;;
	-c) CHECK=${2:-}; shift 2 ;;
	--parse) [ $# -ge 2 ] || usage; bl_rows "$2"; exit 0 ;;
	-h | --help) usage ;;
	*) echo "bench-shm-vs-mpi: unknown argument '$1'" >&2; usage ;;
	esac
done
bl_count_arg bench-shm-vs-mpi -r "$REPS"
case $CHECK in 0 | 1) ;; *) echo "bench-shm-vs-mpi: invalid -c '$CHECK'" >&2; exit 2 ;; esac
for n in $RANKS; do
	bl_count_arg bench-shm-vs-mpi "rank count" "$n"
done
for b in "$BUILD/bin/allreduce_bench" "$BUILD/bin/alltoall_bench" "$MEMCPY"; do
	if [ ! -x "$b" ]; then
		echo "bench-shm-vs-mpi: $b not found; run 'make BUILD=$BUILD' first" >&2
		exit 2
	fi
done
bl_need bench-shm-vs-mpi jq

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rbbench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# run TAG N COLL TP SIZE ITERS: one run; appends its out-of-place
# time_p50_us and busbw_gbps to $TMP/TAG.p50 and $TMP/TAG.bw ("nan" when it
# produced nothing, so that repetitions stay paired).
run() {
	local tag=$1 n=$2 coll=$3 tp=$4 size=$5 iters=$6
	local log=$TMP/$tag.$RANDOM res wrong
	res=$log.res
	timeout -k 10 "$TIMEOUT" mpiexec -n "$n" "$BUILD/bin/${coll}_bench" \
		--transport "$tp" -b "$size" -e "$size" -n "$iters" -c "$CHECK" \
		--placement out-of-place --results "$res" --no-plot >"$log" 2>&1
	local rc=$? csv
	csv=$(ls "$res"/*.csv 2>/dev/null | head -1)
	if [ -z "$csv" ] || [ -z "$(bl_csv_col "$csv" time_p50_us)" ]; then
		echo "# $tag: no result (exit $rc): $(tail -1 "$log")"
		echo nan >>"$TMP/$tag.p50"
		echo nan >>"$TMP/$tag.bw"
		return
	fi
	wrong=$(bl_csv_col "$csv" wrong | head -1)
	[ "$wrong" != 0 ] && [ "$wrong" != -1 ] && echo "# $tag: $wrong wrong elements"
	bl_csv_col "$csv" time_p50_us | head -1 >>"$TMP/$tag.p50"
	bl_csv_col "$csv" busbw_gbps | head -1 >>"$TMP/$tag.bw"
}

# memcpy TAG THREADS: appends the per-thread copy rate (GB/s) to $TMP/TAG.
memcpy_ref() {
	local r
	r=$("$MEMCPY" -s "$LARGE" -t "$2" -r 3 -m 200 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "per_thread_gbps") print $(i + 1) }')
	echo "${r:-nan}" >>"$TMP/$1"
}

echo "# railbench over shm vs MPICH (--transport mpi): all-reduce float sum at 8 B and 64 MiB, all-to-all at 64 MiB"
echo "# $(mpichversion 2>/dev/null | head -1 | tr -s ' \t' ' '), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $REPS repetitions, contenders alternating; warm-up auto; memcpy reference measured in every repetition"
for rep in $(seq 1 "$REPS"); do
	for n in $RANKS; do
		memcpy_ref "mc1.$n" 1
		memcpy_ref "mcc.$n" "$n"
		for tp in shm mpi; do
			run "ar8.$n.$tp" "$n" allreduce "$tp" 8 1000
			run "arL.$n.$tp" "$n" allreduce "$tp" "$LARGE" 5
			run "a2a.$n.$tp" "$n" alltoall "$tp" "$LARGE" 5
		done
	done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

med() { [ -f "$TMP/$1" ] && bl_fmt "$(bl_median <"$TMP/$1")" || echo nan; }
runs() { [ -f "$TMP/$1" ] && bl_list <"$TMP/$1"; }

for n in $RANKS; do
	echo
	echo "# $n ranks: medians over repetitions; ratio = median [min..max] of the paired per-repetition ratios"
	printf '%-38s %10s %10s   %s\n' "measurement" "shm" "mpi" "shm/mpi"
	printf '%-38s %10s %10s   %s\n' "all-reduce 8 B p50 time (us)" \
		"$(med "ar8.$n.shm.p50")" "$(med "ar8.$n.mpi.p50")" \
		"$(bl_paired "$TMP/ar8.$n.shm.p50" "$TMP/ar8.$n.mpi.p50")"
	printf '%-38s %10s %10s   %s\n' "all-reduce 64 MiB busbw (GB/s)" \
		"$(med "arL.$n.shm.bw")" "$(med "arL.$n.mpi.bw")" \
		"$(bl_paired "$TMP/arL.$n.shm.bw" "$TMP/arL.$n.mpi.bw")"
	printf '%-38s %10s %10s   %s\n' "all-to-all 64 MiB busbw (GB/s)" \
		"$(med "a2a.$n.shm.bw")" "$(med "a2a.$n.mpi.bw")" \
		"$(bl_paired "$TMP/a2a.$n.shm.bw" "$TMP/a2a.$n.mpi.bw")"
	printf '%-38s %10s   runs: %s\n' "memcpy 64 MiB, 1 thread (GB/s)" "$(med "mc1.$n")" "$(runs "mc1.$n")"
	printf '%-38s %10s   runs: %s\n' "memcpy 64 MiB, $n concurrent, per thread" "$(med "mcc.$n")" "$(runs "mcc.$n")"
	echo "# all-reduce 64 MiB busbw / concurrent per-core memcpy: shm $(bl_paired "$TMP/arL.$n.shm.bw" "$TMP/mcc.$n"), mpi $(bl_paired "$TMP/arL.$n.mpi.bw" "$TMP/mcc.$n")"
done

# Goals, for 2 ranks (printed, never asserted).
if [[ " $RANKS " == *" 2 "* ]]; then
	echo
	lat=$(bl_ratios "$TMP/ar8.2.shm.p50" "$TMP/ar8.2.mpi.p50")
	cnt=$(bl_count "<=" 1.3 <<<"$lat")
	set -- $cnt
	note="$1 of $3 pairs <= 1.3; the goal asks 6 of 7"
	if [ "$3" -gt 0 ] && [ $((7 * $1)) -ge $((6 * $3)) ]; then
		verdict=met
	else
		verdict=missed
	fi
	echo "goal $(printf '%-48s' 'shm 8 B all-reduce p50 vs MPICH, 2 ranks'): $(bl_spread <<<"$lat"), target <= 1.3 in >= 6 of 7 pairs -> $verdict ($note)"
	bl_goal "shm 64 MiB all-reduce busbw vs memcpy per core" \
		"$(bl_paired "$TMP/arL.2.shm.bw" "$TMP/mcc.2")" ">=" 0.42
	bl_goal "shm 64 MiB all-reduce busbw vs MPICH" \
		"$(bl_paired "$TMP/arL.2.shm.bw" "$TMP/arL.2.mpi.bw")" ">=" 2.0
	bl_goal "shm 64 MiB all-to-all busbw vs MPICH" \
		"$(bl_paired "$TMP/a2a.2.shm.bw" "$TMP/a2a.2.mpi.bw")" ">=" 1.1
fi
exit 0
