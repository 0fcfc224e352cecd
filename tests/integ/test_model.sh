#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/rb-model against hand-computed predictions (docs/model.md), and
# its bad input: one line, exit 2.
. "$(dirname "$0")/../lib.sh"

TMP=$(rb_tmpdir)
M=scripts/rb-model
command -v python3 >/dev/null || { tap_skip "rb-model" "no python3"; tap_done; }
P=(--alpha-intra 1 --beta-intra 100 --alpha-inter 10 --beta-inter 10 --gpus 8 --size 64M --csv)

# close NAME GOT WANT: |GOT/WANT - 1| < 1e-5.
close() {
	if awk -v g="$2" -v w="$3" 'BEGIN { exit !(g != "" && (g / w - 1) ^ 2 < 1e-10) }'; then
		tap_ok "$1: $2 us"
	else
		tap_fail "$1" "got '$2', want $3"
	fi
}

# col ARGS...: time_us of the one row rb-model prints for ARGS.
col() {
	"$M" "${P[@]}" "$@" | awk -F, 'NR == 2 { print $8 }'
}

# S = 64 MiB = 67108864 B; GB/s = 1e3 B/us.
# hier all-reduce, 2 nodes x 8: intra 2*7*1 + 2*(7/8)*S/100e3 = 1188.405;
# inter 2*1*10 + 2*(1/2)*(S/8)/10e3 = 858.861.
close "hier all-reduce 2 nodes x 8" "$(col --coll allreduce --algo hier --fabric rail --nodes 2)" 2047.2658
# 8 nodes: intra the same; inter 2*7*10 + 2*(7/8)*(S/8)/10e3 = 1608.0064.
close "hier all-reduce 8 nodes x 8" "$(col --coll allreduce --algo hier --fabric rail --nodes 8)" 2796.4109
# Rail-blind ring, 2 nodes x 8 = 16 ranks: 30 steps of max(alpha) = 300,
# 2*(15/16)*S = 125829120 B through every hop; the node-crossing hop goes
# from rail 7 to rail 0 through a spine oversubscribed 4x: 10/4 = 2.5 GB/s.
close "rail-blind ring crossing rails, spine 4:1" \
	"$(col --coll allreduce --algo ring --fabric rail --nodes 2 --spine-oversub 4)" 50631.648
# On a fat-tree there are no rails to cross: the hop runs at 10 GB/s.
close "flat ring on a fat-tree" "$(col --coll allreduce --algo ring --fabric fattree --nodes 2)" 12882.912
cross=$("$M" "${P[@]}" --coll allreduce --algo ring --fabric rail --nodes 2 | awk -F, 'NR == 2 { print $11 }')
tap_check "ring's cross-rail bytes per node = 2(n-1)/n S" \
	awk -v c="$cross" 'BEGIN { exit !(c == 125829120) }'
# One node: intra only, alpha-inter and beta-inter not needed.
close "ring all-reduce 1 node x 8" \
	"$("$M" --alpha-intra 1 --beta-intra 100 --gpus 8 --size 64M --csv --coll allreduce --algo ring --fabric rail --nodes 1 | awk -F, 'NR == 2 { print $8 }')" 1188.405
# busbw = S / t x 2(n-1)/n.
bus=$("$M" "${P[@]}" --coll allreduce --algo hier --fabric rail --nodes 2 | awk -F, 'NR == 2 { print $10 }')
close "hier busbw 2 nodes (GB/s)" "$bus" "$(awk 'BEGIN { print 67108864 / 2047.2658 / 1e3 * 30 / 16 }')"

# The parameters from a results file's fit.
cat >"$TMP/inter.json" <<'J'
{ "summary": { "fit": { "link_class": "inter", "alpha_us": 10, "beta_gbps": 10 } } }
J
close "inter-node parameters --from a results file" \
	"$("$M" --from "$TMP/inter.json" --alpha-intra 1 --beta-intra 100 --gpus 8 --size 64M --csv --coll allreduce --algo hier --fabric rail --nodes 8 | awk -F, 'NR == 2 { print $8 }')" 2796.4109

# A hier run's fit charges the intra-node term to the inter-node link;
# with the intra-node parameters known rb-model refits the inter-node term
# from the records with the intra-node term subtracted. Records of 2 nodes
# x 8 made with alpha_e 10 us, beta_e 10 GB/s (and the intra terms above):
# the refit recovers them, so the 8-node prediction is the hand-computed one.
awk 'BEGIN {
	printf "{ \"summary\": { \"fit\": { \"link_class\": \"inter\", \"alpha_us\": 99, \"beta_gbps\": 1 } }, \"records\": ["
	for (k = 0; k < 4; k++) {
		s = 1048576 * 4 ^ k; ib = 2 * 7 / 8 * s; eb = s / 8
		t = 14 * 1 + ib / 1e5 + 2 * 10 + eb / 1e4
		printf "%s{ \"placement\": \"out-of-place\", \"size_bytes\": %d, \"rankmax_p50_us\": %.6f, \"cost\": { \"intra_steps\": 14, \"intra_bytes\": %.1f, \"inter_steps\": 2, \"inter_bytes\": %.1f } }",
			(k ? ", " : ""), s, t, ib, eb
	}
	print "] }"
}' >"$TMP/hier.json"
close "hier fit refitted without the intra-node term" \
	"$("$M" --from "$TMP/hier.json" --alpha-intra 1 --beta-intra 100 --gpus 8 --size 64M --csv --coll allreduce --algo hier --fabric rail --nodes 8 | awk -F, 'NR == 2 { print $8 }')" 2796.4109

# A table and curves.
if command -v gnuplot >/dev/null; then
	tap_check "table and gnuplot curves for 1..4096 nodes" \
		"$M" --alpha-intra 1 --beta-intra 100 --alpha-inter 10 --beta-inter 10 --nodes 1,64,4096 --plot "$TMP/plot"
	tap_check "curves drawn" test -s "$TMP/plot/model-busbw.png" -a -s "$TMP/plot/model-time.png"
else
	tap_skip "gnuplot curves" "no gnuplot"
fi

# expect2 NAME PATTERN ARGS...: exit 2 with one stderr line matching.
expect2() {
	local name=$1 pat=$2 rc
	shift 2
	"$M" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -- "$pat" "$TMP/err"; then
		tap_ok "$name -> exit 2: $(cat "$TMP/err")"
	else
		tap_fail "$name" "exit $rc" "stderr: $(head -3 "$TMP/err")"
	fi
}
expect2 "no parameters at all" "missing --alpha-" --nodes 2
expect2 "missing beta-inter" "missing --beta-inter" --alpha-intra 1 --beta-intra 100 --alpha-inter 1 --nodes 2
expect2 "negative beta" "beta-inter '-3'" --beta-inter -3
expect2 "zero nodes" "nodes '0'" --nodes 0 --alpha-intra 1 --beta-intra 1
expect2 "bad size" "size '12Q'" --size 12Q
echo '{ "summary": { "complete": true } }' >"$TMP/nofit.json"
expect2 "results file without a fit" "no fit" --from "$TMP/nofit.json"
expect2 "unreadable results file" "cannot read" --from "$TMP/no-such.json"
tap_done
