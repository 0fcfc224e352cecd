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
# Prints medians over the repetitions, the ratios, the ideal hier busbw
# from R (docs/algorithms.md, "Hierarchical, rail-aligned algorithms")
# and whether each goal is met.
#
# usage: scripts/bench-rails.sh [-r REPS] [-R RATE] [-s SIZE]
#   -r REPS   repetitions of every measurement (default 3)
#   -R RATE   tbf rate of every rail (default 1gbit)
#   -s SIZE   message size (default 64M)
# Env: BUILD (default build), TIMEOUT (s per run, default 300),
#      GOAL_HIER_VS_RING (2.0), GOAL_HIER_VS_IDEAL (0.8).
set -u
cd "$(dirname "$0")/.."
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
case $REPS in '' | *[!0-9]* | 0) echo "bench-rails: invalid -r '$REPS'" >&2; exit 2 ;; esac
[[ $RATE =~ ^[0-9]+[kmg]?bit$ ]] || { echo "bench-rails: invalid -R '$RATE' (e.g. 1gbit, 500mbit)" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
	echo "bench-rails: needs root (network namespaces)" >&2
	exit 77
fi
for b in allreduce alltoall; do
	[ -x "$BUILD/bin/${b}_bench" ] ||
		{ echo "bench-rails: $BUILD/bin/${b}_bench not found (make BUILD=$BUILD)" >&2; exit 2; }
done
command -v iperf3 >/dev/null || { echo "bench-rails: iperf3 not found (scripts/install-deps.sh)" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rbbrails.XXXXXX")
IPERF_PID=
cleanup() {
	[ -n "$IPERF_PID" ] && kill "$IPERF_PID" 2>/dev/null
	"$SC" down >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
caps=()
for ((i = 0; i < NODES; i++)); do
	for ((k = 0; k < RAILS; k++)); do caps+=(--cap "$i:$k:$RATE"); done
done
"$SC" up -n $NODES -r $RAILS "${caps[@]}" >/dev/null || exit 3

median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# run TAG COLL ALGO TRANSPORT: one run; appends the out-of-place busbw (GB/s)
# of its one size to $TMP/TAG.
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
		return 1
	fi
	awk '!/^#/ && NF >= 8 { print $7 }' "$log" >>"$TMP/$tag"
}

iperf_run() {
	"$SC" exec 0 iperf3 -c 10.200.0.2 -B 10.200.0.1 -p 5201 -t 3 -f m >"$TMP/iperf.log" 2>&1 &&
		awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") print $i / 1000 }' \
			"$TMP/iperf.log" >>"$TMP/iperf"
}

"$SC" exec 1 iperf3 -s -B 10.200.0.2 -p 5201 >/dev/null 2>&1 &
IPERF_PID=$!
sleep 0.5
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

med() { [ -f "$TMP/$1" ] && median <"$TMP/$1" || echo nan; }
runs() { [ -f "$TMP/$1" ] && tr '\n' ' ' <"$TMP/$1"; }
R_GBIT=$(med iperf)
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
printf '%-52s %10s   %s\n' "iperf3 1 stream, one capped rail (Gbit/s)" "$R_GBIT" "$(runs iperf)"
printf '%-52s %10s   %s\n' "line rate R per rail (GB/s)" "$R" ""
printf '%-52s %10s   %s\n' "all-reduce busbw, ring over tcp (GB/s)" "$(med ar_ring)" "$(runs ar_ring)"
printf '%-52s %10s   %s\n' "all-reduce busbw, hier over shm+tcp (GB/s)" "$(med ar_hier)" "$(runs ar_hier)"
printf '%-52s %10s   %s\n' "all-reduce busbw, hier ideal from R (GB/s)" "$IDEAL_AR" ""
printf '%-52s %10s   %s\n' "all-to-all busbw, pairwise over tcp (GB/s)" "$(med a2a_flat)" "$(runs a2a_flat)"
printf '%-52s %10s   %s\n' "all-to-all busbw, hier over shm+tcp (GB/s)" "$(med a2a_hier)" "$(runs a2a_hier)"
printf '%-52s %10s   %s\n' "all-to-all busbw, hier ideal from R (GB/s)" "$IDEAL_A2A" ""

# paired A B: "median [min..max]" of the per-repetition ratios A_i / B_i
# (runs of one repetition shared the same background load).
paired() {
	[ -f "$TMP/$1" ] && [ -f "$TMP/$2" ] || { echo "nan [nan..nan]"; return; }
	paste -d' ' "$TMP/$1" "$TMP/$2" | awk '$2 > 0 { print $1 / $2 }' | sort -g |
		awk '{ v[NR] = $1 } END { if (!NR) { print "nan [nan..nan]"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.3f [%.3f..%.3f]\n", m, v[1], v[NR] }'
}

# goal LABEL "MEDIAN [MIN..MAX]" TARGET
goal() {
	awk -v l="$1" -v s="$2" -v t="$3" 'BEGIN {
		split(s, a, " "); v = a[1]
		if (v == "nan" || v == "") { printf "goal %-30s: no data\n", l; exit }
		ok = (v + 0 >= t + 0)
		printf "goal %-30s: ratio %s, target >= %.2f -> %s\n", l, s, t, ok ? "met" : "missed" }'
}
one() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "nan"; else printf "%.3f\n", a / b }'; }
# Against the ideal: each run's busbw over the one ideal from the median R.
vs_ideal() {
	[ -f "$TMP/$1" ] || { echo "nan [nan..nan]"; return; }
	awk -v i="$2" 'i != "nan" && i > 0 { print $1 / i }' "$TMP/$1" | sort -g |
		awk '{ v[NR] = $1 } END { if (!NR) { print "nan [nan..nan]"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.3f [%.3f..%.3f]\n", m, v[1], v[NR] }'
}
echo
echo "# ratios: median of the per-repetition ratios [min..max]"
goal "all-reduce hier vs flat ring" "$(paired ar_hier ar_ring)" "$GOAL_HIER_VS_RING"
goal "all-reduce hier vs its ideal" "$(vs_ideal ar_hier "$IDEAL_AR")" "$GOAL_HIER_VS_IDEAL"
echo "# all-to-all hier vs flat pairwise: $(paired a2a_hier a2a_flat); hier vs its ideal: $(vs_ideal a2a_hier "$IDEAL_A2A")"
echo "# medians alone: all-reduce hier/ring $(one "$(med ar_hier)" "$(med ar_ring)"), hier/ideal $(one "$(med ar_hier)" "$IDEAL_AR")"
exit 0
