#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Transport conformance of shm: tests/progs/tp_conform with 1..4 local ranks
# (copy and single-copy paths), dead-peer detection, and what happens when
# a rank sits in another network namespace (another node for railbench).
. "$(dirname "$0")/../lib.sh"

TMP=$(rb_tmpdir)
PROG=$BUILD/tests/progs/tp_conform
WALL=240	# seconds per mpiexec run; the program's own waits are shorter

if [ ! -x "$PROG" ]; then
	tap_fail "tp_conform is built" "missing $PROG (make BUILD=$BUILD)"
	tap_done
fi

# conform NAME N ENV... -- ARGS...: runs tp_conform on N ranks and turns
# each of its TAP lines into one of ours, prefixed with NAME.
conform() {
	local name=$1 n=$2
	shift 2
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	local log=$TMP/$(echo "$name" | tr ' =/' '___').log
	env "${envs[@]}" timeout -k 5 "$WALL" mpiexec -n "$n" "$PROG" "$@" \
		>"$log" 2>&1
	local rc=$? cases=0 line
	while IFS= read -r line; do
		cases=$((cases + 1))
		case $line in
		"not ok "*) tap_fail "$name: ${line#not ok * - }" \
			"$(grep -v '^ok' "$log" | tail -5)" ;;
		*"# SKIP"*) tap_skip "$name: ${line#ok * - }" "" ;;
		*) tap_ok "$name: ${line#ok * - }" ;;
		esac
	done < <(grep -E '^(not )?ok [0-9]+ - ' "$log")
	if [ "$rc" -ne 0 ] || [ "$cases" -eq 0 ]; then
		tap_fail "$name: run completes (exit 0)" \
			"exit status $rc, $cases cases" "$(tail -5 "$log")"
	fi
}

for n in 1 2 3 4; do
	conform "shm n=$n" "$n" RB_SHM_CMA=0 -- --transport shm --self \
		--timeout 60000
done
# Single-copy reads (CMA) carry the messages from 64 KiB up when enabled;
# the preamble must say so, or the run tested the copy path again.
conform "shm cma n=4" 4 RB_SHM_CMA=1 -- --transport shm --self \
	--timeout 60000
if grep -q '^# transport shm: .*CMA from' "$TMP/shm_cma_n_4.log"; then
	tap_ok "shm cma n=4: single-copy path in use"
elif grep -q 'process_vm_readv' "$TMP/shm_cma_n_4.log"; then
	tap_skip "shm cma n=4: single-copy path in use" "process_vm_readv refused here"
else
	tap_fail "shm cma n=4: single-copy path in use" \
		"$(grep '^# transport' "$TMP/shm_cma_n_4.log")"
fi

# Dead peer: rank 1 exits mid-message; rank 0 must report it, and well
# before the timeout (detection polls every 100 ms of idleness).
for cma in 1 0; do
	name="shm dead peer n=3 cma=$cma"
	log=$TMP/kill$cma.log
	t0=$SECONDS
	RB_SHM_CMA=$cma timeout -k 5 60 mpiexec -n 3 "$PROG" --transport shm \
		--kill-test --timeout 20000 >"$log" 2>&1
	if grep -q "^ok 1 - dead peer reported as 'peer failed'" "$log" &&
		grep -q 'shm: peer rank 1 (host .*, pid [0-9]*) is gone' "$log" &&
		[ $((SECONDS - t0)) -lt 15 ]; then
		tap_ok "$name: reported as peer failed in $((SECONDS - t0)) s"
	else
		tap_fail "$name: reported as peer failed" "$(tail -5 "$log")"
	fi
done

# A rank in another network namespace is on another node: shm does not
# reach it. The conformance suite skips, naming the rank; a benchmark
# refuses with one line and exit 2, pointing at a composition.
if unshare -n true 2>/dev/null; then
	log=$TMP/elsewhere.log
	timeout -k 5 60 mpiexec -n 1 "$PROG" --transport shm : \
		-n 1 unshare -n "$PROG" --transport shm >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 77 ] && grep -q 'shm cannot reach rank 1 (host .*): another node' "$log"; then
		tap_ok "tp_conform: shm does not reach a rank on another node (skip, rank named)"
	else
		tap_fail "tp_conform: shm does not reach a rank on another node" "exit $rc" \
			"$(tail -3 "$log")"
	fi
	log=$TMP/elsewhere-bench.log
	timeout -k 5 60 mpiexec -n 1 "$BIN/allreduce_bench" --transport shm -b 8 -e 8 \
		--no-results : -n 1 unshare -n "$BIN/allreduce_bench" --transport shm \
		-b 8 -e 8 --no-results >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 2 ] &&
		[ "$(grep -c "invalid --transport 'shm': it cannot reach rank 1 (host .*), another node: compose an inter-node transport, e.g. --transport shm+tcp" "$log")" = 1 ]; then
		tap_ok "allreduce_bench --transport shm with a rank on another node: exit 2, one line"
	else
		tap_fail "allreduce_bench --transport shm with a rank on another node" "exit $rc" \
			"$(tail -3 "$log")"
	fi
else
	tap_skip "tp_conform: shm does not reach a rank on another node" "cannot create a network namespace"
	tap_skip "allreduce_bench --transport shm with a rank on another node" "cannot create a network namespace"
fi

tap_done
