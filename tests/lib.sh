#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Shared helpers for shell tests: TAP output and common checks.
# Source it: . "$(dirname "$0")/../lib.sh"
set -u
RB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$RB_ROOT/$BUILD ;; esac
BIN=$BUILD/bin
_tap_n=0
_tap_fail=0

# ok NAME: one passing case.
tap_ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
# not_ok NAME [DETAIL...]: one failing case.
tap_fail() {
	_tap_n=$((_tap_n + 1)); _tap_fail=$((_tap_fail + 1))
	echo "not ok $_tap_n - $1"
	shift
	[ $# -gt 0 ] && printf '#   %s\n' "$@"
	return 0
}
# skip NAME WHY: a case that cannot run here (never counted as passed).
tap_skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP $2"; }
# check NAME CMD...: runs CMD, ok if it exits 0.
tap_check() {
	local name=$1
	shift
	if "$@"; then tap_ok "$name"; else tap_fail "$name" "command failed: $*"; fi
}
# Call last: exit status 1 if any case failed.
tap_done() { [ "$_tap_fail" -eq 0 ]; exit $?; }

# One temporary directory per test program, removed at exit. rb_tmpdir
# prints it (safe inside $(...)). Use rb_on_exit to add cleanup commands
# instead of replacing the EXIT trap.
RB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rbtest.XXXXXX")
_rb_exit_cmds="rm -rf '$RB_TMP'"
trap 'eval "$_rb_exit_cmds"' EXIT
rb_tmpdir() { echo "$RB_TMP"; }
# rb_on_exit CMD: run CMD (a string) at exit, before the earlier ones.
rb_on_exit() { _rb_exit_cmds="$1; $_rb_exit_cmds"; }

# rb_json_ops JSON: how many times the run of results file JSON ran its
# collective: the priming, and per record its warm-up, the timed
# iterations and the checked one (docs/statistics.md).
rb_json_ops() {
	jq '.meta as $m | [.records[] | .warmup_iters + (.iters // $m.iters) + (if $m.check then 1 else 0 end)]
		| add + ($m.priming.iters // 0)' "$1"
}

# rb_rows_correct LOG MIN: LOG holds at least MIN table rows and every one
# has #wrong 0 out-of-place and in-place (lines that start with a size;
# stderr lines mixed in are ignored).
rb_rows_correct() {
	awk -v min="$2" '/^ *[0-9]/ && NF >= 13 { rows++; if ($8 != "0" || $13 != "0") bad++ }
		END { exit !(rows >= min && bad == 0) }' "$1"
}

# rb_rank_wrapper PATH: writes a wrapper that runs its arguments and records
# the rank's own exit status in $RB_RC_DIR/rc.$PMI_RANK and the time it
# ended (ns since the epoch) in $RB_RC_DIR/t.$PMI_RANK, whatever the
# launcher does afterwards. Under -disable-auto-cleanup hydra signals
# SIGUSR1 to the survivors of a dead rank; the wrapper shell must outlive
# it to record the status (handlers reset at exec, so the benchmark itself
# is unaffected).
rb_rank_wrapper() {
	printf '%s\n' '#!/bin/sh' "trap ':' USR1" '"$@"' 'rc=$?' \
		'date +%s%N >"$RB_RC_DIR/t.$PMI_RANK"' \
		'echo "$rc" >"$RB_RC_DIR/rc.$PMI_RANK"' 'exit $rc' >"$1"
	chmod +x "$1"
}

# mpiexec with settings that work on a 2-core machine as root.
rb_mpiexec() {
	mpiexec -n "$@"
}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
