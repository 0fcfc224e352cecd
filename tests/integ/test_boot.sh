#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The bootstrap's exchanges between sizes are bounded by -T
# (tests/progs/boot_check): every exchange kind gives the values each rank
# computes independently; a rank that stalls or dies before an exchange is
# named by rank 0 within the timeout, and every surviving rank leaves on its
# own with exit code 3, with launcher clean-up off (as Slurm without
# --kill-on-bad-exit), so nothing relies on MPI_Abort.
. "$(dirname "$0")/../lib.sh"

PROG=$BUILD/tests/progs/boot_check
if [ ! -x "$PROG" ] || ! command -v mpiexec >/dev/null; then
	echo "# SKIP: $PROG or mpiexec missing"
	exit 77
fi
T=2
D=$(rb_tmpdir)
# Records each rank's own exit status. Hydra signals SIGUSR1 to the
# survivors of a failed rank; the shell must outlive it.
printf '%s\n' '#!/bin/sh' "trap ':' USR1" '"$@"' 'rc=$?' \
	'echo "$rc" >"$RC_DIR/rc.$PMI_RANK"' 'exit $rc' >"$D/rankwrap"
chmod +x "$D/rankwrap"

for n in 1 2 5; do
	out=$(timeout -k 5 60 mpiexec -n $n "$PROG" -T 10 2>&1)
	rc=$?
	good=$(grep -c 'all exchanges correct' <<<"$out")
	if [ "$rc" = 0 ] && [ "$good" = "$n" ]; then
		tap_ok "$n ranks: allgather, max, sum, bcast from the last rank, barrier are right"
	else
		tap_fail "$n ranks: exchanges" "exit $rc, $good of $n correct" "$(tail -5 <<<"$out")"
	fi
done

# fault NAME NRANKS ARGS...: runs boot_check with a fault; sets LOG, SECS and
# RC_DIR (rc.<rank> files).
fault() {
	local name=$1 n=$2 t0
	shift 2
	RC_DIR=$D/$name LOG=$D/$name.log
	mkdir -p "$RC_DIR"
	t0=$(date +%s%N)
	RC_DIR=$RC_DIR timeout -k 5 60 mpiexec -disable-auto-cleanup -genv RC_DIR "$RC_DIR" \
		-n "$n" "$D/rankwrap" "$PROG" -T $T "$@" >"$LOG" 2>&1
	SECS=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
}

# expect_rc NAME RANKS... : each rank recorded exit 3.
expect_rc() {
	local name=$1 r bad=
	shift
	for r in "$@"; do
		[ "$(cat "$RC_DIR/rc.$r" 2>/dev/null)" = 3 ] || bad="$bad rank $r: '$(cat "$RC_DIR/rc.$r" 2>/dev/null)'"
	done
	if [ -z "$bad" ]; then
		tap_ok "$name: ranks $* exit 3 by themselves"
	else
		tap_fail "$name: survivors exit 3" "$bad" "$(tail -5 "$LOG")"
	fi
}

within() { awk -v d="$SECS" -v m="$2" 'BEGIN { exit !(d <= m) }' && tap_ok "$1 (${SECS}s)" ||
	tap_fail "$1" "took ${SECS}s, bound ${2}s"; }

# A stalled rank 2 of 3: rank 0 names it after T; rank 1 learns from rank 0.
fault stall2 3 --stall 2 --stall-s 30
expect_rc "rank 2 stalls" 0 1
if grep -q "\[.*:0\] error: rank 2 (host .*, test peer 2) did not reach the test allgather exchange within 2000 ms" "$LOG" &&
	grep -q "\[.*:1\] error: rank 0 ended the test allgather exchange: rank 2 .* did not arrive" "$LOG"; then
	tap_ok "rank 2 stalls: rank 0 names it, rank 1 repeats the name"
else
	tap_fail "rank 2 stalls: named" "$(grep error "$LOG" | head -3)"
fi
# rank 2 itself wakes from its sleep when hydra signals the failure.
within "rank 2 stalls: the job ends within 3 x the timeout" $((3 * T + 4))

# A stalled rank 0: the others name it after twice the timeout.
fault stall0 3 --stall 0 --stall-s 30
expect_rc "rank 0 stalls" 1 2
if [ "$(grep -c 'error: rank 0 (host .*, test peer 0) did not answer the test allgather exchange within 4000 ms' "$LOG")" = 2 ]; then
	tap_ok "rank 0 stalls: ranks 1 and 2 name it"
else
	tap_fail "rank 0 stalls: named" "$(grep error "$LOG" | head -3)"
fi

# A rank that dies (exit 9, no MPI_Finalize) before an exchange.
fault die1 4 --die 1
expect_rc "rank 1 dies" 0 2 3
if grep -q "error: rank 1 (host .*, test peer 1) did not reach the test allgather exchange" "$LOG"; then
	tap_ok "rank 1 dies: rank 0 names it"
else
	tap_fail "rank 1 dies: named" "$(grep error "$LOG" | head -3)"
fi
within "rank 1 dies: the job ends within the timeout" $((T + 4))
tap_done
