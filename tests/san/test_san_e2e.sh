#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# A small end-to-end run of the AddressSanitizer/UBSan build: every
# collective over shm and mpi with 3 ranks, data check on. Any sanitizer
# report fails the case (halt_on_error, UBSan aborts).
. "$(dirname "$0")/../lib.sh"

TMP=$(rb_tmpdir)
export RAILBENCH_PLOT=/bin/true
# MPI and UCX keep allocations until exit; leaks are checked in the unit
# tests, not here.
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

if [ ! -x "$BIN/allreduce_bench" ]; then
	echo "ok 1 - sanitizer build # SKIP $BIN has no binaries (run make DEBUG=1)"
	exit 0
fi
for tp in shm mpi; do
	for coll in allreduce allgather alltoall; do
		log=$TMP/$coll-$tp.log
		if timeout 300 mpiexec -n 3 "$BIN/${coll}_bench" --transport "$tp" \
			-b 8 -e 64K -f 8 -n 2 -w 1 --results "$TMP/res" >"$log" 2>&1 &&
			! grep -qE 'ERROR: AddressSanitizer|runtime error:' "$log" &&
			awk '!/^#/ && NF >= 13 { rows++; if ($8 != "0" || $13 != "0") bad++ }
			     END { exit !(rows > 0 && bad == 0) }' "$log"; then
			tap_ok "sanitized $coll over $tp, 3 ranks"
		else
			tap_fail "sanitized $coll over $tp, 3 ranks" "$(grep -m3 -E 'ERROR|error' "$log")"
		fi
	done
done
tap_done
