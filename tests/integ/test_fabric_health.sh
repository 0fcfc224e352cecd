#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Fabric counters in the results (docs/results.md, "Fabric counters") on a
# simulated 2-node cluster, tcp over rail0: a clean run records every rank's
# rail0 deltas (all zero) and passes; a rail that goes down and up again
# inside -T leaves the data correct but the carrier changes: verdict WARN,
# exit 4, the footer names the host, the interface and the counter, and the
# JSON keeps the deltas per rank.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_simcluster.sh"

sc_require "$BIN/allreduce_bench" jq
SC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rbfab.XXXXXX")
trap 'rm -rf "$SC_TMP"' EXIT
export SC_RUN_TIMEOUT=180
JSON=allreduce-tcp-ring.json

if ! sc_up 2 1; then
	tap_fail "simcluster up 2 x 1"
	tap_done
fi

# run NAME ARGS...: all-reduce over rail0, one rank per node, results in
# $SC_TMP/NAME; in the background, sets RUN_PID, RUN_LOG, RUN_DIR.
run() {
	RUN_LOG=$SC_TMP/$1.log RUN_DIR=$SC_TMP/$1
	shift
	sc_mpiexec -ppn 1 -n 2 "$BIN/allreduce_bench" --transport tcp \
		--net-if rail0 --algo ring --no-plot --results "$RUN_DIR" "$@" \
		>"$RUN_LOG" 2>&1 &
	RUN_PID=$!
}

# 1. Clean.
run clean -b 8 -e 1M -f 8 -n 5 -w 1 -T 20
wait "$RUN_PID"
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^# Fabric counters      : no carrier change or error$' "$RUN_LOG" &&
	grep -q '^# Verdict: PASS' "$RUN_LOG"; then
	tap_ok "clean run: PASS, exit 0, footer says no carrier change or error"
else
	tap_fail "clean run: PASS, exit 0" "exit $rc" "$(grep -E '^# (Fabric|Verdict)|error' "$RUN_LOG")"
fi
# Every record has both ranks' rail0 with all four counters, all zero.
if jq -e '[.records[] | .fabric | length == 2 and
	  ([.[] | .device] == ["rail0", "rail0"]) and ([.[] | .host] == ["node0", "node1"]) and
	  all(.[]; .carrier_changes == 0 and .rx_errors == 0 and .tx_errors == 0 and
	      (.rx_dropped | type) == "number")] | length > 0 and all' \
	"$SC_TMP/clean/$JSON" >/dev/null; then
	tap_ok "clean run: every record holds each rank's rail0 deltas"
else
	tap_fail "clean run: fabric deltas in the JSON" "$(jq -c '.records[0].fabric' "$SC_TMP/clean/$JSON")"
fi
if jq -e '.summary.fabric_warnings == 0 and .summary.exit_status == 0' "$SC_TMP/clean/$JSON" >/dev/null; then
	tap_ok "clean run: summary has no fabric warning"
else
	tap_fail "clean run: summary" "$(jq -c .summary "$SC_TMP/clean/$JSON")"
fi

# 2. A flap: node1's rail0 down for 1 s and up again during a size, well
# inside -T. TCP retransmits, the data stays correct.
run flap -b 1M -e 64M -f 2 -n 20 -w 1 -T 30
for ((i = 0; i < 600; i++)); do
	[ -f "$SC_TMP/flap/${JSON%.json}.csv" ] &&
		[ "$(tail -n +2 "$SC_TMP/flap/${JSON%.json}.csv" | grep -c .)" -ge 2 ] && break
	kill -0 "$RUN_PID" 2>/dev/null || break
	sleep 0.1
done
"$SIMCLUSTER" link 1 0 down
sleep 1
"$SIMCLUSTER" link 1 0 up
wait "$RUN_PID"
rc=$?
if [ "$rc" -eq 4 ] && grep -q '^# Verdict: WARN: data correct; fabric counters moved' "$RUN_LOG"; then
	tap_ok "rail flap: verdict WARN, exit 4"
else
	tap_fail "rail flap: verdict WARN, exit 4" "exit $rc" \
		"$(grep -E '^# (Fabric|Verdict|Out)|error' "$RUN_LOG" | head -5)"
fi
if grep -Eq '^# Fabric counters      : WARN host node1 rail0: carrier_changes \+2 \(rank 1, size [0-9]+ B\)$' "$RUN_LOG" &&
	! grep -q 'WARN host node0' "$RUN_LOG" &&
	rb_rows_correct "$RUN_LOG" 4; then
	tap_ok "rail flap: footer names node1 rail0 and its carrier change; #wrong 0"
else
	tap_fail "rail flap: footer names the interface" "$(grep -E '^# Fabric' "$RUN_LOG")"
fi
if jq -e '[.records[] | .fabric[] | select(.rank == 1 and .device == "rail0" and .carrier_changes == 2)]
	  | length >= 1' "$SC_TMP/flap/$JSON" >/dev/null &&
	jq -e '[.records[] | .fabric[] | select(.rank == 0 and .carrier_changes != 0)] | length == 0' \
		"$SC_TMP/flap/$JSON" >/dev/null &&
	jq -e '.summary.fabric_warnings >= 1 and .summary.exit_status == 4' "$SC_TMP/flap/$JSON" >/dev/null; then
	tap_ok "rail flap: JSON keeps rank 1's carrier change, rank 0's none, summary exit 4"
else
	tap_fail "rail flap: JSON deltas" "$(jq -c '[.records[] | .fabric]' "$SC_TMP/flap/$JSON" | head -c 600)"
fi
tap_done
