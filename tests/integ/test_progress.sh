#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The progress line (docs/results.md, "Progress line"): on stderr when it
# is a terminal (a pseudo-terminal from script(1)) or with --progress on,
# never on stdout, which stays the same table; erased at the end; bad
# values of --progress are refused with exit 2.
. "$(dirname "$0")/../lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rbprogress.XXXXXX") || exit 3
trap 'rm -rf "$tmp"' EXIT
B=$BIN/allreduce_bench
ARGS=(-b 8 -e 64K -f 8 -n 3 -w 1 --no-results)
# Sizes of that sweep: 8, 64, 512, 4096, 32768.
N=5

if ! command -v script >/dev/null 2>&1; then
	tap_skip "progress on a terminal" "script(1) (bsdutils) not installed"
else
	# stdout to a file, stderr the pseudo-terminal that script records.
	script -qec "$(printf '%q ' "$B" "${ARGS[@]}") >$tmp/out" "$tmp/tty" >/dev/null 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && grep -aq "allreduce: size 4096 B (4 of $N), about [0-9]* s left" "$tmp/tty" &&
		grep -aq "allreduce: size 8 B (1 of $N), estimating the time left" "$tmp/tty"; then
		tap_ok "stderr a terminal: the line names the collective, size, its rank in the sweep and the time left"
	else
		tap_fail "stderr a terminal: progress line" "exit $rc" "$(tr '\r' '\n' <"$tmp/tty" | head -5)"
	fi
	if ! grep -aq $'\r' "$tmp/out" && ! grep -aq "left" "$tmp/out" &&
		[ "$(grep -c '^  ' "$tmp/out")" -eq "$N" ]; then
		tap_ok "stdout unchanged: the $N table rows, no progress text"
	else
		tap_fail "stdout unchanged" "$(head -3 "$tmp/out")"
	fi
	# Erased at the end: the last thing written is carriage return, erase.
	if [ "$(tail -c 200 "$tmp/tty" | tr -d '\n' | grep -ao $'\r\e\[K' | wc -l)" -ge 1 ]; then
		tap_ok "the line is erased when the sweep ends"
	else
		tap_fail "the line is erased when the sweep ends"
	fi
	script -qec "$(printf '%q ' "$B" "${ARGS[@]}" --progress off) >$tmp/out" "$tmp/tty2" >/dev/null 2>&1
	if ! grep -aq "left" "$tmp/tty2"; then
		tap_ok "--progress off: nothing on the terminal"
	else
		tap_fail "--progress off: nothing on the terminal"
	fi
fi

"$B" "${ARGS[@]}" >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 0 ] && ! [ -s "$tmp/err" ]; then
	tap_ok "stderr not a terminal: no progress line (auto)"
else
	tap_fail "stderr not a terminal: no progress line" "$(head -3 "$tmp/err")"
fi
rb_mpiexec 2 "$B" "${ARGS[@]}" --progress on >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 0 ] && grep -aq "allreduce: size 32768 B ($N of $N)" "$tmp/err" &&
	! grep -aq "left" "$tmp/out"; then
	tap_ok "--progress on under mpiexec: the line reaches stderr through the launcher"
else
	tap_fail "--progress on under mpiexec" "$(head -3 "$tmp/err")"
fi
"$B" "${ARGS[@]}" --progress sometimes >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "progress 'sometimes'" "$tmp/err"; then
	tap_ok "--progress sometimes -> exit 2: $(cat "$tmp/err")"
else
	tap_fail "--progress sometimes -> exit 2" "exit $rc" "$(cat "$tmp/err")"
fi
tap_done
