#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# p2p_bench, the cluster qualification (docs/qualify.md). Without a
# cluster: bad input (exit 2, one line), one node refused unless
# --intra-only, --plan's round counts. On a simulated cluster of 4 nodes x
# 2 rails (local rank k on rail k, shm inside nodes, tcp between them):
#   (a) no cap, 3 runs: PASS, no culprit, every pair in the JSON and CSV;
#   (b) every rail capped with tbf, node2's rail 1 at a quarter of the
#       others (--expect-gbps gives the line rate): FAIL naming node2,
#       rail 1 and its interface, and nothing else;
#   (c) only traffic between node1 and node3 on rail 0 slowed, by an htb
#       class with a u32 filter on the destination address: FAIL naming the
#       link node1 - node3 on rail 0, not a node;
#   (d) node2's rail 1 taken down mid-run: exit 3 within the timeout,
#       naming the peer, its host and the interface.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_simcluster.sh"

sc_require_progs "$BIN/p2p_bench"
SC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rbqual.XXXXXX")
trap 'rm -rf "$SC_TMP"' EXIT
P2P=$BIN/p2p_bench
# Rates of the capped cases: every NIC at RATE, the bad one at a quarter.
RATE_MBIT=200
LINE_GBPS=0.2
SLOW_MBIT=$((RATE_MBIT / 4))
# Uncapped, the pairs are CPU-bound: 2 MiB messages, 10 of them, keep each
# series long enough to ride out scheduling. Capped, 512 KiB messages keep a
# direction to a few hundred ms even at the slow rate.
# Thresholds: on a 2-core machine shared with other jobs the figures of a
# healthy pair move by up to 40 % even alone; the planted faults are at
# 25 %, so 0.5 keeps a margin both ways (the defaults, 0.8, are for real
# fabrics, docs/qualify.md).
THR=(--threshold 0.5 --line-threshold 0.5 --intra-threshold 0.3)
RUN_FREE=(--transport shm+tcp --net-if rail0,rail1 -b 2M -e 2M -n 10 -w 2 -T 20 "${THR[@]}")
RUN=(--transport shm+tcp --net-if rail0,rail1 -b 512K -e 512K -n 5 -w 1 -T 20 "${THR[@]}")

# expect2 NAME PATTERN CMD...: exit 2, one stderr line matching PATTERN.
expect2() {
	local name=$1 pat=$2 out=$SC_TMP/out err=$SC_TMP/err rc
	shift 2
	timeout 60 "$@" >"$out" 2>"$err"
	rc=$?
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$err")" -eq 1 ] && grep -q -- "$pat" "$err"; then
		tap_ok "$name -> exit 2: $(cat "$err")"
	else
		tap_fail "$name" "exit $rc" "stderr: $(head -3 "$err")"
	fi
}

