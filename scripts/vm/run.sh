#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs one command inside a throw-away QEMU guest that has a Soft-RoCE device
# (rxe0 on dummy0, 192.0.2.1). The host's / is visible read-only (writes go
# to a tmpfs overlay and vanish), the cwd is kept, so binaries built on the
# host run unchanged. The command's output and exit status come back.
#
# Usage: scripts/vm/run.sh [-v] [--timeout S] [--rw DIR]... [--env NAME=VAL]...
#                          [--] CMD [ARGS...]
#   --rw DIR        share DIR writable (results, logs)
#   --env NAME=VAL  export NAME=VAL for CMD
#   --timeout S     wall-clock limit for the whole guest (default 600)
#   -v              print boot timing and the console tail to stderr
# Env: RB_VM_DIR (prepared guest, default build/vm), RB_VM_MEM (MiB, 1536),
#      RB_VM_SMP (2), RB_VM_CPU (qemu64), RB_VM_KARGS (quiet), RB_VM_KEEP=1,
#      RB_VM_ACCEL (tcg | kvm, default tcg), RB_VM_BOOT_TIMEOUT (s until the
#      guest must be ready to run CMD, default 60).
# Exit: CMD's status; 124 when the guest ran past the timeout; 96 when it
# was not ready within the boot deadline (the console tail is printed); 99
# when no status came back; 77 when the guest is not prepared; 2 on bad
# usage.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VM_DIR=${RB_VM_DIR:-$ROOT/build/vm}
TIMEOUT=${RB_VM_TIMEOUT:-600}
VERBOSE=0
RW=()
ENVS=()
while [ $# -gt 0 ]; do
	case $1 in
	--rw) RW+=("$(readlink -f "$2")"); shift 2 ;;
	--env) ENVS+=("$2"); shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	-v) VERBOSE=1; shift ;;
	--) shift; break ;;
	-*) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: run.sh [--rw DIR]... -- CMD [ARGS...]" >&2; exit 2; }
if [ ! -s "$VM_DIR/vmlinux" ] || [ ! -s "$VM_DIR/initrd.cpio" ]; then
	echo "run.sh: guest not prepared in $VM_DIR (run scripts/vm/prepare.sh)" >&2
	exit 77
fi

X=$(mktemp -d "$VM_DIR/xchg.XXXXXX")
{
	printf 'cd %q || exit 98\n' "$PWD"
	printf 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root\n'
	for e in "${ENVS[@]}"; do
		printf 'export %q\n' "$e"
	done
	printf '%q ' "$@"
	echo
} >"$X/cmd.sh"

args=()
rwlist=
i=0
for d in "${RW[@]}"; do
	args+=(-virtfs "local,path=$d,mount_tag=rw$i,security_model=none")
	rwlist=$rwlist${rwlist:+:}$d
	i=$((i + 1))
done
# Accelerator: TCG unless RB_VM_ACCEL=kvm. Under KVM this Debian guest
# kernel has been seen to stall in early boot on some hosts that do have
# /dev/kvm (spinning on a lock cmpxchg16b, with -cpu qemu64 and -cpu host
# alike), and a probe costs a whole boot deadline where it hangs. TCG boots
# the same guest everywhere in a few seconds, and the tests assert no speed.
# -cpu qemu64: rxe is about twice as fast as with -cpu max under TCG. No
# NIC at all: the only network is dummy0 and lo inside the guest.
ACCEL=${RB_VM_ACCEL:-tcg}
case $ACCEL in
tcg) accel=(-accel tcg,thread=multi) ;;
kvm)
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "run.sh: RB_VM_ACCEL=kvm but /dev/kvm is not usable here" >&2
		rm -rf "$X"
		exit 2
	fi
	accel=(-accel kvm)
	;;
*)
	echo "run.sh: invalid RB_VM_ACCEL '$ACCEL': expected tcg or kvm" >&2
	rm -rf "$X"
	exit 2
	;;
esac
BOOT_TIMEOUT=${RB_VM_BOOT_TIMEOUT:-60}
t0=$(date +%s.%N)
timeout --foreground -k 5 "$TIMEOUT" qemu-system-x86_64 \
	"${accel[@]}" -cpu "${RB_VM_CPU:-qemu64}" \
	-smp "${RB_VM_SMP:-2}" -m "${RB_VM_MEM:-1536}" \
	-kernel "$VM_DIR/vmlinux" -initrd "$VM_DIR/initrd.cpio" \
	-append "console=ttyS0 ${RB_VM_KARGS:-quiet} panic=-1 xchg=$X${rwlist:+ rw=$rwlist}" \
	-nographic -monitor none -serial stdio -nic none -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$X,mount_tag=xchg,security_model=none" \
	"${args[@]}" </dev/null >"$X/console.log" 2>&1 &
qpid=$!
# The guest's init writes t_ready just before it starts CMD. A guest that
# is not ready by the boot deadline is stopped at once: a hang in early
# boot must not burn the whole --timeout.
not_ready=0
while kill -0 "$qpid" 2>/dev/null && [ ! -e "$X/t_ready" ]; do
	if awk -v a="$t0" -v b="$(date +%s.%N)" -v m="$BOOT_TIMEOUT" \
		'BEGIN { exit !(b - a > m) }'; then
		not_ready=1
		kill "$qpid" 2>/dev/null
		break
	fi
	sleep 0.2
done
t_boot=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
wait "$qpid"
qs=$?
t1=$(date +%s.%N)
cat "$X/output.log" 2>/dev/null
if [ -f "$X/rc" ]; then
	rc=$(cat "$X/rc")
elif [ "$not_ready" = 1 ]; then
	echo "run.sh: guest ($ACCEL) not ready within the ${BOOT_TIMEOUT}s boot deadline and was stopped; last console lines:" >&2
	tr -d '\r' <"$X/console.log" | sed 's/qemu-system-x86_64: terminating on signal.*//' |
		tail -15 | sed 's/^/run.sh:   /' >&2
	rc=96
elif [ "$qs" -eq 124 ] || [ "$qs" -eq 137 ]; then
	echo "run.sh: guest ran past ${TIMEOUT}s and was stopped" >&2
	rc=124
else
	echo "run.sh: no exit status from the guest (qemu status $qs)" >&2
	rc=99
fi
if [ "$VERBOSE" = 1 ] || [ "$rc" = 99 ]; then
	ready=$(cat "$X/t_ready" 2>/dev/null || echo '?')
	echo "run.sh: guest ($ACCEL) ready at ${ready}s uptime, ${t_boot}s after qemu started; qemu wall $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")s" >&2
	[ "$rc" = 99 ] && tr -d '\r' <"$X/console.log" | tail -30 >&2
fi
if [ -n "${RB_VM_KEEP:-}" ]; then
	echo "run.sh: kept $X" >&2
else
	rm -rf "$X"
fi
exit "$rc"
