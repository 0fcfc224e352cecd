#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# RoCE transport in a Soft-RoCE (rdma_rxe) guest: prepares the guest kernel
# (scripts/vm/prepare.sh), boots it once, and inside runs perftest
# ib_write_bw as a control, tp_conform over roce (2 ranks, then the dead-peer
# case), and every collective benchmark over roce on 2, 3 and 4 ranks,
# checking exit status 0 and #wrong 0 in every data row. Uses the normal
# build ($BUILD, default build/). Env: RB_VM_RANKS ("2 3 4"),
# RB_VM_TIMEOUT (s for the whole guest, 600).
. "$(dirname "$0")/../lib.sh"

CASES="perftest conform_n2 conform_dead_peer"
RANKS=${RB_VM_RANKS:-2 3 4}
for coll in allreduce allgather alltoall; do
	for n in $RANKS; do
		CASES="$CASES ${coll}_n$n"
	done
done

describe() {
	case $1 in
	perftest) echo "perftest ib_write_bw on rxe0 (control)" ;;
	conform_n2) echo "tp_conform --transport roce, 2 ranks" ;;
	conform_dead_peer) echo "tp_conform --transport roce --kill-test: dead peer reported" ;;
	*) echo "${1%_n*}_bench --transport roce -c 1, ${1##*_n} ranks: exit 0, #wrong 0" ;;
	esac
}

skip_all() {
	for c in $CASES; do
		tap_skip "$(describe "$c")" "$1"
	done
	tap_done
}

[ "$(id -u)" = 0 ] || skip_all "needs root (guest shares the host's /)"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed"
[ -x "$BUILD/tests/progs/tp_conform" ] || skip_all "$BUILD/tests/progs/tp_conform not built"
prep_log=$(mktemp)
"$RB_ROOT/scripts/vm/prepare.sh" -q >"$prep_log" 2>&1
rc=$?
if [ "$rc" -eq 77 ]; then
	skip_all "$(tail -1 "$prep_log")"
elif [ "$rc" -ne 0 ]; then
	for c in $CASES; do
		tap_fail "$(describe "$c")" "guest preparation failed:" "$(tail -3 "$prep_log")"
	done
	rm -f "$prep_log"
	tap_done
fi
rm -f "$prep_log"

OUT=$(rb_tmpdir)
t0=$SECONDS
"$RB_ROOT/scripts/vm/run.sh" -v --timeout "${RB_VM_TIMEOUT:-600}" --rw "$OUT" \
	-- "$RB_ROOT/scripts/vm/guest-suite.sh" "$BUILD" "$OUT" $RANKS >"$OUT/guest.log" 2>&1
vm_rc=$?
echo "# guest finished in $((SECONDS - t0)) s with status $vm_rc"
grep '^run.sh:' "$OUT/guest.log" | sed 's/^/# /'

for c in $CASES; do
	st=$(awk -v c="$c" '$1 == c { print $2 }' "$OUT/results" 2>/dev/null | tail -1)
	secs=$(awk -v c="$c" '$1 == c { print $3 }' "$OUT/results" 2>/dev/null | tail -1)
	name=$(describe "$c")
	if [ -z "$st" ]; then
		tap_fail "$name" "did not run (guest status $vm_rc)" "$(tail -5 "$OUT/guest.log")"
	elif [ "$st" = 77 ]; then
		tap_skip "$name" "$(head -1 "$OUT/$c.log")"
	elif [ "$st" = 0 ]; then
		tap_ok "$name"
		echo "#   ${secs}s"
		[ "$c" = perftest ] && grep -A1 '#bytes' "$OUT/$c.log" | tail -1 | sed 's/^/#   /'
	else
		mapfile -t detail < <(tail -15 "$OUT/$c.log")
		tap_fail "$name" "exit status $st; last lines:" "${detail[@]}"
	fi
done
tap_done
