#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark, not a test: railbench's shm all-reduce against MPICH's
# MPI_Allreduce (--transport mpi) at 8 B and 64 MiB, float sum, on 2 and 4
# local ranks. Each configuration runs several times, alternating shm and
# mpi so both see the same background load; the table shows medians of the
# out-of-place time and busbw. Always exits 0 once the runs are done.
#
# usage: scripts/bench-shm-vs-mpi.sh [-r REPS] [-N "2 4"] [-c 0|1] [--parse FILE]
#   -r REPS        runs per configuration (default 5)
#   -N "LIST"      rank counts (default "2 4")
#   -c 0|1         data check in every run (default 1)
#   --parse FILE   print the out-of-place time and busbw of every data row
#                  of a saved allreduce_bench output and exit
# Env: BUILD (default build), TIMEOUT (s per run, default 600).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
TIMEOUT=${TIMEOUT:-600}
BENCH=$BUILD/bin/allreduce_bench
REPS=5
RANKS="2 4"
CHECK=1
SMALL=8
LARGE=$((64 * 1024 * 1024))

usage() {
	sed -n 's/^# \{0,1\}//; 9,15p' "$0" >&2
	exit 2
}

# rows FILE: "size time_us busbw wrong" of each data row (out-of-place).
# Data rows are the lines not starting with '#': size count type redop
# time algbw busbw #wrong p99 [in-place columns].
rows() {
	awk '!/^#/ && NF >= 8 && $1 ~ /^[0-9]+$/ { print $1, $5, $7, $8 }' "$1"
}

while [ $# -gt 0 ]; do
	case $1 in
	-r) REPS=${2:-}; shift 2 ;;
	-N) RANKS=${2:-}; shift 2 ;;
	-c) CHECK=${2:-}; shift 2 ;;
	--parse) [ $# -ge 2 ] || usage; rows "$2"; exit 0 ;;
	-h | --help) usage ;;
	*) echo "bench-shm-vs-mpi: unknown argument '$1'" >&2; usage ;;
	esac
done
case $REPS in '' | *[!0-9]* | 0) echo "bench-shm-vs-mpi: invalid -r '$REPS'" >&2; exit 2 ;; esac
case $CHECK in 0 | 1) ;; *) echo "bench-shm-vs-mpi: invalid -c '$CHECK'" >&2; exit 2 ;; esac
for n in $RANKS; do
	case $n in '' | *[!0-9]* | 0) echo "bench-shm-vs-mpi: invalid rank count '$n'" >&2; exit 2 ;; esac
done
if [ ! -x "$BENCH" ]; then
	echo "bench-shm-vs-mpi: $BENCH not found; run 'make BUILD=$BUILD' first" >&2
	exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rbbench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# median: of the numbers on stdin, "-" when there are none.
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# run N TP SIZE ITERS WARMUP REP: one allreduce_bench run; appends
# "time busbw" to $TMP/N.TP.SIZE, or reports why nothing came out.
run() {
	local n=$1 tp=$2 size=$3 iters=$4 warm=$5 rep=$6
	local log=$TMP/log.$n.$tp.$size.$rep
	timeout -k 10 "$TIMEOUT" mpiexec -n "$n" "$BENCH" --transport "$tp" \
		-b "$size" -e "$size" -n "$iters" -w "$warm" -c "$CHECK" \
		--placement out-of-place --results "$TMP/res" --no-plot \
		>"$log" 2>&1
	local rc=$?
	local row
	row=$(rows "$log" | awk -v s="$size" '$1 == s')
	if [ -z "$row" ]; then
		echo "# $tp n=$n size=$size run $rep: no result (exit $rc): $(tail -1 "$log")"
		return
	fi
	set -- $row
	[ "$4" != "0" ] && [ "$4" != "N/A" ] && echo "# $tp n=$n size=$size run $rep: $4 wrong elements"
	echo "$2 $3" >>"$TMP/$n.$tp.$size"
}

# stat N TP SIZE COL: median of column COL (1 time, 2 busbw).
stat() {
	[ -f "$TMP/$1.$2.$3" ] || { echo "-"; return; }
	awk -v c="$4" '{ print $c }' "$TMP/$1.$2.$3" | median
}

# ratio A B: A/B with 2 decimals, "-" if either is missing or B is 0.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}

echo "# railbench all-reduce (float sum) over shm vs MPICH MPI_Allreduce (--transport mpi)"
echo "# $(mpichversion 2>/dev/null | head -1 | tr -s ' \t' ' '), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $REPS runs per configuration, shm and mpi alternating; medians of the out-of-place time (mean over iterations) and busbw"
for n in $RANKS; do
	for rep in $(seq 1 "$REPS"); do
		for tp in shm mpi; do
			run "$n" "$tp" "$SMALL" 1000 100 "$rep"
			run "$n" "$tp" "$LARGE" 5 2 "$rep"
		done
	done
done

printf '#%6s %10s %14s %14s %12s %12s\n' ranks size "shm time(us)" "mpi time(us)" \
	"shm busbw" "mpi busbw"
for n in $RANKS; do
	for size in $SMALL $LARGE; do
		printf '%7s %10s %14s %14s %12s %12s\n' "$n" "$size" \
			"$(stat "$n" shm "$size" 1)" "$(stat "$n" mpi "$size" 1)" \
			"$(stat "$n" shm "$size" 2)" "$(stat "$n" mpi "$size" 2)"
	done
done

for n in $RANKS; do
	lat=$(ratio "$(stat "$n" shm "$SMALL" 1)" "$(stat "$n" mpi "$SMALL" 1)")
	bw=$(ratio "$(stat "$n" shm "$LARGE" 2)" "$(stat "$n" mpi "$LARGE" 2)")
	echo "# $n ranks: latency shm/mpi at 8 B = $lat (lower is better)"
	echo "# $n ranks: busbw shm/mpi at 64 MiB = $bw (goal >= 1)"
	if [ "$bw" = "-" ]; then
		echo "# $n ranks: goal unknown (a configuration produced no result)"
	elif awk -v r="$bw" 'BEGIN { exit !(r >= 1) }'; then
		echo "# $n ranks: goal met"
	else
		echo "# $n ranks: goal missed"
	fi
done
exit 0
