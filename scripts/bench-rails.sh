#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark, not a test: rail-aligned hierarchical collectives against flat
# ones on a simulated rail-optimized cluster of 2 nodes x 2 rails x 2 ranks
# per node, every rail capped with tbf at RATE on both ends (the line rate
# the fabric "paid for"). In one run, alternating the contenders so they
# share the background load:
#   - iperf3, one stream, on one capped rail: the line rate R as delivered;
#   - 64 MiB all-reduce, flat --algo ring over --transport tcp, and
#     --algo hier over --transport shm+tcp;
#   - 64 MiB all-to-all, flat pairwise over tcp and hier over shm+tcp.
# Prints medians over the repetitions, the median of the paired
# per-repetition ratios with min and max, the ideal hier busbw from R
# (docs/algorithms.md, "Hierarchical, rail-aligned algorithms") and
# whether each goal is met.
#
# usage: scripts/bench-rails.sh [-r REPS] [-R RATE] [-s SIZE]
#   -r REPS   repetitions of every measurement (default 3)
#   -R RATE   tbf rate of every rail (default 1gbit)
#   -s SIZE   message size (default 64M)
# Env: BUILD (default build), TIMEOUT (s per run, default 300),
#      GOAL_HIER_VS_RING (2.0), GOAL_HIER_VS_IDEAL (0.8).
set -u
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
BUILD=${BUILD:-build}
TIMEOUT=${TIMEOUT:-300}
GOAL_HIER_VS_RING=${GOAL_HIER_VS_RING:-2.0}
GOAL_HIER_VS_IDEAL=${GOAL_HIER_VS_IDEAL:-0.8}
REPS=3 RATE=1gbit SIZE=64M
NODES=2 RAILS=2 PPN=2
SC=scripts/simcluster
export SIMCLUSTER_PREFIX=rbr$$ SIMCLUSTER_MGMT=10.199.$((162 + $$ % 90))

usage() {
	sed -n 's/^# \{0,1\}//; 16,22p' "$0" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	-r) REPS=${2:-}; shift 2 ;;
	-R) RATE=${2:-}; shift 2 ;;
	-s) SIZE=${2:-}; shift 2 ;;
	*) usage ;;
	esac
done
bl_count_arg bench-rails -r "$REPS"
[[ $RATE =~ ^[0-9]+[kmg]?bit$ ]] || { echo "bench-rails: invalid -R '$RATE' (e.g. 1gbit, 500mbit)" >&2; exit 2; }
bl_sim_init bench-rails
for b in allreduce alltoall; do
	[ -x "$BUILD/bin/${b}_bench" ] ||
		{ echo "bench-rails: $BUILD/bin/${b}_bench not found (make BUILD=$BUILD)" >&2; exit 2; }
done
bl_need bench-rails iperf3 jq
caps=()
for ((i = 0; i < NODES; i++)); do
	for ((k = 0; k < RAILS; k++)); do caps+=(--cap "$i:$k:$RATE"); done
done
"$SC" up -n $NODES -r $RAILS "${caps[@]}" >/dev/null || exit 3

# run TAG COLL ALGO TRANSPORT: one run; appends the out-of-place busbw (GB/s)
# of its one size to $TMP/TAG, "nan" when it failed (repetitions stay paired).
run() {
	local tag=$1 coll=$2 algo=$3 tp=$4 log=$TMP/$1.$RANDOM.log rc
	timeout -k 5 "$TIMEOUT" "$SC" mpiexec -ppn $PPN -n $((NODES * PPN)) \
		"$BUILD/bin/${coll}_bench" --transport "$tp" --net-if rail0,rail1 \
		--algo "$algo" -b "$SIZE" -e "$SIZE" -n 3 -w 1 -c 1 \
		--placement out-of-place --no-results -T 120 >"$log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] || ! awk '!/^#/ && NF >= 8 && $8 != "0" { bad = 1 } !/^#/ && NF >= 8 { n++ }
		END { exit bad || !n }' "$log"; then
		echo "bench-rails: $tag run failed (exit $rc); last lines:" >&2
		tail -5 "$log" >&2
		echo nan >>"$TMP/$tag"
		return 1
	fi
	bl_rows "$log" | awk '{ print $3 }' >>"$TMP/$tag"
}

