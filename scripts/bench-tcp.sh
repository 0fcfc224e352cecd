#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark, not a test: the tcp transport on a simulated 2-node x 1-rail
# cluster against the references that matter on the same rail: iperf3
# --bidir (both directions at once, as an all-reduce sends and receives at
# once: its per-direction rate is the reference; one stream is printed for
# information) and MPICH's MPI_Allreduce over UCX TCP (railbench --transport
# mpi with UCX_TLS=tcp,self UCX_NET_DEVICES=rail0). One rank per node. Every
# repetition runs each contender once, alternating, so that they share the
# background load; the summary shows medians over repetitions (times are
# each run's median iteration), the median of the paired per-repetition
# ratios with min and max, whether each goal is met, and the CPU time of
# the ranks (where the time goes on a CPU-bound box).
#
# usage: scripts/bench-tcp.sh [-r REPS] [-s STREAMS] [-c 0|1]
#   -r REPS      repetitions of every measurement (default 5)
#   -s STREAMS   --tcp-streams for railbench (default 1)
#   -c 0|1       data check in railbench runs (default 1)
# Env: BUILD (default build), TIMEOUT (s per run, default 120),
#      GOAL_BW_VS_MPI (1.4), GOAL_BW_VS_IPERF (0.9), GOAL_LAT_VS_MPI (1.0).
set -u
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
BUILD=${BUILD:-build}
TIMEOUT=${TIMEOUT:-120}
BENCH=$BUILD/bin/allreduce_bench
GOAL_BW_VS_MPI=${GOAL_BW_VS_MPI:-1.4}
GOAL_BW_VS_IPERF=${GOAL_BW_VS_IPERF:-0.9}
GOAL_LAT_VS_MPI=${GOAL_LAT_VS_MPI:-1.0}
REPS=5 STREAMS=1 CHECK=1
LARGE=$((64 * 1024 * 1024))
SC=scripts/simcluster
export SIMCLUSTER_PREFIX=rbb$$ SIMCLUSTER_MGMT=10.199.$((162 + $$ % 90))

usage() {
	sed -n 's/^# \{0,1\}//; 15,20p' "$0" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	-r) REPS=${2:-}; shift 2 ;;
	-s) STREAMS=${2:-}; shift 2 ;;
	-c) CHECK=${2:-}; shift 2 ;;
	*) usage ;;
	esac
done
bl_count_arg bench-tcp -r "$REPS"
bl_count_arg bench-tcp -s "$STREAMS"
case $CHECK in 0 | 1) ;; *) echo "bench-tcp: invalid -c '$CHECK'" >&2; exit 2 ;; esac
bl_sim_init bench-tcp
for t in "$BENCH" /usr/bin/time; do
	[ -x "$t" ] || { echo "bench-tcp: $t not found (make BUILD=$BUILD; scripts/install-deps.sh)" >&2; exit 2; }
done
bl_need bench-tcp iperf3 jq
"$SC" up -n 2 -r 1 >/dev/null || exit 3

# run_bench TAG SIZE ITERS TRANSPORT_ARGS...: one run; appends
# "time_p50_us busbw_gbps" to $TMP/TAG ("nan nan" when it failed, so that
# repetitions stay paired) and "user sys wall ops" of each rank to
# $TMP/TAG.cpu (ops: collectives the rank ran: priming, warm-up, timed and
# check).
run_bench() {
	local tag=$1 size=$2 iters=$3 log res rc csv warm
	shift 3
	log=$TMP/$tag.$RANDOM.log
	res=$log.res
	timeout -k 5 "$TIMEOUT" "$SC" mpiexec -ppn 1 -n 2 "$@" \
		/usr/bin/time -f '# cpu %U %S %e' \
		"$BENCH" -b "$size" -e "$size" -n "$iters" -c "$CHECK" \
		--placement out-of-place --results "$res" --no-plot -T 30 "${BARGS[@]}" >"$log" 2>&1
	rc=$?
	csv=$(ls "$res"/allreduce-*.csv 2>/dev/null | head -1)
	if [ "$rc" -ne 0 ] || [ -z "$csv" ] ||
		! bl_rows "$log" | awk '$4 != 0 { bad = 1 } END { exit bad || !NR }'; then
		echo "bench-tcp: $tag run failed (exit $rc); last lines:" >&2
		tail -5 "$log" >&2
		echo "nan nan" >>"$TMP/$tag"
		return 1
	fi
	paste -d' ' <(bl_csv_col "$csv" time_p50_us) <(bl_csv_col "$csv" busbw_gbps) >>"$TMP/$tag"
	warm=$(jq '.records[0].warmup_iters + (.meta.priming.iters // 0)' "${csv%.csv}.json" 2>/dev/null)
	[[ $warm =~ ^[0-9]+$ ]] || warm=0
	# Both ranks write to one log: skip a line that the other rank's output
	# broke into.
	awk -v ops=$((iters + warm + CHECK)) '/^# cpu/ && NF == 5 && $3 $4 $5 ~ /^[0-9.]+$/ {
		print $3, $4, $5, ops }' "$log" >>"$TMP/$tag.cpu"
}

tcp_run() { BARGS=(--transport tcp --net-if rail0 --tcp-streams "$STREAMS"); run_bench "$@"; }
mpi_run() { BARGS=(--transport mpi); run_bench "$@" -genv UCX_TLS tcp,self -genv UCX_NET_DEVICES rail0; }

