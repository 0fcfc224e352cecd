#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# One rank of four stopped (SIGSTOP) or killed (kill -9) in the middle of a
# sweep, over shm, over the MPI library (--transport mpi) and over tcp
# across two simulated nodes (two ranks each; root only), with hydra's
# clean-up on and off (-disable-auto-cleanup, as under Slurm without
# --kill-on-bad-exit).
#   clean-up off: every other rank ends by itself with exit status 3 within
#     -T + 5 s, and rank 0 names the culprit in its verdict and its JSON;
#   clean-up on: hydra ends the job within the same bound; the ranks that
#     end by themselves end with 3;
#   always: the JSON says complete: false and no verdict says PASS.
# RB_FAULT_RUNS (default 1) repeats every case; scripts/bench-faults.sh
# runs it 10 times and prints the counts. RB_FAULT_WRAP=0 launches the
# ranks without the status-recording wrapper, as users do, to see what
# mpiexec itself returns (the per-rank rules are then not checked).
# RB_FAULT_TPS picks the transports (default "shm mpi tcp"), RB_FAULT_ONLY
# one case ("mpi STOP on 2": transport, signal, clean-up, victim).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_simcluster.sh"

if ! command -v mpiexec >/dev/null || ! command -v jq >/dev/null; then
	tap_skip "fault injection" "needs mpiexec and jq"
	tap_done
fi
T=3			# -T, seconds
BOUND=$((T + 5))	# every survivor ends within this after the fault
RUNS=${RB_FAULT_RUNS:-1}
WRAP=${RB_FAULT_WRAP:-1}
TMP=$(rb_tmpdir)
rb_rank_wrapper "$TMP/wrap"
LAUNCH=$TMP/wrap
[ "$WRAP" = 0 ] && LAUNCH=env

