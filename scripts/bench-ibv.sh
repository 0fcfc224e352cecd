#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Point-to-point RDMA write bandwidth of railbench's roce transport against
# perftest ib_write_bw at the same message sizes, both in one Soft-RoCE
# guest (scripts/vm/), printed as a table with the ratio railbench/perftest
# (goal >= 0.9). Each size is measured ROUNDS times, alternating the two
# tools; the ratio is the median of the per-round ratios (both tools of one
# round shared the loaded host) with min and max.
#
# Usage: scripts/bench-ibv.sh [-n ITERS] [-r ROUNDS] [SIZE...]
#        (defaults: -n 50 -r 3, sizes 1M 2M 4M 8M; BUILD env, default build)
# Exit: 0 measured (the ratio is reported, not enforced), 1 a run failed,
# 77 the guest cannot be prepared here.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/bench-lib.sh"
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
# "<tool> <bytes> <round> <Gb/s>" lines -> $OUT/<tool>.<bytes>, one line per
# round in round order ("nan" for a failed measurement, 0 in the raw output).
for s in "${SIZES[@]}"; do
	for tool in ib_write_bw railbench; do
		awk -v t="$tool" -v s="$s" '$1 == t && $2 == s { print ($4 + 0 > 0 ? $4 : "nan") }' \
			"$OUT/raw" >"$OUT/$tool.$s"
	done
done
echo "# RDMA write bandwidth, rxe0 (Soft-RoCE) in a QEMU guest, 1 QP, ACK timeout 18,"
echo "# $ITERS iterations per run, $ROUNDS rounds alternating the tools; medians over rounds,"
echo "# ratio railbench/ib_write_bw: median [min..max] of the per-round ratios"
printf '# %10s %14s %14s   %s\n' bytes ib_write_bw railbench ratio
printf '# %10s %14s %14s   %s\n' "" "(Gb/s)" "(Gb/s)" ""
: >"$OUT/ratios"
for s in "${SIZES[@]}"; do
	printf '%12d %14s %14s   %s\n' "$s" "$(bl_fmt "$(bl_median <"$OUT/ib_write_bw.$s")")" \
		"$(bl_fmt "$(bl_median <"$OUT/railbench.$s")")" \
		"$(bl_paired "$OUT/railbench.$s" "$OUT/ib_write_bw.$s")"
	bl_ratios "$OUT/railbench.$s" "$OUT/ib_write_bw.$s" >>"$OUT/ratios"
done
bl_goal "railbench vs ib_write_bw, all sizes and rounds" "$(bl_spread <"$OUT/ratios")" ">=" 0.9
grep '^run.sh:' "$OUT/err" | sed 's/^/# /'
[ "$rc" -eq 0 ] || { echo "bench-ibv: guest run failed with status $rc" >&2; exit 1; }
