#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The tcp transport under valgrind's memcheck: a small all-reduce and the
# transport conformance program on 2 loopback ranks. Valgrind does not know
# epoll_pwait2 (it answers ENOSYS), so this also runs the epoll_wait
# fallback. Any memcheck error fails the case (--error-exitcode, and any
# report line other than valgrind's own WARNINGs).
. "$(dirname "$0")/../lib.sh"

if ! command -v valgrind >/dev/null 2>&1; then
	echo "# SKIP: valgrind not installed (scripts/install-deps.sh installs it)"
	exit 77
fi
for p in mpiexec "$BIN/allreduce_bench" "$BUILD/tests/progs/tp_conform"; do
	if ! command -v "$p" >/dev/null 2>&1 && [ ! -x "$p" ]; then
		echo "# SKIP: $p not found"
		exit 77
	fi
done
TMP=$(rb_tmpdir)
VG=(valgrind -q --error-exitcode=99 --track-fds=no)

# vg_case NAME LOG: ok when the run exited 0 and memcheck said nothing.
vg_case() {
	local name=$1 log=$2 rc=$3
	if [ "$rc" -eq 0 ] && ! grep -E '^==[0-9]+== [A-Z]' "$log" | grep -qv WARNING; then
		tap_ok "$name"
	else
		tap_fail "$name" "exit $rc" "$(grep -m5 -E '^==[0-9]+==|error' "$log")"
	fi
}

log=$TMP/allreduce.log
timeout -k 5 300 mpiexec -n 2 "${VG[@]}" "$BIN/allreduce_bench" --transport tcp \
	-b 8 -e 1M -f 16 -n 2 -w 1 --no-results -T 60 >"$log" 2>&1
vg_case "valgrind: tcp all-reduce 8 B-1 MiB, 2 ranks" "$log" $?
if rb_rows_correct "$log" 5; then
	tap_ok "valgrind: all-reduce rows checked, #wrong 0"
else
	tap_fail "valgrind: all-reduce rows checked, #wrong 0" "$(grep -v '^#' "$log" | head -5)"
fi
if grep -q 'unhandled amd64-linux syscall: 441' "$log"; then
	tap_ok "valgrind: epoll_pwait2 refused (ENOSYS), epoll_wait used"
else
	tap_skip "valgrind: epoll_pwait2 fallback" "this valgrind knows epoll_pwait2"
fi

# The build-time fallback: tcp.c as for a C library without epoll_pwait2
# (glibc < 2.35) still compiles cleanly, with the project's flags.
if ${CC:-cc} -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -DRB_TCP_NO_PWAIT2 \
	-I"$RB_ROOT" -fsyntax-only "$RB_ROOT/transports/tcp.c" >"$TMP/cc.log" 2>&1; then
	tap_ok "tcp builds without epoll_pwait2 (RB_TCP_NO_PWAIT2)"
else
	tap_fail "tcp builds without epoll_pwait2" "$(head -5 "$TMP/cc.log")"
fi

log=$TMP/conform.log
timeout -k 5 300 mpiexec -n 2 "${VG[@]}" "$BUILD/tests/progs/tp_conform" \
	--transport tcp --timeout 60000 >"$log" 2>&1
rc=$?
vg_case "valgrind: tcp conformance, 2 ranks" "$log" "$rc"
if grep -qE '^not ok' "$log" || ! grep -qE '^ok [0-9]+ - ' "$log"; then
	tap_fail "valgrind: conformance cases pass" "$(grep -E '^not ok' "$log" | head -3)"
else
	tap_ok "valgrind: conformance cases pass ($(grep -cE '^ok [0-9]+ - ' "$log"))"
fi
tap_done