# iperf_run: one stream on one capped rail; appends Gbit/s to $TMP/iperf.
iperf_run() {
	bl_iperf "$TMP/iperf" 0
}

bl_iperf_server
echo "# bench-rails: $NODES simulated nodes x $RAILS rails x $PPN ranks per node, every rail capped at $RATE, $SIZE, $REPS repetitions"
echo "# $(nproc) CPUs, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= REPS; r++)); do
	echo "# repetition $r/$REPS"
	iperf_run || echo "bench-rails: iperf3 run failed" >&2
	run ar_ring allreduce ring tcp
	run ar_hier allreduce hier shm+tcp
	run a2a_flat alltoall pairwise tcp
	run a2a_hier alltoall hier shm+tcp
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

med() { [ -f "$TMP/$1" ] && bl_fmt "$(bl_median <"$TMP/$1")" || echo nan; }
runs() { [ -f "$TMP/$1" ] && bl_list <"$TMP/$1"; }
R_GBIT=$([ -f "$TMP/iperf" ] && bl_median <"$TMP/iperf" || echo nan)
R=$(awk -v g="$R_GBIT" 'BEGIN { print g == "nan" ? "nan" : g / 8 }')	# GB/s per rail
N=$NODES L=$PPN n=$((NODES * PPN))
# Ideal hier all-reduce busbw: the inter-node phase moves 2(N-1)/N x S/L per
# rank on its own rail, at R: busbw = [2(n-1)/n] / [2(N-1)/N] x L x R.
IDEAL_AR=$(awk -v r="$R" -v N=$N -v L=$L -v n=$n 'BEGIN { if (r == "nan") print "nan";
	else print (2 * (n - 1) / n) / (2 * (N - 1) / N) * L * r }')
# Ideal hier all-to-all busbw: each rank's (N-1)/N x S of remote blocks
# crosses on its rail (after the in-node hop): busbw = (n-1)/n x S / t with
# t = (N-1)/N x S / R, so busbw = [(n-1)/n] / [(N-1)/N] x R.
IDEAL_A2A=$(awk -v r="$R" -v N=$N -v n=$n 'BEGIN { if (r == "nan") print "nan";
	else print ((n - 1) / n) / ((N - 1) / N) * r }')

printf '\n%-52s %10s   %s\n' "measurement (medians)" "median" "runs"
printf '%-52s %10s   %s\n' "iperf3 1 stream, one capped rail (Gbit/s)" "$(bl_fmt "$R_GBIT")" "$(runs iperf)"
printf '%-52s %10s   %s\n' "line rate R per rail (GB/s)" "$(bl_fmt "$R")" ""
printf '%-52s %10s   %s\n' "all-reduce busbw, ring over tcp (GB/s)" "$(med ar_ring)" "$(runs ar_ring)"
printf '%-52s %10s   %s\n' "all-reduce busbw, hier over shm+tcp (GB/s)" "$(med ar_hier)" "$(runs ar_hier)"
printf '%-52s %10s   %s\n' "all-reduce busbw, hier ideal from R (GB/s)" "$(bl_fmt "$IDEAL_AR")" ""
printf '%-52s %10s   %s\n' "all-to-all busbw, pairwise over tcp (GB/s)" "$(med a2a_flat)" "$(runs a2a_flat)"
printf '%-52s %10s   %s\n' "all-to-all busbw, hier over shm+tcp (GB/s)" "$(med a2a_hier)" "$(runs a2a_hier)"
printf '%-52s %10s   %s\n' "all-to-all busbw, hier ideal from R (GB/s)" "$(bl_fmt "$IDEAL_A2A")" ""

# Against the ideal: each run's busbw over the one ideal from the median R.
echo
echo "# ratios: median [min..max] of the per-repetition ratios"
bl_goal "all-reduce hier vs flat ring" "$(bl_paired "$TMP/ar_hier" "$TMP/ar_ring")" ">=" "$GOAL_HIER_VS_RING"
bl_goal "all-reduce hier vs its ideal" "$(bl_over "$TMP/ar_hier" "$IDEAL_AR" | bl_spread)" ">=" "$GOAL_HIER_VS_IDEAL"
echo "# all-to-all hier vs flat pairwise: $(bl_paired "$TMP/a2a_hier" "$TMP/a2a_flat"); hier vs its ideal: $(bl_over "$TMP/a2a_hier" "$IDEAL_A2A" | bl_spread)"
exit 0