# Seconds from ns stamp A to the stamp in file F, one decimal.
since() { awk -v a="$1" -v b="$(cat "$2" 2>/dev/null || echo 0)" \
	'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# Rows of the CSV results in DIR so far.
rows_in() {
	local f n=0
	for f in "$1"/*.csv; do
		[ -f "$f" ] && n=$(tail -n +2 "$f" | grep -c .)
	done
	echo "${n:-0}"
}

# fault_run TP SIG CLEANUP VICTIM DIR: a 4-rank all-reduce sweep; once a
# row is on disk, signal SIG to rank VICTIM; wait for the others (or for
# the launcher) at most BOUND + 5 s, then end the stopped rank, which would
# otherwise hold the launcher forever. Leaves out, err, rc.R, t.R (the
# wrapper's), t.fault and mpiexec.rc in DIR.
fault_run() {
	local tp=$1 sig=$2 cl=$3 v=$4 d=$5 opt=() iters=2000 mp pid i n r
	local launcher=(mpiexec) tpopt=(--transport "$tp")
	mkdir -p "$d"
	[ "$cl" = off ] && opt=(-disable-auto-cleanup)
	[ "$tp" = mpi ] && iters=200	# MPI's progress is slower on 2 cores
	if [ "$tp" = tcp ]; then
		launcher=("$SIMCLUSTER" mpiexec)
		opt+=(-ppn 2)
		tpopt+=(--net-if rail0)
		iters=200
	fi
	timeout -k 5 120 "${launcher[@]}" "${opt[@]}" -genv RB_RC_DIR "$d" -n 4 \
		"$LAUNCH" "$BIN/allreduce_bench" "${tpopt[@]}" -T $T \
		-b 8 -e 1M -n $iters -w 0 --results "$d/res" --no-plot \
		>"$d/out" 2>"$d/err" &
	mp=$!
	for ((i = 0; i < 1200; i++)); do
		[ "$(rows_in "$d/res")" -ge 1 ] && break
		kill -0 "$mp" 2>/dev/null || break
		sleep 0.05
	done
	pid=$(jq -r ".meta.ranks[$v].pid" "$d"/res/*.json 2>/dev/null)
	date +%s%N >"$d/t.fault"
	[ -n "$pid" ] && kill -"$sig" "$pid"
	for ((i = 0; i < (BOUND + 5) * 10; i++)); do
		n=0
		for r in 0 1 2 3; do
			[ "$r" != "$v" ] && [ -s "$d/rc.$r" ] && n=$((n + 1))
		done
		[ "$n" -ge 3 ] && break
		kill -0 "$mp" 2>/dev/null || break
		sleep 0.1
	done
	[ "$sig" = STOP ] && [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	wait "$mp"
	echo $? >"$d/mpiexec.rc"
	date +%s%N >"$d/t.end"
}

# check_run TP SIG CLEANUP VICTIM DIR: prints nothing when the run met every
# rule, else one line per rule broken. Sets SLOWEST (s) and NAMED (the
# survivors whose messages name the victim).
check_run() {
	local tp=$1 sig=$2 cl=$3 v=$4 d=$5 t0 r dt json verdict
	t0=$(cat "$d/t.fault")
	SLOWEST=0 NAMED=0
	json=$(echo "$d"/res/*.json)
	if [ ! -f "$json" ]; then
		echo "no results file: $(tail -2 "$d/err")"
		return
	fi
	for r in 0 1 2 3; do
		[ "$r" = "$v" ] && continue
		grep -Eq "^\[[^]]*:$r\] error: .*rank $v( |\))" "$d/err" && NAMED=$((NAMED + 1))
		if [ ! -s "$d/rc.$r" ]; then
			[ "$cl" = off ] && [ "$WRAP" = 1 ] &&
				echo "rank $r recorded no exit status"
			continue
		fi
		[ "$(cat "$d/rc.$r")" = 3 ] || echo "rank $r exited $(cat "$d/rc.$r"), not 3"
		dt=$(since "$t0" "$d/t.$r")
		awk -v d="$dt" -v b="$BOUND" 'BEGIN { exit !(d <= b) }' ||
			echo "rank $r ended ${dt}s after the fault (bound ${BOUND}s)"
		SLOWEST=$(awk -v a="$SLOWEST" -v b="$dt" 'BEGIN { print (b > a) ? b : a }')
	done
	if [ "$cl" = on ]; then
		dt=$(since "$t0" "$d/t.end")
		awk -v d="$dt" -v b="$((BOUND + 1))" 'BEGIN { exit !(d <= b) }' ||
			echo "the job ended ${dt}s after the fault (bound ${BOUND}s)"
		SLOWEST=$(awk -v a="$SLOWEST" -v b="$dt" 'BEGIN { print (b > a) ? b : a }')
	fi
	[ "$(jq .summary.complete "$json")" = false ] ||
		echo "JSON summary.complete is $(jq .summary.complete "$json")"
	grep -q '^# Verdict: PASS' "$d/out" && echo "the verdict says PASS"
	verdict=$(grep '^# Verdict:' "$d/out")
	# Rank 0 closes the report unless it is the victim or hydra killed it.
	if [ "$v" != 0 ] && { [ "$cl" = off ] || [ -n "$verdict" ]; }; then
		case $verdict in
		"# Verdict: FAIL (runtime): "*) ;;
		*) echo "verdict line '$verdict'" ;;
		esac
		# With clean-up on, hydra may kill rank 0 between its verdict
		# and its last write: the JSON then stays as after the last row.
		if [ "$cl" = off ] || [ "$(jq '.summary | has("failure")' "$json")" = true ]; then
			[ "$tp" = tcp ] || [ "$(jq .summary.failure.peer "$json")" = "$v" ] ||
				echo "JSON summary.failure.peer is $(jq -c .summary.failure "$json"), not $v"
			[ "$(jq '.summary.failure.peer | type' "$json")" = '"number"' ] ||
				echo "JSON summary.failure names no peer: $(jq -c .summary.failure "$json")"
		fi
		grep -q 'Out of bounds values : 0 OK in the [0-9]* rows checked before the failure' "$d/out" ||
			echo "#wrong line: $(grep 'Out of bounds' "$d/out")"
	fi
	# With clean-up off every survivor runs its course: rank 0's message
	# (or, when rank 0 is the victim, a survivor's) names the victim. A
	# survivor that timed out on another survivor blames that one: NAMED
	# counts them, printed per case. Over tcp a survivor that has already
	# left closes its sockets, and a rank that sees that first blames it:
	# until the ranks agree on the root cause, the name is only counted
	# there.
	if [ "$cl" = off ] && [ "$tp" != tcp ]; then
		if [ "$v" = 0 ]; then
			[ "$NAMED" -ge 1 ] || echo "no survivor names rank 0"
		else
			grep -Eq "^\[[^]]*:0\] error: .*rank $v( |\))" "$d/err" ||
				echo "rank 0 does not name rank $v: $(grep -m1 ':0\] error' "$d/err")"
		fi
	fi
}

# fault_case TP SIG CLEANUP VICTIM: RUNS runs, one TAP line.
fault_case() {
	local tp=$1 sig=$2 cl=$3 v=$4 name k bad ok=0 worst=0 named="" codes=""
	[ -n "${RB_FAULT_ONLY:-}" ] && [ "$RB_FAULT_ONLY" != "$*" ] && return
	name="$tp: SIG$sig of rank $v of 4, clean-up $cl"
	for ((k = 1; k <= RUNS; k++)); do
		local d=$TMP/$tp-$sig-$cl-$v-$k
		fault_run "$tp" "$sig" "$cl" "$v" "$d"
		bad=$(check_run "$tp" "$sig" "$cl" "$v" "$d")
		check_run "$tp" "$sig" "$cl" "$v" "$d" >/dev/null
		worst=$(awk -v a="$worst" -v b="$SLOWEST" 'BEGIN { print (b > a) ? b : a }')
		named="$named $NAMED"
		codes="$codes $(cat "$d/mpiexec.rc")"
		if [ -z "$bad" ]; then
			ok=$((ok + 1))
		else
			echo "# run $k: ${bad//$'\n'/; }"
			echo "#   $(grep -m3 error "$d/err" | tr '\n' '|')"
		fi
	done
	echo "# $name: survivors naming rank $v per run:$named; mpiexec exit status per run:$codes"
	if [ "$ok" -eq "$RUNS" ]; then
		tap_ok "$name: $ok of $RUNS runs met every rule, slowest ${worst}s after the fault (bound ${BOUND}s)"
	else
		tap_fail "$name: $ok of $RUNS runs met every rule"
	fi
}

tps=${RB_FAULT_TPS:-shm mpi tcp}
if [[ " $tps " == *" tcp "* ]]; then
	sc_down
	if sc_can_run && "$SIMCLUSTER" up -n 2 -r 1 >/dev/null 2>&1; then
		rb_on_exit sc_down
	else
		sc_down
		tps=${tps//tcp/}
		tap_skip "tcp across simulated nodes" "needs root and iproute2 for network namespaces"
	fi
fi
for tp in $tps; do
	for sig in STOP KILL; do
		for cl in off on; do
			fault_case "$tp" "$sig" "$cl" 2
		done
	done
done
# Rank 0 is the victim: the others name it and end by themselves.
[[ " $tps " == *" shm "* ]] && fault_case shm STOP off 0
tap_done
