#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Peer authentication of the tcp transport's listeners on a simulated
# cluster (docs/tcp.md, "Peer authentication"). Rank 1's connection to rank
# 2 is held back (a wrong neighbour entry on node1 swallows its SYNs), so
# that strangers reach rank 2's listener before the real peer does:
#  - a well-formed hello (tests/integ/tcp_stranger.py) from another node,
#  - the same from rank 0's own published address and a guessed secret
#    (what a rank of another job sharing --tcp-port would send),
#  - random bytes from the first stranger's address;
# all are rejected and logged once per source address, and the run passes
# with #wrong 0. During the run, random bytes to the listening port are
# refused (listeners close once every peer is connected). Two jobs sharing
# --tcp-port on the same nodes never take each other's connections.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_simcluster.sh"

sc_require "$BIN/allreduce_bench" python3
SC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rbtcpa.XXXXXX")
trap 'rm -rf "$SC_TMP"' EXIT
STRANGER=$RB_ROOT/tests/integ/tcp_stranger.py
PORT=$((41000 + $$ % 1000))
export SC_RUN_TIMEOUT=120

if ! sc_up 4 1; then
	tap_fail "simcluster up 4 x 1"
	tap_done
fi
N() { ip netns exec "$SIMCLUSTER_PREFIX-n$1" "${@:2}"; }
MAC2=$(N 2 cat /sys/class/net/rail0/address)

# job NAME RANKS EXTRA...: all-reduce over rail0, one rank per node, in the
# background; sets JOB_PID, JOB_LOG.
job() {
	JOB_LOG=$SC_TMP/$1.log
	local n=$2
	shift 2
	sc_mpiexec -ppn 1 -n "$n" "$BIN/allreduce_bench" --transport tcp \
		--net-if rail0 --tcp-port "$PORT" --no-plot --no-results -T 20 \
		-b 8 -e 1M -f 4 -n 5 -w 1 "$@" >"$JOB_LOG" 2>&1 &
	JOB_PID=$!
}

# passes LOG: every row checked with #wrong 0, verdict PASS.
passes() {
	rb_rows_correct "$1" 5 && grep -q '^# Verdict: PASS' "$1"
}

# 1. Strangers before the real peer.
N 1 ip neigh replace 10.200.0.3 lladdr 02:00:00:00:00:99 dev rail0 nud permanent
job strangers 3
s1=$(N 3 python3 "$STRANGER" "10.200.0.3:$PORT" --rank 1 --wait 30 --hold 10)
s2=$(N 0 python3 "$STRANGER" "10.200.0.3:$PORT" --src 10.200.0.1:20000 --rank 0 \
	--wait 10 --hold 10)
s3=$(N 3 python3 "$STRANGER" "10.200.0.3:$PORT" --mode noise --wait 10 --hold 10)
N 1 ip neigh replace 10.200.0.3 lladdr "$MAC2" dev rail0 nud reachable
# During the run (once the first row is out): random bytes to the port
# rank 2 listened on.
for ((i = 0; i < 300; i++)); do
	grep -q '^ *[0-9]' "$JOB_LOG" && break
	sleep 0.1
done
(for ((i = 0; i < 20; i++)); do
	N 3 python3 "$STRANGER" "10.200.0.3:$PORT" --mode noise --wait 0 --hold 2
	sleep 0.1
done) >"$SC_TMP/during.txt" 2>&1 &
noise_pid=$!
wait "$JOB_PID"
rc=$?
wait "$noise_pid"
log=$JOB_LOG
if [ "$s1 $s2 $s3" = "closed 0 closed 0 closed 0" ]; then
	tap_ok "strangers before the real peer: closed, nothing sent to them"
else
	tap_fail "strangers before the real peer: closed, nothing sent to them" \
		"another node: $s1" "rank 0's address: $s2" "noise: $s3"
fi
if [ "$rc" -eq 0 ] && passes "$log"; then
	tap_ok "strangers before the real peer: the run passes, #wrong 0"
else
	tap_fail "strangers before the real peer: the run passes" "exit $rc" \
		"$(grep -E 'error|Verdict|^ *[0-9]' "$log" | head -12)"
fi
n4=$(grep -c "tcp: rejected a connection from 10\.200\.0\.4:[0-9]* to rail0 10\.200\.0\.3:$PORT: " "$log")
n1=$(grep -c "tcp: rejected a connection from 10\.200\.0\.1:20000 to rail0 10\.200\.0\.3:$PORT: wrong job secret" "$log")
if [ "$n4" -eq 1 ] && [ "$n1" -eq 1 ]; then
	tap_ok "strangers before the real peer: each source logged once with its address"
else
	tap_fail "strangers before the real peer: each source logged once" \
		"10.200.0.4: $n4 lines, 10.200.0.1:20000: $n1 lines" "$(grep rejected "$log")"
fi
if ! grep -Eq 'lost rank|out of step|did not connect|cannot connect' "$log"; then
	tap_ok "strangers before the real peer: no real peer blamed"
else
	tap_fail "strangers before the real peer: no real peer blamed" "$(grep error "$log" | head -3)"
fi
if [ -s "$SC_TMP/during.txt" ] && ! grep -qv '^refused$' "$SC_TMP/during.txt"; then
	tap_ok "random bytes during the run: refused ($(wc -l <"$SC_TMP/during.txt") tries)"
else
	tap_fail "random bytes during the run: refused" "$(sort "$SC_TMP/during.txt" | uniq -c)"
fi

# 2. Two jobs sharing --tcp-port on the same nodes. Job A is held in its
# setup (as above) while job B starts: B cannot listen on the ports A
# holds, says so, and ends with 3; A passes. Then B alone passes.
N 1 ip neigh replace 10.200.0.3 lladdr 02:00:00:00:00:99 dev rail0 nud permanent
job jobA 3
a_pid=$JOB_PID a_log=$JOB_LOG
for ((i = 0; i < 200; i++)); do
	N 2 ss -ltn 2>/dev/null | grep -q "10.200.0.3%rail0:$PORT\|10.200.0.3:$PORT" && break
	sleep 0.1
done
job jobB 2
wait "$JOB_PID"
b_rc=$?
N 1 ip neigh replace 10.200.0.3 lladdr "$MAC2" dev rail0 nud reachable
wait "$a_pid"
a_rc=$?
if [ "$a_rc" -eq 0 ] && passes "$a_log" && ! grep -q rejected "$a_log"; then
	tap_ok "two jobs on one --tcp-port: the first passes, #wrong 0, no stranger seen"
else
	tap_fail "two jobs on one --tcp-port: the first passes" "exit $a_rc" \
		"$(grep -E 'error|warning|Verdict' "$a_log" | head -5)"
fi
if [ "$b_rc" -eq 3 ] && grep -q "tcp: listen on 10\.200\.0\.[12]:$PORT (rail0): Address already in use" "$JOB_LOG"; then
	tap_ok "two jobs on one --tcp-port: the second names the port in use, exit 3"
else
	tap_fail "two jobs on one --tcp-port: the second fails cleanly" "exit $b_rc" \
		"$(grep -E 'error|Verdict' "$JOB_LOG" | head -5)"
fi
job jobB2 2
wait "$JOB_PID"
rc=$?
if [ "$rc" -eq 0 ] && passes "$JOB_LOG"; then
	tap_ok "two jobs on one --tcp-port: the second passes once the port is free"
else
	tap_fail "two jobs on one --tcp-port: the second passes later" "exit $rc" \
		"$(grep -E 'error|Verdict' "$JOB_LOG" | head -5)"
fi
tap_done
