#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# tcp transport: every collective and algorithm with the data check, on one
# host over loopback (1-4 ranks) and across 2 and 3 simulated nodes x 2 rails
# (2 ranks per node, local rank k on rail k). Across nodes it also checks,
# for one algorithm per collective, from each node's interface counters that the data went over the rails,
# both rails in proportion, management traffic small, and the volume close
# to what the algorithm must move between nodes.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_simcluster.sh"

sc_require_progs "$BIN/allreduce_bench" "$BIN/allgather_bench" "$BIN/alltoall_bench"
SC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rbtcp.XXXXXX")
trap 'rm -rf "$SC_TMP"' EXIT
COMMON=(--transport tcp --no-plot -T 20)

# Algorithm names the harness accepts for a collective over tcp.
algos_of() {
	"$BIN/$1_bench" --transport tcp --algo '?' 2>&1 | sed -n 's/.*expected //p' | tr -d ','
}

# ok when the run exited 0 and reported no wrong values.
check_run() {
	local name=$1 rc=$2 log=$3
	if [ "$rc" -eq 0 ] && grep -q '^# Out of bounds values : 0 OK' "$log"; then
		tap_ok "$name"
	else
		tap_fail "$name" "exit $rc" "$(grep -v '^ *[0-9]' "$log" | tail -5)"
	fi
}

# ---- one host, loopback ----
for n in 1 2 3 4; do
	for coll in allreduce allgather alltoall; do
		for algo in $(algos_of "$coll"); do
			log=$SC_TMP/lo-$coll-$algo-$n.log
			timeout -k 5 120 mpiexec -n "$n" "$BIN/${coll}_bench" "${COMMON[@]}" \
				--algo "$algo" -b 8 -e 256K -f 32 -n 2 -w 1 --no-results >"$log" 2>&1
			rc=$?
			if [ "$rc" -eq 2 ] && grep -q 'does not support\|not support\|unsupported' "$log"; then
				tap_skip "loopback $coll $algo $n ranks" "algorithm does not take $n ranks"
				continue
			fi
			check_run "loopback $coll $algo $n ranks" "$rc" "$log"
		done
	done
done

# Striping: large messages split over several streams per peer.
log=$SC_TMP/lo-streams.log
timeout -k 5 120 mpiexec -n 3 "$BIN/allreduce_bench" "${COMMON[@]}" --tcp-streams 3 \
	-b 1K -e 4M -f 64 -n 2 -w 1 --no-results >"$log" 2>&1
check_run "loopback allreduce 3 ranks, 3 streams per peer" $? "$log"

# ---- simulated nodes ----
# Bytes the algorithm moves between nodes per operation, ranks node-major
# with 2 per node (so n = 2 * nodes): ring successors cross a node boundary
# once per node; pairwise all-to-all sends size/n to each of n-2 remote ranks.
internode_bytes() {
	local coll=$1 nodes=$2 size=$3 n=$((2 * $2))
	case $coll in
	allreduce) echo $((nodes * 2 * (n - 1) * size / n)) ;;
	allgather) echo $((nodes * (n - 1) * size / n)) ;;
	alltoall) echo $(((n - 2) * size)) ;;
	esac
}

declare -A ALGO=([allreduce]=ring [allgather]=ring [alltoall]=pairwise)
SIZE=$((1 << 20)) ITERS=4 WARM=1