# iperf_run TAG BIDIR: appends Gbit/s (BIDIR 1: per direction) to $TMP/TAG.
iperf_run() {
	bl_iperf "$TMP/$1" "$2" || echo "bench-tcp: iperf3 run failed" >&2
}

bl_iperf_server
echo "# bench-tcp: 2 simulated nodes x 1 rail, 1 rank per node, $REPS repetitions, tcp streams $STREAMS"
echo "# $(nproc) CPUs, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= REPS; r++)); do
	echo "# repetition $r/$REPS"
	iperf_run iperf1 0
	iperf_run iperf2 1
	tcp_run tcp_large $LARGE 5
	mpi_run mpi_large $LARGE 5
	tcp_run tcp_small 8 2000
	mpi_run mpi_small 8 2000
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

col() { [ -f "$TMP/$1" ] && awk -v c="$2" '{ print $c }' "$TMP/$1"; }
med() { bl_fmt "$(col "$1" "$2" | bl_median)"; }
runs() { col "$1" "$2" | bl_list; }
# GB/s columns of the references, one line per repetition, to pair with.
awk '{ print $1 == "nan" ? "nan" : $1 / 8 }' "$TMP/iperf1" >"$TMP/iperf1.gbs" 2>/dev/null
awk '{ print $1 == "nan" ? "nan" : $1 / 8 }' "$TMP/iperf2" >"$TMP/iperf2.gbs" 2>/dev/null
for t in tcp_large mpi_large tcp_small mpi_small; do
	col "$t" 1 >"$TMP/$t.p50"
	col "$t" 2 >"$TMP/$t.bw"
done

printf '\n%-52s %10s   %s\n' "measurement (medians over repetitions)" "median" "runs"
printf '%-52s %10s   %s\n' "iperf3 --bidir rail0, per direction (Gbit/s)" "$(med iperf2 1)" "$(runs iperf2 1)"
printf '%-52s %10s   %s\n' "iperf3 --bidir rail0, per direction (GB/s)" "$(med iperf2.gbs 1)" ""
printf '%-52s %10s   %s\n' "iperf3 1 stream rail0, for information (Gbit/s)" "$(med iperf1 1)" "$(runs iperf1 1)"
printf '%-52s %10s   %s\n' "railbench tcp all-reduce 64 MiB busbw (GB/s)" "$(med tcp_large 2)" "$(runs tcp_large 2)"
printf '%-52s %10s   %s\n' "MPICH UCX-TCP all-reduce 64 MiB busbw (GB/s)" "$(med mpi_large 2)" "$(runs mpi_large 2)"
printf '%-52s %10s   %s\n' "railbench tcp all-reduce 8 B p50 time (us)" "$(med tcp_small 1)" "$(runs tcp_small 1)"
printf '%-52s %10s   %s\n' "MPICH UCX-TCP all-reduce 8 B p50 time (us)" "$(med mpi_small 1)" "$(runs mpi_small 1)"

# With 2 ranks each rank sends and receives S at once: busbw (= S / t) is
# the rate of each direction, the same quantity as iperf3 --bidir's
# per-direction rate.
echo
echo "# ratios: median [min..max] of the per-repetition ratios"
bl_goal "busbw vs iperf3 --bidir per direction" "$(bl_paired "$TMP/tcp_large.bw" "$TMP/iperf2.gbs")" ">=" "$GOAL_BW_VS_IPERF"
bl_goal "busbw vs MPICH-TCP" "$(bl_paired "$TMP/tcp_large.bw" "$TMP/mpi_large.bw")" ">=" "$GOAL_BW_VS_MPI"
bl_goal "8 B p50 latency vs MPICH-TCP" "$(bl_paired "$TMP/tcp_small.p50" "$TMP/mpi_small.p50")" "<=" "$GOAL_LAT_VS_MPI"
echo "# for information: busbw vs iperf3 1 stream $(bl_paired "$TMP/tcp_large.bw" "$TMP/iperf1.gbs"); MPICH busbw vs iperf3 --bidir $(bl_paired "$TMP/mpi_large.bw" "$TMP/iperf2.gbs")"

# Where the time goes: CPU seconds of each rank (user = reduction and
# copies in the process, sys = socket copies and the TCP stack) per GB the
# rank moved (sent + received: 2 x 64 MiB per all-reduce with 2 ranks).
echo
echo "# CPU per rank, 64 MiB runs (medians): user s, sys s, wall s, CPU s per GB moved"
for t in tcp_large mpi_large; do
	[ -f "$TMP/$t.cpu" ] || continue
	u=$(awk '{ print $1 }' "$TMP/$t.cpu" | bl_median)
	s=$(awk '{ print $2 }' "$TMP/$t.cpu" | bl_median)
	w=$(awk '{ print $3 }' "$TMP/$t.cpu" | bl_median)
	g=$(awk -v b=$LARGE '{ print ($1 + $2) / ($4 * 2 * b / 1e9) }' "$TMP/$t.cpu" | bl_median)
	printf '#   %-10s user %6s  sys %6s  wall %6s  cpu-s/GB %s\n' "$t" "$u" "$s" "$w" "$(bl_fmt "$g")"
done
exit 0
