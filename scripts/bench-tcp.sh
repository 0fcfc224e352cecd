#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark, not a test: the tcp transport on a simulated 2-node x 1-rail
# cluster against the two references that matter on the same rail: iperf3
# (one TCP stream) and MPICH's MPI_Allreduce over UCX TCP (railbench
# --transport mpi with UCX_TLS=tcp,self UCX_NET_DEVICES=rail0). One rank per
# node. Runs alternate between the contenders so they share the background
# load; the summary shows medians over runs (times are each run's median
# iteration), the ratios and whether each goal is met,
# plus the CPU time of the ranks (where the time goes on a CPU-bound box).
#
# usage: scripts/bench-tcp.sh [-r REPS] [-s STREAMS] [-c 0|1]
#   -r REPS      repetitions of every measurement (default 5)
#   -s STREAMS   --tcp-streams for railbench (default 1)
#   -c 0|1       data check in railbench runs (default 1)
# Env: BUILD (default build), TIMEOUT (s per run, default 120),
#      GOAL_BW_VS_MPI (1.0), GOAL_BW_VS_IPERF (0.8), GOAL_LAT_VS_MPI (1.0).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
TIMEOUT=${TIMEOUT:-120}
BENCH=$BUILD/bin/allreduce_bench
GOAL_BW_VS_MPI=${GOAL_BW_VS_MPI:-1.0}
GOAL_BW_VS_IPERF=${GOAL_BW_VS_IPERF:-0.8}
GOAL_LAT_VS_MPI=${GOAL_LAT_VS_MPI:-1.0}
REPS=5 STREAMS=1 CHECK=1
LARGE=$((64 * 1024 * 1024))
SC=scripts/simcluster
export SIMCLUSTER_PREFIX=rbb$$ SIMCLUSTER_MGMT=10.199.$((162 + $$ % 90))

usage() {
	sed -n 's/^# \{0,1\}//; 12,17p' "$0" >&2
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
case $REPS in '' | *[!0-9]* | 0) echo "bench-tcp: invalid -r '$REPS'" >&2; exit 2 ;; esac
case $STREAMS in '' | *[!0-9]* | 0) echo "bench-tcp: invalid -s '$STREAMS'" >&2; exit 2 ;; esac
case $CHECK in 0 | 1) ;; *) echo "bench-tcp: invalid -c '$CHECK'" >&2; exit 2 ;; esac
if [ "$(id -u)" != 0 ]; then
	echo "bench-tcp: needs root (network namespaces)" >&2
	exit 77
fi
for t in "$BENCH" /usr/bin/time; do
	[ -x "$t" ] || { echo "bench-tcp: $t not found (make BUILD=$BUILD; scripts/install-deps.sh)" >&2; exit 2; }
