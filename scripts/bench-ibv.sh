#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Point-to-point RDMA write bandwidth of railbench's roce transport against
# perftest ib_write_bw at the same message sizes, both in one Soft-RoCE
# guest (scripts/vm/), printed as a table with the ratio railbench/perftest
# (goal >= 0.9). Each size is measured ROUNDS times, alternating the two
# tools, and the best of each is compared (the guest shares a loaded host).
#
# Usage: scripts/bench-ibv.sh [-n ITERS] [-r ROUNDS] [SIZE...]
#        (defaults: -n 50 -r 3, sizes 1M 2M 4M 8M; BUILD env, default build)
# Exit: 0 measured (the ratio is reported, not enforced), 1 a run failed,
# 77 the guest cannot be prepared here.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
ITERS=50
ROUNDS=3
while getopts n:r: o; do
	case $o in
	n) ITERS=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	*) echo "usage: $0 [-n ITERS] [-r ROUNDS] [SIZE...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
SIZES=()
for s in "${@:-1M 2M 4M 8M}"; do
	for t in $s; do
		n=${t%[KMG]}
		case $t in
		*K) n=$((n << 10)) ;; *M) n=$((n << 20)) ;; *G) n=$((n << 30)) ;;
		esac
		SIZES+=("$n")
	done
done

[ -x "$BUILD/tests/progs/ibv_bw" ] || { echo "bench-ibv: $BUILD/tests/progs/ibv_bw not built (make)" >&2; exit 1; }
"$ROOT/scripts/vm/prepare.sh" -q || exit $?
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
"$ROOT/scripts/vm/run.sh" -v --timeout 900 -- "$ROOT/scripts/vm/guest-bw.sh" \
	"$BUILD" "$ITERS" "$ROUNDS" "${SIZES[@]}" >"$OUT/raw" 2>"$OUT/err"
rc=$?
grep -v '^run.sh:' "$OUT/err" >&2
awk -v iters="$ITERS" -v rounds="$ROUNDS" '
$1 == "ib_write_bw" || $1 == "railbench" {
	if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 }
	if ($4 + 0 > best[$1, $2]) best[$1, $2] = $4 + 0
}
END {
	printf "# RDMA write bandwidth, rxe0 (Soft-RoCE) in a QEMU guest, 1 QP, ACK timeout 18,\n"
	printf "# %d iterations per run, best of %d runs per tool and size\n", iters, rounds
	printf "# %10s %14s %14s %7s\n", "bytes", "ib_write_bw", "railbench", "ratio"
	printf "# %10s %14s %14s %7s\n", "", "(Gb/s)", "(Gb/s)", ""
	for (i = 1; i <= n; i++) {
		s = order[i]; p = best["ib_write_bw", s]; r = best["railbench", s]
		ratio = p > 0 ? r / p : 0
		printf "%12d %14.3f %14.3f %7.2f\n", s, p, r, ratio
		sum += ratio
	}
	if (n) printf "# mean ratio %.2f (goal >= 0.90)\n", sum / n
}' "$OUT/raw"
grep '^run.sh:' "$OUT/err" | sed 's/^/# /'
[ "$rc" -eq 0 ] || { echo "bench-ibv: guest run failed with status $rc" >&2; exit 1; }
