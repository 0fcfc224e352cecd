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
	expect2 "$b max time per size without a target" "without --target-ci" "$B" --max-time-per-size 3
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

# Values that once slipped through.
B=$BIN/allreduce_bench
mkfifo "$TMP/fifo"
expect2 "topology XML on a FIFO (would block)" "not a regular file" "$B" --topo-xml "$TMP/fifo"
expect2 "topology XML on /dev/zero (would grow without end)" "not a regular file" "$B" --topo-xml /dev/zero
expect2 "topology XML on /dev/stdin (a pipe)" "not a regular file" sh -c "echo x | '$B' --topo-xml /dev/stdin"
truncate -s 65M "$TMP/huge.xml"
expect2 "topology XML over 64 MiB" "more than the 64 MiB" "$B" --topo-xml "$TMP/huge.xml"
expect2 "topology XML that crashes hwloc" "crashes hwloc" \
	"$BIN/topo_map" --topo-xml "$RB_ROOT/tests/fuzz/regress/fuzz_topo/out-of-order-objects.xml"
expect2 "listening ports past 65535" "pass 65535" "$B" --tcp-port 65535 --tcp-streams 16
expect2 "listening ports past 65535, streams first" "pass 65535" "$B" --tcp-streams 16 --tcp-port 65535
expect2 "sweep of 1G sizes" "more than 4096" "$B" -i 1 -e 1G
expect2 "step of 0 bytes" "'0'" "$B" -i 0
expect2 "empty --net-if" "--net-if ''" "$B" --net-if ''
expect2 "infinite --expect-busbw" "'inf'" "$B" --expect-busbw inf
expect2 "NaN --expect-busbw" "'nan'" "$B" --expect-busbw nan
expect2 "-f with -i" "conflict" "$B" -f 4 -i 1K
expect2 "--results with --no-results" "conflict" "$B" --results "$TMP/r" --no-results
expect2 "run id leaving results/" "single name inside results/" "$B" --run-id ../x
expect2 "run id /" "single name inside results/" "$B" --run-id /
expect2 "run id .." "single name inside results/" "$B" --run-id ..
expect2 "run id with a newline" "control character" "$B" --run-id $'a\nsystem("touch marker")'
expect2 "run id from the environment with a newline" "RAILBENCH_RUN_ID" \
	env RAILBENCH_RUN_ID=$'x\ny' "$B"
expect2 "results path with a newline" "control character" "$B" --results $'d\nsystem("id")\n'
expect2 "results path with an escape" "control character" "$B" --results $'d\e[2J'
expect2 "invalid UTF-8 argument" "not valid UTF-8" "$B" --run-id $'caf\xe9'
expect2 "missing value, short" "option '-n' needs a value" "$B" -n
expect2 "missing value, long" "option '--iters' needs a value" "$B" --iters
expect2 "results directory that cannot be made (under mpiexec)" "cannot create results directory" \
	mpiexec -n 2 "$B" -b 8 -e 8 -w 0 -n 1 --no-plot --results /proc/railbench-results
[ ! -e marker ] && [ ! -e "$TMP/marker" ] && tap_ok "no marker file: nothing ran" ||
	tap_fail "a marker file appeared"

# A host name with a newline and invalid UTF-8 stays on its '#' line, and
# the JSON keeps command_line and meta.ranks.
out=$TMP/host.out
RAILBENCH_HOST=$'evil\nhost\xff' RAILBENCH_RUN_ID=badhost timeout 60 \
	mpiexec -n 2 "$B" -b 8 -e 64 -w 0 -n 1 --no-plot --results "$TMP/host" >"$out" 2>&1
json=$TMP/host/allreduce-shm-auto.json
if [ "$(grep -cv '^#\|^ ' "$out")" = 0 ] && grep -q '^#  rank  1 host evil?host? ' "$out" &&
	[ "$(jq -r '.meta.ranks[1].host' "$json")" = 'evil?host?' ] &&
	[ "$(jq -r '.meta.command_line | length > 0' "$json")" = true ]; then
	tap_ok "host name with a newline: every non-data line starts with '#', JSON complete"
else
	tap_fail "host name with a newline" "$(grep -v '^#' "$out" | head -3)" \
		"$(jq -c '.meta.ranks' "$json" 2>&1 | head -c 300)"
fi

# --help and --version succeed.
if "$BIN/allreduce_bench" --help | grep -q -- "--maxbytes" && "$BIN/allreduce_bench" --version | grep -q railbench; then
	tap_ok "--help lists options and aliases; --version prints"
else
	tap_fail "--help/--version"
fi
tap_done