done
command -v iperf3 >/dev/null || { echo "bench-tcp: iperf3 not found (scripts/install-deps.sh)" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rbbtcp.XXXXXX")
IPERF_PID=
cleanup() {
	[ -n "$IPERF_PID" ] && kill "$IPERF_PID" 2>/dev/null
	"$SC" down >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$SC" up -n 2 -r 1 >/dev/null || exit 3

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# "size time busbw" of the out-of-place data rows of a bench output
rows() { awk '!/^#/ && NF >= 8 && $1 ~ /^[0-9]+$/ { print $1, $5, $7, $8 }' "$1"; }

# csv_col FILE NAME: the named column of the out-of-place rows of a results CSV
csv_col() {
	awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["placement"] == "out-of-place" { print $c[name] }' "$1"
}

# run_bench TAG SIZE ITERS WARMUP TRANSPORT_ARGS...: one run; appends
# "time_p50_us busbw_gbps" to $TMP/TAG and "user sys wall ops" of each rank to
# $TMP/TAG.cpu (ops: collectives the rank ran, warm-up and check included).
run_bench() {
	local tag=$1 size=$2 iters=$3 warm=$4 log res rc
	shift 4
	log=$TMP/$tag.$RANDOM.log
	res=$log.res
	timeout -k 5 "$TIMEOUT" "$SC" mpiexec -ppn 1 -n 2 "$@" \
		/usr/bin/time -f '# cpu %U %S %e' \
		"$BENCH" -b "$size" -e "$size" -n "$iters" -w "$warm" -c "$CHECK" \
		--placement out-of-place --results "$res" --no-plot -T 30 "${BARGS[@]}" >"$log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] || ! rows "$log" | awk '$4 != 0 { bad = 1 } END { exit bad || !NR }'; then
		echo "bench-tcp: $tag run failed (exit $rc); last lines:" >&2
		tail -5 "$log" >&2
		return 1
	fi
	paste -d' ' <(csv_col "$res"/allreduce-*.csv time_p50_us) \
		<(csv_col "$res"/allreduce-*.csv busbw_gbps) >>"$TMP/$tag"
	awk -v ops=$((iters + warm + CHECK)) '/^# cpu/ { print $3, $4, $5, ops }' "$log" >>"$TMP/$tag.cpu"
}

tcp_run() { BARGS=(--transport tcp --net-if rail0 --tcp-streams "$STREAMS"); run_bench "$@"; }
mpi_run() { BARGS=(--transport mpi); run_bench "$@" -genv UCX_TLS tcp,self -genv UCX_NET_DEVICES rail0; }

iperf_run() {
	"$SC" exec 0 iperf3 -c 10.200.0.2 -B 10.200.0.1 -p 5201 -t 3 -f m >"$TMP/iperf.log" 2>&1 &&
		awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") print $i / 1000 }' \
			"$TMP/iperf.log" >>"$TMP/iperf"
}

"$SC" exec 1 iperf3 -s -B 10.200.0.2 -p 5201 >/dev/null 2>&1 &
IPERF_PID=$!
sleep 0.5
echo "# bench-tcp: 2 simulated nodes x 1 rail, 1 rank per node, $REPS repetitions, tcp streams $STREAMS"
echo "# $(nproc) CPUs, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= REPS; r++)); do
	echo "# repetition $r/$REPS"
	iperf_run || echo "bench-tcp: iperf3 run failed" >&2
	tcp_run tcp_large $LARGE 5 2
	mpi_run mpi_large $LARGE 5 2
	tcp_run tcp_small 8 2000 200
	mpi_run mpi_small 8 2000 200
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

col() { [ -f "$TMP/$1" ] && awk -v c="$2" '{ print $c }' "$TMP/$1"; }
med() { col "$1" "$2" | median; }
runs() { col "$1" "$2" | tr '\n' ' '; }
IPERF=$(med iperf 1)
IPERF_GBS=$(awk -v g="$IPERF" 'BEGIN { print g / 8 }')
BW_TCP=$(med tcp_large 2) BW_MPI=$(med mpi_large 2)
LAT_TCP=$(med tcp_small 1) LAT_MPI=$(med mpi_small 1)

printf '\n%-44s %10s   %s\n' "measurement (medians)" "median" "runs"
printf '%-44s %10s   %s\n' "iperf3 1 stream rail0 (Gbit/s)" "$IPERF" "$(runs iperf 1)"
printf '%-44s %10s   %s\n' "iperf3 1 stream rail0 (GB/s)" "$IPERF_GBS" ""
printf '%-44s %10s   %s\n' "railbench tcp all-reduce 64 MiB busbw (GB/s)" "$BW_TCP" "$(runs tcp_large 2)"
printf '%-44s %10s   %s\n' "MPICH UCX-TCP all-reduce 64 MiB busbw (GB/s)" "$BW_MPI" "$(runs mpi_large 2)"
printf '%-44s %10s   %s\n' "railbench tcp all-reduce 8 B p50 time (us)" "$LAT_TCP" "$(runs tcp_small 1)"
printf '%-44s %10s   %s\n' "MPICH UCX-TCP all-reduce 8 B p50 time (us)" "$LAT_MPI" "$(runs mpi_small 1)"

# goal LABEL VALUE OP TARGET: prints the ratio line and met/missed.
goal() {
	awk -v l="$1" -v v="$2" -v op="$3" -v t="$4" 'BEGIN {
		if (v == "nan" || v == "") { printf "goal %-38s: no data\n", l; exit }
		ok = op == ">=" ? v >= t : v <= t
		printf "goal %-38s: ratio %.2f, target %s %.2f -> %s\n", l, v, op, t, ok ? "met" : "missed" }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "nan"; else print a / b }'; }
echo
goal "busbw vs MPICH-TCP" "$(ratio "$BW_TCP" "$BW_MPI")" ">=" "$GOAL_BW_VS_MPI"
goal "busbw vs iperf3 (1 stream)" "$(ratio "$BW_TCP" "$IPERF_GBS")" ">=" "$GOAL_BW_VS_IPERF"
goal "8 B latency vs MPICH-TCP" "$(ratio "$LAT_TCP" "$LAT_MPI")" "<=" "$GOAL_LAT_VS_MPI"

# Where the time goes: CPU seconds of each rank (user = reduction and
# copies in the process, sys = socket copies and the TCP stack) per GB the
# rank moved (sent + received: 2 x 64 MiB per all-reduce with 2 ranks).
echo
echo "# CPU per rank, 64 MiB runs (medians): user s, sys s, wall s, CPU s per GB moved"
for t in tcp_large mpi_large; do
	[ -f "$TMP/$t.cpu" ] || continue
	u=$(awk '{ print $1 }' "$TMP/$t.cpu" | median)
	s=$(awk '{ print $2 }' "$TMP/$t.cpu" | median)
	w=$(awk '{ print $3 }' "$TMP/$t.cpu" | median)
	g=$(awk -v b=$LARGE '{ print ($1 + $2) / ($4 * 2 * b / 1e9) }' "$TMP/$t.cpu" | median)
	printf '#   %-10s user %6s  sys %6s  wall %6s  cpu-s/GB %.2f\n' "$t" "$u" "$s" "$w" "$g"
done
# With 2 ranks each rank sends and receives 64 MiB at once, so the rail
# carries 2 x busbw (both directions); iperf3 is one direction.
echo "# rail bytes/s of railbench tcp (both directions) vs iperf3 (one): ratio" \
	"$(ratio "$(awk -v b="$BW_TCP" 'BEGIN { print 2 * b }')" "$IPERF_GBS")"
exit 0
