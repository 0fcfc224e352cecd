#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The Soft-RoCE guest itself (scripts/vm/run.sh): it boots and hands back a
# command's output and exit status with the default accelerator, also where
# /dev/kvm is hidden; a guest that never gets ready is stopped at the boot
# deadline and reported with its console lines instead of running to the
# whole-guest timeout; a bad RB_VM_ACCEL is a usage error.
. "$(dirname "$0")/../lib.sh"

RUN=$RB_ROOT/scripts/vm/run.sh
NAMES=("guest runs a command: output and exit status come back"
	"guest boots with /dev/kvm hidden"
	"guest that is not ready is stopped at the boot deadline, console shown"
	"bad RB_VM_ACCEL: exit 2 naming it")

skip_all() {
	for n in "${NAMES[@]}"; do
		tap_skip "$n" "$1"
	done
	tap_done
}

[ "$(id -u)" = 0 ] || skip_all "needs root (guest shares the host's /)"
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed"
prep_log=$(rb_tmpdir)/prepare.log
"$RB_ROOT/scripts/vm/prepare.sh" -q >"$prep_log" 2>&1
rc=$?
if [ "$rc" -eq 77 ]; then
	skip_all "$(tail -1 "$prep_log")"
elif [ "$rc" -ne 0 ]; then
	for n in "${NAMES[@]}"; do
		tap_fail "$n" "guest preparation failed:" "$(tail -3 "$prep_log")"
	done
	tap_done
fi
T=$(rb_tmpdir)

# 1. Default accelerator: a command's output and status come back.
t0=$SECONDS
out=$("$RUN" -v --timeout 120 -- sh -c 'echo guest-says-$((6 * 7)); exit 5' 2>"$T/err1")
rc=$?
if [ "$rc" = 5 ] && [ "$out" = guest-says-42 ]; then
	tap_ok "${NAMES[0]} ($((SECONDS - t0)) s)"
	grep '^run.sh:' "$T/err1" | sed 's/^/#   /'
else
	tap_fail "${NAMES[0]}" "status $rc, output '$out'" "$(tail -5 "$T/err1")"
fi

# 2. /dev/kvm hidden in a private mount namespace (a character device that
# is not KVM takes its place; where there is no /dev/kvm the guest runs as
# it always does here).
t0=$SECONDS
unshare -m bash -c '[ -e /dev/kvm ] && mount --bind /dev/null /dev/kvm
	exec "$0" -v --timeout 120 -- sh -c "echo no-kvm-ok"' "$RUN" >"$T/out2" 2>"$T/err2"
rc=$?
if [ "$rc" = 0 ] && [ "$(cat "$T/out2")" = no-kvm-ok ]; then
	tap_ok "${NAMES[1]} ($((SECONDS - t0)) s)"
	grep '^run.sh:' "$T/err2" | sed 's/^/#   /'
else
	tap_fail "${NAMES[1]}" "status $rc" "$(tail -5 "$T/err2")"
fi

# 3. A guest that stalls before it is ready (init's rbvm.stall): stopped at
# an 8 s boot deadline, far below the 300 s whole-guest timeout, with the
# console tail shown (on a loaded host the tail may end before init's own
# "stalling" line: the boot itself is slower than the deadline then).
t0=$SECONDS
RB_VM_KARGS="quiet rbvm.stall" RB_VM_BOOT_TIMEOUT=8 \
	"$RUN" --timeout 300 -- /bin/true >"$T/out3" 2>"$T/err3"
rc=$?
dt=$((SECONDS - t0))
if [ "$rc" = 96 ] && [ "$dt" -le 30 ] &&
	grep -q 'not ready within the 8s boot deadline' "$T/err3" &&
	grep -q '^run.sh:   .*[^ ]' "$T/err3"; then
	tap_ok "${NAMES[2]} (status 96 after $dt s)"
else
	tap_fail "${NAMES[2]}" "status $rc after $dt s" "$(tail -5 "$T/err3")"
fi

# 4. Bad accelerator name.
RB_VM_ACCEL=xen "$RUN" -- /bin/true >/dev/null 2>"$T/err4"
rc=$?
if [ "$rc" = 2 ] && grep -q "invalid RB_VM_ACCEL 'xen'" "$T/err4" &&
	[ "$(wc -l <"$T/err4")" -eq 1 ]; then
	tap_ok "${NAMES[3]}"
else
	tap_fail "${NAMES[3]}" "status $rc" "$(cat "$T/err4")"
fi
tap_done
