#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The RoCE test cases, run inside the Soft-RoCE guest by tests/vm/test_roce.sh
# (one boot for all of them). Each case's output goes to OUT/<case>.log and
# one line "<case> <status> <seconds>" to OUT/results; status 77 means
# skipped.
# Usage (in the guest): guest-suite.sh BUILD_DIR OUT_DIR [RANKS...]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/guest-lib.sh"
BUILD=$1
OUT=$2
shift 2
RANKS=${*:-2 3 4}
# MPICH's own traffic stays on shared memory: UCX would otherwise also
# open rxe0 and compete with the transport under test.
export UCX_TLS=sm,self
CASE_TIMEOUT=${RB_VM_CASE_TIMEOUT:-240}
: >"$OUT/results"

T0=$SECONDS
# record CASE STATUS: notes the result and the time since the last record.
record() {
	echo "$1 $2 $((SECONDS - T0))" >>"$OUT/results"
	T0=$SECONDS
}

# run_case NAME CMD...: runs CMD with a deadline, records its status.
run_case() {
	local name=$1 rc
	shift
	echo "# $(cut -d' ' -f1 /proc/uptime)s start $name" >&2
	timeout -k 5 "$CASE_TIMEOUT" "$@" >"$OUT/$name.log" 2>&1
	rc=$?
	record "$name" "$rc"
}

# check_rows LOG: fails unless the table has data rows and every #wrong
# column of every row is 0.
check_rows() {
	awk '
	/^#/ && /#wrong/ {
		sub(/^#/, ""); n = split($0, h, " ")
		for (i = 1; i <= n; i++) if (h[i] == "#wrong") cols[++nc] = i
		next
	}
	/^#/ || NF == 0 { next }
	$1 ~ /^[0-9]+$/ && nc > 0 {
		rows++
		for (c = 1; c <= nc; c++) if ($(cols[c]) != "0") bad++
	}
	END {
		if (!nc) { print "no table header with #wrong"; exit 1 }
		if (!rows) { print "no data rows"; exit 1 }
		if (bad) { print bad " #wrong values are not 0"; exit 1 }
		print rows " data rows, #wrong all 0"
	}' "$1"
}

bench_case() {
	local coll=$1 n=$2 name=${1}_n$2 rc
	local bin=$BUILD/bin/${coll}_bench

	if [ ! -x "$bin" ]; then
		echo "$bin not built" >"$OUT/$name.log"
		record "$name" 77
		return
	fi
	echo "# $(cut -d' ' -f1 /proc/uptime)s start $name" >&2
	timeout -k 5 "$CASE_TIMEOUT" mpiexec -n "$n" "$bin" --transport roce \
		-b 8 -e 1M -f 8 -n 5 -w 2 -c 1 -T 60000 >"$OUT/$name.log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		check_rows "$OUT/$name.log" >"$OUT/$name.check" || rc=1
		cat "$OUT/$name.check" >>"$OUT/$name.log"
	fi
	record "$name" "$rc"
}

G=$(vm_gid_index rxe0) || G=
if [ -z "$G" ]; then
	echo "rxe0 has no RoCE v2 IPv4 GID" >"$OUT/perftest.log"
	record perftest 1
else
	# vm_perftest bounds server and client with its own timeouts
	vm_perftest "$OUT/perftest-server.log" ib_write_bw -d rxe0 -x "$G" \
		-s 65536 -n 200 -F --report_gbits >"$OUT/perftest.log" 2>&1
	record perftest $?
fi
run_case conform_n2 mpiexec -n 2 "$BUILD/tests/progs/tp_conform" \
	--transport roce --self -T 30000
if grep -q '^conform_n2 77 ' "$OUT/results"; then
	# tp_conform found no roce transport in this build (VERBS=0)
	for c in conform_dead_peer $(for coll in allreduce allgather alltoall; do
		for n in $RANKS; do echo "${coll}_n$n"; done; done); do
		tail -1 "$OUT/conform_n2.log" >"$OUT/$c.log"
		record "$c" 77
	done
	exit 0
fi
run_case conform_dead_peer mpiexec -n 2 "$BUILD/tests/progs/tp_conform" \
	--transport roce --kill-test -T 3000
for coll in allreduce allgather alltoall; do
	for n in $RANKS; do
		bench_case "$coll" "$n"
	done
done
exit 0
