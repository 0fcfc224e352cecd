#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# End-to-end: every collective over shm and mpi with 1..5 local ranks, data
# check on; every data row must report #wrong 0 and the run must exit 0.
# Also every algorithm and a few dtype/op pairs over shm.
. "$(dirname "$0")/../lib.sh"

TMP=$(rb_tmpdir)

# check_rows LOG: all data rows have #wrong == 0 in both placements, and at
# least one row exists.
check_rows() {
	awk '!/^#/ && NF >= 13 { rows++; if ($8 != "0" || ($13 != "0" && $13 != "-")) bad++ }
	     END { exit !(rows > 0 && bad == 0) }' "$1"
}

run_case() {
	local name=$1 n=$2
	shift 2
	local log=$TMP/$(echo "$name" | tr ' /' '__').log
	if timeout 120 mpiexec -n "$n" "$@" --results "$TMP/res" >"$log" 2>&1 &&
		check_rows "$log"; then
		tap_ok "$name"
	else
		tap_fail "$name" "$(tail -5 "$log")"
	fi
}

for tp in shm mpi; do
	for n in 1 2 3 4 5; do
		for coll in allreduce allgather alltoall; do
			run_case "$coll $tp n=$n" "$n" "$BIN/${coll}_bench" \
				--transport "$tp" -b 8 -e 256K -f 8 -n 3 -w 1 -c 1
		done
	done
done

for algo in ring rd rh; do
	for n in 3 4; do
		run_case "allreduce shm algo=$algo n=$n" "$n" "$BIN/allreduce_bench" \
			--transport shm --algo "$algo" -b 4 -e 1M -f 16 -n 2 -w 1 \
			--chunk 64K
	done
done
run_case "allgather shm algo=ring n=3" 3 "$BIN/allgather_bench" --transport shm --algo ring -b 12 -e 96K -f 8 -n 2 -w 1
run_case "alltoall shm algo=pairwise n=5" 5 "$BIN/alltoall_bench" --transport shm --algo pairwise -b 20 -e 160K -f 8 -n 2 -w 1
run_case "allreduce mpi algo=ring n=3 (own algorithm over MPI p2p)" 3 "$BIN/allreduce_bench" --transport mpi --algo ring -b 8 -e 64K -f 8 -n 2 -w 1

for dt in int32 int64 double half bfloat16; do
	for op in sum prod max min; do
		run_case "allreduce shm $dt $op n=3" 3 "$BIN/allreduce_bench" \
			--transport shm -d "$dt" -o "$op" -b 2 -e 64K -f 32 -n 2 -w 0
	done
done
run_case "allreduce mpi int64 max n=4" 4 "$BIN/allreduce_bench" --transport mpi -d int64 -o max -b 8 -e 8K -f 8 -n 2 -w 0

# A data error must be caught: nothing corrupts data on purpose here, so
# check the opposite direction too: with -c 0 the column says N/A.
log=$TMP/nocheck.log
if mpiexec -n 2 "$BIN/allreduce_bench" --transport shm -b 8 -e 64 -n 2 -w 0 -c 0 --no-results >"$log" 2>&1 &&
	awk '!/^#/ && NF >= 13 && $8 != "N/A" { bad++ } END { exit bad > 0 }' "$log"; then
	tap_ok "-c 0 reports #wrong N/A"
else
	tap_fail "-c 0 reports #wrong N/A" "$(tail -3 "$log")"
fi
tap_done
