#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Bad input: exit status 2 and one line on stderr naming the bad value, for
# every binary, with and without mpiexec; never a crash or a hang.
. "$(dirname "$0")/../lib.sh"

TMP=$(rb_tmpdir)

# expect2 NAME PATTERN ARGS...: exit 2, exactly one stderr line matching
# PATTERN, nothing on stdout.
expect2() {
	local name=$1 pat=$2
	shift 2
	local out=$TMP/out err=$TMP/err rc
	timeout 60 "$@" >"$out" 2>"$err"
	rc=$?
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$err")" -eq 1 ] && grep -q -- "$pat" "$err" &&
		[ ! -s "$out" ]; then
		tap_ok "$name -> exit 2: $(cat "$err")"
	else
		tap_fail "$name" "exit $rc" "stderr: $(head -3 "$err")" "stdout: $(head -2 "$out")"
	fi
}

for b in allreduce allgather alltoall; do
	B=$BIN/${b}_bench
	expect2 "$b unknown transport" "carrier-pigeon" "$B" --transport carrier-pigeon
	expect2 "$b unknown dtype" "float128" "$B" -d float128
	expect2 "$b min > max" "larger than" "$B" -b 1M -e 1K
	expect2 "$b unparsable size" "12Q" "$B" -e 12Q
	expect2 "$b zero iterations" "'0'" "$B" -n 0
	expect2 "$b negative iterations" "'-4'" "$B" -n -4
	expect2 "$b negative warm-up" "'-1'" "$B" -w -1
	expect2 "$b unknown warm-up mode" "automatic" "$B" --warmup automatic
	expect2 "$b zero auto warm-up bound" "auto:0" "$B" --warmup auto:0
	expect2 "$b unknown statistic" "median" "$B" --stat median
	expect2 "$b zero CI target" "target-ci '0'" "$B" --target-ci 0
	expect2 "$b negative CI target" "target-ci '-5'" "$B" --target-ci -5
	expect2 "$b zero max time per size" "max-time-per-size '0'" "$B" --target-ci 5 --max-time-per-size 0
	expect2 "$b factor < 2" "'1'" "$B" -f 1
	expect2 "$b zero size" "'0'" "$B" -b 0
	expect2 "$b unknown option" "no-such" "$B" --no-such
done
expect2 "unknown op" "avg" "$BIN/allreduce_bench" -o avg
expect2 "unknown algorithm (under mpiexec, 2 ranks)" "bogus" mpiexec -n 2 "$BIN/allreduce_bench" --algo bogus --no-results
expect2 "algorithm of another collective" "pairwise" mpiexec -n 2 "$BIN/allreduce_bench" --algo pairwise --no-results
expect2 "native without a library backend" "native" mpiexec -n 2 "$BIN/alltoall_bench" --algo native --no-results
expect2 "no whole element fits (under mpiexec)" "need at least" mpiexec -n 4 "$BIN/alltoall_bench" -b 4 -e 8 --no-results
expect2 "bad option under mpiexec, 3 ranks" "12Q" mpiexec -n 3 "$BIN/allgather_bench" -e 12Q

# --help and --version succeed.
if "$BIN/allreduce_bench" --help | grep -q -- "--maxbytes" && "$BIN/allreduce_bench" --version | grep -q railbench; then
	tap_ok "--help lists options and aliases; --version prints"
else
	tap_fail "--help/--version"
fi
tap_done
