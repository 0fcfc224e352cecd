#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark, not a test: validates the alpha-beta model (docs/model.md) on
# a simulated rail-optimized cluster of 4 nodes x 2 rails x 2 ranks per
# node, every rail capped with tbf at RATE on both ends, so that the runs
# are bound by the links and not by this machine's CPUs:
#   1. fit the intra-node link from a one-node shm all-reduce (ring);
#   2. fit the inter-node link from 2-node all-reduce runs: ring over tcp
#      (rail-blind: its node-crossing hops change rails through the spine)
#      and hier over shm+tcp, 4-64 MiB (link-bound sizes: below, the
#      load of this shared machine, not the link, decides the times);
#   3. predict 3- and 4-node ring and hier all-reduce at 16-64 MiB with
#      scripts/rb-model, then measure them;
#   4. print predicted, measured (median of T, the per-iteration maximum
#      over ranks) and error, and whether every error is within GOAL.
# Also prints the fitted beta against the cap (link-bound: beta near the
# cap) and the CPU time the runs used against the wall time (the ranks poll
# while they wait, so the CPUs read busy even when the links are the limit).
#
# usage: scripts/bench-model.sh [-R RATE] [-n ITERS]
#   -R RATE   tbf rate of every rail (default 200mbit)
#   -n ITERS  timed iterations per size (default 3)
# Env: BUILD (default build), TIMEOUT (s per run, default 600), GOAL (15, %).
set -u
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
BUILD=${BUILD:-build}
TIMEOUT=${TIMEOUT:-600}
GOAL=${GOAL:-15}
RATE=200mbit ITERS=3
NODES=4 RAILS=2 PPN=2
SC=scripts/simcluster
export SIMCLUSTER_PREFIX=rbm$$ SIMCLUSTER_MGMT=10.199.$((162 + $$ % 90))

usage() {
	sed -n 's/^# \{0,1\}//; 19,22p' "$0" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	-R) RATE=${2:-}; shift 2 ;;
	-n) ITERS=${2:-}; shift 2 ;;
	*) usage ;;
	esac
done
bl_count_arg bench-model -n "$ITERS"
[[ $RATE =~ ^[0-9]+[kmg]?bit$ ]] || { echo "bench-model: invalid -R '$RATE' (e.g. 200mbit)" >&2; exit 2; }
[ -x "$BUILD/bin/allreduce_bench" ] ||
	{ echo "bench-model: $BUILD/bin/allreduce_bench not found (make BUILD=$BUILD)" >&2; exit 2; }
bl_need bench-model jq python3
bl_sim_init bench-model
caps=()
for ((i = 0; i < NODES; i++)); do
	for ((k = 0; k < RAILS; k++)); do caps+=(--cap "$i:$k:$RATE"); done
done
"$SC" up -n $NODES -r $RAILS "${caps[@]}" >/dev/null || exit 3

# cpu_s: CPU seconds (user + system) the whole machine has spent so far.
cpu_s() {
	awk '/^cpu / { printf "%.2f\n", ($2 + $3 + $4 + $7 + $8) / 100 }' /proc/stat
}

# run TAG NODES ALGO TRANSPORT MIN MAX: one all-reduce run over NODES
# simulated nodes; results in $TMP/TAG/; its CPU and wall seconds appended
# to $TMP/cpu.
run() {
	local tag=$1 nn=$2 algo=$3 tp=$4 lo=$5 hi=$6 c0 t0 rc
	c0=$(cpu_s) t0=$(date +%s.%N)
	timeout -k 5 "$TIMEOUT" "$SC" mpiexec -ppn $PPN -n $((nn * PPN)) \
		"$BUILD/bin/allreduce_bench" --transport "$tp" --net-if rail0,rail1 \
		--algo "$algo" -b "$lo" -e "$hi" -f 2 -n "$ITERS" -w 1 -c 1 \
		--placement out-of-place --results "$TMP/$tag" --no-plot -T 120 \
		>"$TMP/$tag.log" 2>&1
	rc=$?
	echo "$tag $(awk -v a="$c0" -v b="$(cpu_s)" 'BEGIN { print b - a }') $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" >>"$TMP/cpu"
	if [ "$rc" -ne 0 ]; then
		echo "bench-model: $tag run failed (exit $rc); last lines:" >&2
		tail -5 "$TMP/$tag.log" >&2
		return 1
	fi
	grep '^# Fit  ' "$TMP/$tag.log" | sed "s/^# Fit  */# $tag fit/"
}