# culprits JSON: "class host peer rail" per culprit, most severe first.
culprits() {
	jq -r '.verdict.culprits[] | [.class, (.host // "-"), (.peer_host // "-"),
		(.rail // "-" | tostring)] | join(" ")' "$1"
}

# faulty CASE NAME WANT LINE: a run against the line rate that must FAIL
# with exactly the culprits WANT ("class host peer rail;" each) and a first
# culprit line matching LINE; prints the culprit's figures.
faulty() {
	local case=$1 name=$2 want=$3 line=$4 dir=$SC_TMP/$1 rc got t0=$SECONDS
	sc_mpiexec -ppn 2 -n 8 "$P2P" "${RUN[@]}" --expect-gbps $LINE_GBPS \
		--results "$dir" >"$dir.log" 2>&1
	rc=$?
	name="$name (in $((SECONDS - t0)) s)"
	got=$(culprits "$dir/p2p-shm+tcp.json" 2>/dev/null | tr '\n' ';')
	if [ "$rc" -eq 1 ] && [ "$got" = "$want" ] && grep -q "^#   1\. $line" "$dir.log"; then
		tap_ok "($case) $name"
	else
		tap_fail "($case) $name" "exit $rc" "culprits: $got" \
			"$(grep '^#   \|Verdict' "$dir.log" | head -6)"
	fi
	echo "# ($case) $(jq -r '.verdict.culprits[0].text' "$dir/p2p-shm+tcp.json" 2>/dev/null)"
	echo "# ($case) $(grep 'rounds in\|alone in' "$dir.log" | tr '\n' ' ')"
}

# ---- no cluster needed ----
expect2 "unknown --pairs mode" "--pairs 'star'" "$P2P" --pairs star
expect2 "--pairs random:0" "random:K" "$P2P" --pairs random:0
expect2 "--threshold 0" "--threshold '0'" "$P2P" --threshold 0
expect2 "--threshold 1.5" "(0, 1]" "$P2P" --threshold 1.5
expect2 "--line-threshold -1" "--line-threshold" "$P2P" --line-threshold -1
expect2 "a collective's option" "--algo" "$P2P" --algo ring
expect2 "one node: only intra-node pairs" "only intra-node pairs" \
	mpiexec -n 2 "$P2P" --no-results
expect2 "one rank" "no partner" mpiexec -n 1 "$P2P" --no-results
log=$SC_TMP/intra.log
timeout 60 mpiexec -n 2 "$P2P" --intra-only -b 1M -e 1M -n 5 -w 1 --no-results >"$log" 2>&1
rc=$?
if [ "$rc" -le 1 ] && grep -q '^# Verdict: ' "$log" && grep -q '^# intra-node .* 0->1' "$log"; then
	tap_ok "one node with --intra-only measures its intra-node pair (exit $rc)"
else
	tap_fail "one node with --intra-only" "exit $rc" "$(tail -5 "$log")"
fi
plan_rounds() { "$P2P" --plan 1000x8 --expect-gbps 400 "$@" | awk '$1 == "rounds" { print $2 }'; }
if [ "$(plan_rounds)" = 999 ] && [ "$(plan_rounds --pairs ring)" = 2 ] &&
	[ "$(plan_rounds --pairs random:4)" = 4 ] &&
	[ "$(plan_rounds --rails-one-at-a-time)" = 7992 ]; then
	tap_ok "--plan 1000x8: 999 rounds for all pairs, 2 for ring, 4 for random:4, 7992 one rail at a time"
else
	tap_fail "--plan round counts" "$("$P2P" --plan 1000x8 2>&1 | head -5)"
fi

# ---- 4 nodes x 2 rails ----
if ! sc_can_run; then
	tap_skip "simulated 4 nodes x 2 rails" "needs root for network namespaces"
	tap_done
fi
sc_require_progs mpiexec jq
if ! sc_up 4 2; then
	tap_fail "simcluster up 4 x 2"
	tap_done
fi

# (a) no cap, three runs.
for run in 1 2 3; do
	dir=$SC_TMP/a$run
	t0=$(date +%s.%N)
	mkdir -p "$dir"
	sc_mpiexec -ppn 2 -n 8 "$P2P" "${RUN_FREE[@]}" --results "$dir" >"$dir.log" 2>&1
	rc=$?
	wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	json=$dir/p2p-shm+tcp.json
	if [ "$rc" -eq 0 ] && tail -1 "$dir.log" | grep -q '^# Verdict: PASS' &&
		[ "$(jq '.verdict.culprits | length' "$json")" = 0 ]; then
		tap_ok "(a) run $run, no cap: PASS, no culprit, all pairs in $wall s"
	else
		tap_fail "(a) run $run, no cap: PASS" "exit $rc" "$(grep '^#   \|Verdict' "$dir.log" | head -6)"
	fi
done
dir=$SC_TMP/a1 json=$SC_TMP/a1/p2p-shm+tcp.json csv=$SC_TMP/a1/p2p-shm+tcp.csv
n_inter=$(jq '[.records[] | select(.kind == "inter" and .direction == "uni")] | length' "$json")
n_intra=$(jq '[.records[] | select(.kind == "intra")] | length' "$json")
pairs=$(jq -r '[.records[] | select(.kind == "inter") | "\(.src_host)>\(.dst_host)@\(.rail)"] | unique | length' "$json")
if [ "$n_inter" = 24 ] && [ "$pairs" = 24 ] && [ "$n_intra" = 8 ] &&
	[ "$(($(wc -l <"$csv") - 1))" = 32 ] && head -1 "$csv" | grep -q '^kind,src_host,dst_host,rail,src_nic'; then
	tap_ok "(a) every ordered pair of 4 nodes on 2 rails (24) and inside each node (8), JSON and CSV"
else
	tap_fail "(a) rows" "inter $n_inter ($pairs distinct), intra $n_intra, csv $(wc -l <"$csv")"
fi
if [ "$(jq '[.records[] | select(.wrong != 0)] | length' "$json")" = 0 ] &&
	[ "$(jq '[.records[] | select(.kind == "inter" and .lat_p50_us > 0 and .bw_p50_gbps > 0)] | length' "$json")" = 24 ] &&
	[ "$(grep -c '^node[0-3] ' "$dir.log")" = 8 ] && grep -q '^# rail 1: GB/s at 2M' "$dir.log" &&
	grep -q 'line rate unknown' "$dir.log"; then
	tap_ok "(a) payloads verified, bandwidth and latency per pair, a 4 x 4 matrix per rail, no line rate on veth said so"
else
	tap_fail "(a) figures and matrices" "$(grep -c '^node' "$dir.log") matrix rows"
fi

# (b) every NIC capped, node2 rail 1 at a quarter.
for n in 0 1 2 3; do
	for r in 0 1; do
		rate=${RATE_MBIT}mbit
		[ "$n$r" = 21 ] && rate=${SLOW_MBIT}mbit
		"$SIMCLUSTER" cap "$n:$r:$rate" >/dev/null
	done
done
faulty b "node2 rail 1 at $SLOW_MBIT of $RATE_MBIT Mbit/s: FAIL naming only host node2, rail 1, nic rail1" \
	"nic node2 - 1;" "nic: host node2 rail 1 nic rail1: "

# (c) node1 <-> node3 on rail 0 only, by destination address.
"$SIMCLUSTER" cap "2:1:${RATE_MBIT}mbit" >/dev/null
for n in 1 3; do
	peer=10.200.0.$((n == 1 ? 4 : 2))
	"$SIMCLUSTER" exec "$n" sh -c "
		tc qdisc replace dev rail0 root handle 1: htb default 10 r2q 1000 &&
		tc class add dev rail0 parent 1: classid 1:10 htb rate ${RATE_MBIT}mbit &&
		tc class add dev rail0 parent 1: classid 1:20 htb rate ${SLOW_MBIT}mbit &&
		tc filter add dev rail0 parent 1: protocol ip prio 1 u32 match ip dst $peer/32 flowid 1:20" ||
		tap_fail "(c) htb on node$n rail0"
done
faulty c "node1 <-> node3 on rail 0 at $SLOW_MBIT Mbit/s: FAIL naming only the link node1 - node3 on rail 0" \
	"link node1 node3 0;" "link: node1 - node3 on rail 0 "
dir=$SC_TMP/c json=$SC_TMP/c/p2p-shm+tcp.json
if [ "$(jq '[.records[] | select(.retest_p50_gbps != null and .bw_p50_gbps > 0)] | length' "$json")" -ge 2 ] &&
	grep -q 'first pass .* alone ' "$dir.log"; then
	tap_ok "(c) suspects retested alone: both figures in the output and the JSON"
else
	tap_fail "(c) retest figures" "$(grep 'retested' "$dir.log" | head -3)"
fi

# (d) a NIC fails mid-run.
for n in 1 3; do "$SIMCLUSTER" exec "$n" tc qdisc del dev rail0 root; done
for n in 1 3; do "$SIMCLUSTER" cap "$n:0:${RATE_MBIT}mbit" >/dev/null; done
dir=$SC_TMP/d
t0=$SECONDS
sc_mpiexec -ppn 2 -n 8 "$P2P" "${RUN[@]}" -T 5 -b 2M -e 2M --results "$dir" >"$dir.log" 2>&1 &
pid=$!
sleep 1.5
"$SIMCLUSTER" link 2 1 down
wait $pid
rc=$?
"$SIMCLUSTER" link 2 1 up
if [ "$rc" -eq 3 ] && [ $((SECONDS - t0)) -lt 60 ] &&
	grep -q 'timed out .* rank [0-9] (host node[0-3], .*rail1' "$dir.log" &&
	grep -q 'pair failed: .*host node2, rail 1, nic rail1' "$dir.log" &&
	[ "$(jq .summary.exit_status "$dir/p2p-shm+tcp.json")" = 3 ]; then
	tap_ok "(d) node2 rail 1 down mid-run: exit 3 in $((SECONDS - t0)) s, the pair and its link named, results kept"
else
	tap_fail "(d) NIC down mid-run" "exit $rc after $((SECONDS - t0)) s" "$(grep -i 'error\|failed' "$dir.log" | head -4)"
fi
sc_down
tap_done
