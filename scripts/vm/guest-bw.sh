#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Inside the Soft-RoCE guest: RDMA write bandwidth of perftest ib_write_bw
# and of railbench's roce transport (tests/progs/ibv_bw), alternating per
# size and round so that both see the same load. Prints one line per
# measurement: "<tool> <bytes> <round> <Gb/s>" (Gb/s = 1e9 bit/s).
# Usage (in the guest): guest-bw.sh BUILD_DIR ITERS ROUNDS SIZE...
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/guest-lib.sh"
BUILD=$1
ITERS=$2
ROUNDS=$3
shift 3
export UCX_TLS=sm,self
G=$(vm_gid_index rxe0) || { echo "rxe0 has no RoCE v2 IPv4 GID" >&2; exit 1; }
fail=0
for r in $(seq "$ROUNDS"); do
	for s in "$@"; do
		# -u 18: the same ACK timeout as the roce transport's QPs
		bw=$(vm_perftest /tmp/ibwb-server.log ib_write_bw -d rxe0 -x "$G" \
			-s "$s" -n "$ITERS" -u 18 -F --report_gbits |
			awk '/#bytes/ { getline; print $4 }')
		[ -n "$bw" ] || { fail=1; cat /tmp/ibwb-server.log >&2; }
		echo "ib_write_bw $s $r ${bw:-0}"
		bw=$(timeout 300 mpiexec -n 2 "$BUILD/tests/progs/ibv_bw" \
			--transport roce -b "$s" -e "$s" -n "$ITERS" -w 3 |
			awk '!/^#/ && NF == 4 { print $4 }')
		[ -n "$bw" ] || fail=1
		echo "railbench $s $r ${bw:-0}"
	done
done
exit $fail