echo "# bench-model: $NODES simulated nodes x $RAILS rails x $PPN ranks per node, every rail capped at $RATE, -n $ITERS"
echo "# $(nproc) CPUs, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
# 1. The intra-node link: one node, shm, outside the simulated cluster.
mkdir -p "$TMP/intra"
timeout -k 5 "$TIMEOUT" mpiexec -n $PPN "$BUILD/bin/allreduce_bench" --transport shm \
	--algo ring -b 1M -e 16M -f 4 -n 10 --placement out-of-place --results "$TMP/intra" \
	--no-plot >"$TMP/intra.log" 2>&1 || { echo "bench-model: intra-node run failed" >&2; exit 3; }
grep '^# Fit  ' "$TMP/intra.log" | sed "s/^# Fit  */# intra fit/"
# 2. Fits from 2 nodes; 3. the runs to predict.
run ring2 2 ring tcp 4M 64M || exit 3
run hier2 2 hier shm+tcp 4M 64M || exit 3
for nn in 3 4; do
	run ring$nn $nn ring tcp 16M 64M
	run hier$nn $nn hier shm+tcp 16M 64M
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

json() { echo "$TMP/$1/allreduce-$2-$3.json"; }
CAP_GBPS=$(awk -v r="$RATE" 'BEGIN { m = r; sub(/[kmg]?bit$/, "", m); u = substr(r, length(m) + 1, 1)
	f = u == "k" ? 1e3 : u == "m" ? 1e6 : u == "g" ? 1e9 : 1; print m * f / 8 / 1e9 }')
echo
echo "# fitted parameters (alpha us per step, beta GB/s per link; the cap is $CAP_GBPS GB/s)"
printf '%-34s %10s %10s %9s %9s\n' "fit" "alpha" "beta" "beta/cap" "rms res"
for f in "intra $(json intra shm ring)" "ring 2 nodes $(json ring2 tcp ring)" "hier 2 nodes $(json hier2 shm+tcp hier)"; do
	j=${f##* } name=${f% *}
	jq -r --arg n "$name" --argjson cap "$CAP_GBPS" '.summary.fit | [$n, .link_class, .alpha_us, .beta_gbps, .beta_gbps / $cap, .rms_pct]
		| "\(.[0]) (\(.[1]))|\(.[2])|\(.[3])|\(.[4])|\(.[5])"' "$j" 2>/dev/null |
		awk -F'|' '{ printf "%-34s %10.4g %10.4g %9.3f %8.2f%%\n", $1, $2, $3, $4, $5 }'
done
echo
echo "# CPU: seconds of CPU time the machine spent during each run against its wall time x $(nproc) CPUs"
awk -v c="$(nproc)" '{ printf "#   %-6s cpu %7.1f s of %7.1f s available (%3.0f %%)\n", $1, $2, $3 * c, 100 * $2 / ($3 * c) }' "$TMP/cpu"

# 4. Predictions against measurements.
echo
printf '%-6s %6s %11s %14s %14s %9s\n' "algo" "nodes" "size" "predicted_us" "measured_us" "error"
bad=0 total=0
for algo in ring hier; do
	tp=tcp
	[ $algo = hier ] && tp=shm+tcp
	for nn in 3 4; do
		j=$(json $algo$nn $tp $algo)
		[ -f "$j" ] || { echo "bench-model: no results for $algo on $nn nodes" >&2; bad=$((bad + 1)); continue; }
		scripts/rb-model --from "$(json intra shm ring)" --from "$(json ${algo}2 $tp $algo)" \
			--gpus $PPN --nodes $nn --size 16M,32M,64M --coll allreduce --algo $algo \
			--fabric rail --csv >"$TMP/pred" || exit 3
		jq -r '.records[] | "\(.size_bytes) \(.rankmax_p50_us)"' "$j" >"$TMP/meas"
		while read -r size meas; do
			pred=$(awk -F, -v s="$size" 'NR > 1 && $7 == s { print $8 }' "$TMP/pred")
			[ -n "$pred" ] || continue
			err=$(awk -v p="$pred" -v m="$meas" 'BEGIN { printf "%+.1f", 100 * (p - m) / m }')
			printf '%-6s %6s %11s %14.0f %14.0f %8s%%\n' $algo $nn "$size" "$pred" "$meas" "$err"
			total=$((total + 1))
			awk -v e="$err" -v g="$GOAL" 'BEGIN { exit !(e > g || e < -g) }' && bad=$((bad + 1))
		done <"$TMP/meas"
	done
done
echo
if [ "$bad" -eq 0 ] && [ "$total" -gt 0 ]; then
	echo "# goal: every prediction within ${GOAL} %: MET ($total of $total)"
else
	echo "# goal: every prediction within ${GOAL} %: NOT MET ($((total - bad)) of $total within)"
fi
exit 0
