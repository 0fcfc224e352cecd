#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Several transports in one run, on simulated clusters of 2 and 3 nodes x 2
# rails x 2 ranks per node (local rank k on rail k): --transport shm+tcp
# passes the transport conformance suite, and every collective with
# --algo hier and with --algo ring passes the data check. For hier, the
# rail counters carry exactly the bytes the algorithm sends between nodes,
# and the spine, which is the only way from one rail to another, carries
# under 1 % of that (for ring, the check is shown able to fail: its
# successors cross from rail 1 to rail 0). Also: shm alone across nodes and
# hier with uneven ranks per node are refused with one line and exit 2.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_simcluster.sh"

sc_require "$BIN/allreduce_bench" "$BUILD/tests/progs/tp_conform"
SC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rbhier.XXXXXX")
trap 'rm -rf "$SC_TMP"' EXIT
export RAILBENCH_PLOT=/bin/true
COMMON=(--transport shm+tcp --net-if rail0,rail1 -T 60 -c 1)
SIZE=$((1 << 20)) ITERS=3 WARM=1

# check_run NAME RC LOG: exit 0 and #wrong 0 in every data row.
check_run() {
	if [ "$2" -eq 0 ] && awk '!/^#/ && NF >= 13 { rows++; if ($8 != "0" || $13 != "0") bad++ }
		END { exit !(rows > 0 && bad == 0) }' "$3"; then
		tap_ok "$1"
	else
		tap_fail "$1" "exit $2" "$(grep -v '^ *[0-9]' "$3" | tail -5)"
	fi
}

# Bytes hier sends between nodes per operation on N nodes x L ranks, table
# size S (docs/algorithms.md): all-reduce 2(N-1)S, all-gather (N-1)S,
# all-to-all (N-1)LS.
hier_bytes() {
	local coll=$1 nodes=$2 size=$3 l=2
	case $coll in
	allreduce) echo $((2 * (nodes - 1) * size)) ;;
	allgather) echo $(((nodes - 1) * size)) ;;
	alltoall) echo $(((nodes - 1) * l * size)) ;;
	esac
}

for nodes in 2 3; do
	n=$((2 * nodes))
	if ! sc_up "$nodes" 2; then
		tap_fail "simcluster up $nodes x 2"
		continue
	fi
	if [ "$nodes" = 2 ]; then
		log=$SC_TMP/conform.log
		timeout -k 5 240 "$SIMCLUSTER" mpiexec -ppn 2 -n 4 \
			"$BUILD/tests/progs/tp_conform" --transport shm+tcp \
			--net-if rail0,rail1 --self --timeout 60000 >"$log" 2>&1
		rc=$?
		ok=$(grep -c '^ok ' "$log") bad=$(grep -c '^not ok ' "$log")
		if [ "$rc" = 0 ] && [ "$ok" -gt 0 ] && [ "$bad" = 0 ]; then
			tap_ok "2 nodes: tp_conform --transport shm+tcp: $ok cases pass"
		else
			tap_fail "2 nodes: tp_conform --transport shm+tcp" "exit $rc, $bad failed" \
				"$(grep -v '^ok' "$log" | tail -5)"
		fi
	fi
	for coll in allreduce allgather alltoall; do
		for algo in hier ring; do
			[ "$coll" = alltoall ] && [ "$algo" = ring ] && continue
			name="$nodes nodes x 2 rails x 2: $coll --algo $algo over shm+tcp"
			log=$SC_TMP/$coll-$algo-$nodes.log
			sc_counters >"$SC_TMP/before"
			sc_mpiexec -ppn 2 -n $n "$BIN/${coll}_bench" "${COMMON[@]}" \
				--algo $algo -b $SIZE -e $SIZE -n $ITERS -w $WARM \
				--results "$SC_TMP/res-$coll-$algo-$nodes" >"$log" 2>&1
			rc=$?
			sc_counters >"$SC_TMP/after"
			check_run "$name: data check" "$rc" "$log"
			if grep -q '^#  rank  1 .*shm .* | tcp rail1 10\.200\.1\.1 .*rail 1' "$log"; then
				tap_ok "$name: preamble shows both links and rail 1 for local rank 1"
			else
				tap_fail "$name: preamble links" "$(grep '^#  rank  1' "$log")"
			fi
			sc_delta "$SC_TMP/before" "$SC_TMP/after" >"$SC_TMP/delta"
			read -r rail cross < <(awk '$1 ~ /^node/ && $2 ~ /^rail/ { t += $3 }
				$1 == "spine" { c += $3 } END { print t + 0, c + 0 }' "$SC_TMP/delta")
			if [ "$algo" = ring ]; then
				# Ranks in order: rank 2j+1 (rail 1) sends to 2j+2 (rail 0).
				if [ "$cross" -gt $((rail / 10)) ]; then
					tap_ok "$name: the spine check can fail: $cross of $rail rail bytes crossed rails"
				else
					tap_fail "$name: ring should cross rails" "spine $cross, rails $rail"
				fi
				continue
			fi
			# Operations: the priming, then per placement warm-up +
			# timed + checked.
			ops=$(rb_json_ops "$SC_TMP/res-$coll-$algo-$nodes/$coll-"*.json 2>/dev/null)
			want=$(($(hier_bytes "$coll" "$nodes" $SIZE) * ${ops:-0}))
			if [ "$rail" -ge $((want * 95 / 100)) ] && [ "$rail" -le $((want * 115 / 100)) ]; then
				tap_ok "$name: rails carried $rail B, hier sends $want B between nodes"
			else
				tap_fail "$name: rail volume" "rails $rail B, hier needs $want B" \
					"$(cat "$SC_TMP/delta")"
			fi
			if [ $((cross * 100)) -lt "$rail" ]; then
				tap_ok "$name: cross-rail bytes $cross < 1 % of $rail"
			else
				tap_fail "$name: cross-rail bytes" "spine forwarded $cross of $rail" \
					"$(cat "$SC_TMP/delta")"
			fi
		done
	done
done

# shm alone cannot reach the other node: one line, exit 2.
log=$SC_TMP/shm-only.log
sc_mpiexec -ppn 2 -n 4 "$BIN/allreduce_bench" --transport shm -b 8 -e 8 \
	--no-results >"$log" 2>&1
rc=$?
if [ "$rc" = 2 ] && [ "$(grep -c "invalid --transport 'shm': it cannot reach rank 2 (host node1) from rank 0 (host node0), another node" "$log")" = 1 ]; then
	tap_ok "--transport shm across nodes: exit 2, one line naming the unreachable rank"
else
	tap_fail "--transport shm across nodes refused" "exit $rc" "$(tail -3 "$log")"
fi
# 3 ranks on 2 nodes (-ppn 2): node0 has 2, node1 has 1.
log=$SC_TMP/uneven.log
sc_mpiexec -ppn 2 -n 3 "$BIN/allreduce_bench" "${COMMON[@]}" --algo hier \
	-b 8 -e 8 --no-results >"$log" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q "invalid --algo 'hier': .*ranks per node" "$log"; then
	tap_ok "--algo hier with uneven ranks per node: exit 2 with the reason"
else
	tap_fail "--algo hier with uneven ranks per node refused" "exit $rc" "$(tail -3 "$log")"
fi
tap_done
