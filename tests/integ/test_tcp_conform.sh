#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Transport conformance of tcp (tests/progs/tp_conform): sizes, ordering,
# bursts and messages to itself on 1-4 local ranks over loopback and on a
# simulated 2-node x 2-rail cluster; dead-peer detection on both.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_simcluster.sh"

PROG=$BUILD/tests/progs/tp_conform
sc_require_progs "$PROG"
SC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rbtcpc.XXXXXX")
trap 'rm -rf "$SC_TMP"' EXIT
WALL=240

# conform NAME LAUNCHER... -- ARGS...: one tp_conform run; each of its TAP
# lines becomes one of ours, prefixed with NAME.
conform() {
	local name=$1 launch=() log rc cases=0 line
	shift
	while [ "$1" != "--" ]; do launch+=("$1"); shift; done
	shift
	log=$SC_TMP/$(echo "$name" | tr ' =/,' '____').log
	timeout -k 5 "$WALL" "${launch[@]}" "$PROG" --transport tcp "$@" >"$log" 2>&1
	rc=$?
	while IFS= read -r line; do
		cases=$((cases + 1))
		case $line in
		"not ok "*) tap_fail "$name: ${line#not ok * - }" "$(grep -v '^ok' "$log" | tail -5)" ;;
		*"# SKIP"*) tap_skip "$name: ${line#ok * - }" "${line#*# SKIP }" ;;
		*) tap_ok "$name: ${line#ok * - }" ;;
		esac
	done < <(grep -E '^(not )?ok [0-9]+ - ' "$log")
	if [ "$rc" -ne 0 ] || [ "$cases" -eq 0 ]; then
		tap_fail "$name: run completes (exit 0)" "exit $rc, $cases cases" "$(tail -5 "$log")"
	fi
	LAST_LOG=$log
}

for n in 1 2 3 4; do
	conform "loopback n=$n" mpiexec -n "$n" -- --self --timeout 60000
done
conform "loopback dead peer" mpiexec -n 2 -- --kill-test --timeout 20000
if grep -q 'tcp: lost rank 1 (host [^,]*, peer lo 127.0.0.1:[0-9]*, local lo 127.0.0.1)' "$LAST_LOG"; then
	tap_ok "loopback dead peer: message names rank, address and interface"
else
	tap_fail "loopback dead peer: message" "$(grep error "$LAST_LOG" | head -3)"
fi

if ! sc_can_run; then
	tap_skip "simulated 2 nodes x 2 rails" "needs root for network namespaces"
	tap_done
fi
if ! sc_up 2 2; then
	tap_fail "simcluster up 2 x 2"
	tap_done
fi
conform "2 nodes x 2 rails n=4" "$SIMCLUSTER" mpiexec -ppn 2 -n 4 -- \
	--net-if rail0,rail1 --self --timeout 60000
conform "2 nodes dead peer" "$SIMCLUSTER" mpiexec -ppn 1 -n 2 -- \
	--net-if rail0 --kill-test --timeout 20000
if grep -q 'tcp: lost rank 1 (host [^,]*, peer rail0 10.200.0.2:[0-9]*, local rail0 10.200.0.1)' "$LAST_LOG"; then
	tap_ok "2 nodes dead peer: message names rank, address and rail"
else
	tap_fail "2 nodes dead peer: message" "$(grep error "$LAST_LOG" | head -3)"
fi
tap_done