for nodes in 2 3; do
	if ! sc_can_run; then
		tap_skip "$nodes simulated nodes x 2 rails" "needs root for network namespaces"
		continue
	fi
	if ! sc_up "$nodes" 2; then
		tap_fail "simcluster up $nodes x 2"
		continue
	fi
	for coll in allreduce allgather alltoall; do
		name="$nodes nodes x 2 rails: $coll ${ALGO[$coll]}"
		log=$SC_TMP/sc-$coll-$nodes.log
		sc_counters >"$SC_TMP/before"
		sc_mpiexec -ppn 2 -n $((2 * nodes)) "$BIN/${coll}_bench" "${COMMON[@]}" \
			--net-if rail0,rail1 --algo "${ALGO[$coll]}" -b $SIZE -e $SIZE \
			-n $ITERS -w $WARM --results "$SC_TMP/res-$coll-$nodes" >"$log" 2>&1
		rc=$?
		sc_counters >"$SC_TMP/after"
		check_run "$name: data check" "$rc" "$log"
		if grep -q "ranks on $nodes nodes" "$log"; then
			tap_ok "$name: ranks report $nodes hosts"
		else
			tap_fail "$name: ranks report $nodes hosts" "$(grep '^# .*ranks on' "$log")"
		fi
		sc_delta "$SC_TMP/before" "$SC_TMP/after" >"$SC_TMP/delta"
		# Operations: the priming, then per placement warm-up + timed + checked.
		ops=$(rb_json_ops "$SC_TMP/res-$coll-$nodes/$coll-"*.json 2>/dev/null)
		want=$(($(internode_bytes "$coll" "$nodes" $SIZE) * ${ops:-0}))
		# Payload crosses nodes exactly once, so summed tx is the payload
		# plus TCP/IP headers and ACKs; allow 5 % under (rounding), 15 % over.
		read -r rail_tx mgmt_all < <(awk '$2 ~ /^rail/ { t += $3 }
			$2 == "mgmt0" { m += $3 + $4 } END { print t + 0, m + 0 }' "$SC_TMP/delta")
		if [ "$rail_tx" -ge $((want * 95 / 100)) ] && [ "$rail_tx" -le $((want * 115 / 100)) ]; then
			tap_ok "$name: rails carried $rail_tx B, algorithm needs $want B"
		else
			tap_fail "$name: rail volume" "rails carried $rail_tx B, algorithm needs $want B" \
				"$(cat "$SC_TMP/delta")"
		fi
		if [ "$mgmt_all" -lt $((want / 50)) ]; then
			tap_ok "$name: management carried only $mgmt_all B"
		else
			tap_fail "$name: management traffic" "mgmt $mgmt_all B vs data $want B"
		fi
		# Each node's two rails each carry 30-70 % of its rail bytes.
		bad=$(awk '$2 ~ /^rail/ { v[$1" "$2] = $3 + $4; tot[$1] += $3 + $4 }
			END { for (k in v) { split(k, a, " ");
				if (v[k] < 0.3 * tot[a[1]] || v[k] > 0.7 * tot[a[1]]) print k, v[k], tot[a[1]] } }' \
			"$SC_TMP/delta")
		if [ -z "$bad" ]; then
			tap_ok "$name: both rails of every node in proportion"
		else
			tap_fail "$name: rail balance" "$bad"
		fi
	done
	# The other algorithms across the same nodes: data check only (their
	# inter-node volume depends on rank placement).
	for coll in allreduce allgather alltoall; do
		for algo in $(algos_of "$coll"); do
			[ "$algo" = "${ALGO[$coll]}" ] && continue
			log=$SC_TMP/sc-$coll-$algo-$nodes.log
			sc_mpiexec -ppn 2 -n $((2 * nodes)) "$BIN/${coll}_bench" "${COMMON[@]}" \
				--net-if rail0,rail1 --algo "$algo" -b 4K -e 4M -f 32 -n 2 -w 1 \
				--no-results >"$log" 2>&1
			check_run "$nodes nodes x 2 rails: $coll $algo: data check" $? "$log"
		done
	done
	log=$SC_TMP/sc-streams-$nodes.log
	sc_mpiexec -ppn 2 -n $((2 * nodes)) "$BIN/allreduce_bench" "${COMMON[@]}" \
		--net-if rail0,rail1 --tcp-streams 4 -b 4K -e 4M -f 32 -n 2 -w 1 \
		--no-results >"$log" 2>&1
	check_run "$nodes nodes x 2 rails: allreduce, 4 streams per peer: data check" $? "$log"
	sc_down
done
tap_done
