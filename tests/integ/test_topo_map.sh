#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# topo_map: text and JSON output on this machine and on the fixtures,
# usage errors (one line, exit 2), and the cross-node check under mpiexec.
. "$(dirname "$0")/../lib.sh"
MAP=$BIN/topo_map
FIX=$RB_ROOT/tests/topo/fixtures
TMP=$(rb_tmpdir)

if [ ! -x "$MAP" ]; then
	echo "1..0 # SKIP $MAP not built"
	exit 77
fi

# expect_usage NAME ARGS...: exit 2 and exactly one line on stderr.
expect_usage() {
	local name=$1 rc lines
	shift
	"$MAP" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	lines=$(wc -l <"$TMP/err")
	if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -s "$TMP/out" ]; then
		tap_ok "$name"
	else
		tap_fail "$name" "exit $rc, $lines stderr lines" "$(cat "$TMP/err")"
	fi
}

# json_get FILE EXPR: prints a Python expression over the parsed JSON d.
json_get() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# --- this machine ---
"$MAP" >"$TMP/live.txt" 2>"$TMP/live.err"
tap_check "live text runs" [ $? -eq 0 ]
if grep -Eq '^(no GPUs found|[0-9]+ GPUs? \(.*\)); [0-9]+ NICs?' "$TMP/live.txt"; then
	tap_ok "live headline says what was found"
else
	tap_fail "live headline says what was found" "$(head -3 "$TMP/live.txt")"
fi
# Every interface backed by a PCI function appears in the report.
missing=""
for dev in /sys/class/net/*; do
	[ -e "$dev/device" ] || continue
	case $(readlink -f "$dev/device") in */pci*) ;; *) continue ;; esac
	n=$(basename "$dev")
	grep -Eq "(^|[ /])$n( |$)" "$TMP/live.txt" || missing="$missing $n"
done
tap_check "live report names every PCI interface${missing:+ (missing:$missing)}" [ -z "$missing" ]
tap_check "live summary line" grep -Eq '^Summary: gpus=[0-9]+ rails=[0-9]+ ' "$TMP/live.txt"

"$MAP" --json >"$TMP/live.json" 2>/dev/null
tap_check "live --json runs" [ $? -eq 0 ]
if command -v python3 >/dev/null; then
	tap_check "live JSON parses, source is this machine" \
		[ "$(json_get "$TMP/live.json" 'd["source"]')" = "this machine" ]
else
	tap_skip "live JSON parses" "python3 not installed"
fi

# --- DGX-H100-like fixture ---
"$MAP" --topo-xml "$FIX/dgx-h100.xml" >"$TMP/dgx.txt"
tap_check "fixture text runs" [ $? -eq 0 ]
tap_check "fixture headline" grep -q '^8 GPUs (NVIDIA 10de:2330); 11 NICs: .*; 8 rails, 3 non-rail NICs$' "$TMP/dgx.txt"
tap_check "fixture rail 0 is GPU0's PIX NIC" \
	grep -Eq '^  rail 0 +NIC0 +mlx5_2/ibp22s0 +0000:16:00.0 +<- GPU0 \(PIX\)$' "$TMP/dgx.txt"
tap_check "fixture storage NIC is non-rail" grep -Eq '^  non-rail NIC2 +mlx5_8/' "$TMP/dgx.txt"
tap_check "fixture affinity row" \
	grep -Eq '^  GPU0 +PIX +PXB +PHB +PHB +NODE +NODE +NODE +SYS +SYS +SYS +SYS *$' "$TMP/dgx.txt"

"$MAP" --json --topo-xml "$FIX/dgx-h100.xml" >"$TMP/dgx.json"
tap_check "fixture --json runs" [ $? -eq 0 ]
if command -v python3 >/dev/null; then
	tap_check "fixture JSON rails" [ "$(json_get "$TMP/dgx.json" \
		'",".join(r["name"] for r in d["rails"])')" = \
		"mlx5_2,mlx5_0,mlx5_3,mlx5_1,mlx5_6,mlx5_4,mlx5_7,mlx5_5" ]
	tap_check "fixture JSON affinity and placement" [ "$(json_get "$TMP/dgx.json" \
		'd["affinity"][4][8] + " " + d["placement"][4]["cpuset"]')" = "PXB 4-7,12-15" ]
else
	tap_skip "fixture JSON" "python3 not installed"
fi

# --- usage errors ---
expect_usage "unknown option" --bogus
expect_usage "missing --topo-xml value" --topo-xml
expect_usage "stray argument" extra
expect_usage "unreadable XML" --topo-xml "$TMP/absent.xml"
printf '<topology><object' >"$TMP/bad.xml"
expect_usage "malformed XML" --topo-xml "$TMP/bad.xml"
"$MAP" --topo-xml "$TMP/absent.xml" 2>&1 | grep -q "absent.xml"
tap_check "error names the file" [ "${PIPESTATUS[1]}" -eq 0 ]
"$MAP" --help >"$TMP/help.txt"
tap_check "--help exits 0 and lists --topo-xml" grep -q -- '--topo-xml FILE' "$TMP/help.txt"

# --- cross-node check under mpiexec ---
if ! command -v mpiexec >/dev/null; then
	tap_skip "cross-node check" "mpiexec not installed"
	tap_done
fi
timeout 120 mpiexec -n 2 "$MAP" --topo-xml "$FIX/cpu-only.xml" >"$TMP/mpi1.txt" 2>&1
tap_check "2 ranks on one host: 1 node, no findings" \
	grep -q '^# topo: cross-node check of 1 node (2 ranks): 0 findings$' "$TMP/mpi1.txt"
if command -v python3 >/dev/null; then
	timeout 120 mpiexec -n 2 "$MAP" --json --topo-xml "$FIX/cpu-only.xml" >"$TMP/mpi1.json" 2>/dev/null
	tap_check "2 ranks, --json: cross_check with one node" [ "$(json_get "$TMP/mpi1.json" \
		'len(d["cross_check"]["nodes"]), len(d["cross_check"]["findings"])')" = "1 0" ]
fi
# Distinct host names via UTS namespaces: two DGX-like nodes and one with
# 4 GPUs and 2 rails, which must be reported against the majority.
if unshare --uts true 2>/dev/null; then
	node() { echo "-n 1 unshare --uts sh -c 'hostname $1 && exec $MAP --topo-xml $FIX/$2'"; }
	eval timeout 120 mpiexec "$(node nodeA dgx-h100.xml)" : \
		"$(node nodeB dgx-h100.xml)" : "$(node nodeC two-gpus-per-nic.xml)" \
		>"$TMP/mpi3.txt" 2>&1
	tap_check "3 nodes: findings counted" \
		grep -q '^# topo: cross-node check of 3 nodes (3 ranks): 5 findings$' "$TMP/mpi3.txt"
	tap_check "3 nodes: rail count finding" \
		grep -q '^# topo: host nodeC has 2 rails, majority 8$' "$TMP/mpi3.txt"
	tap_check "3 nodes: GPU count finding" \
		grep -q '^# topo: host nodeC has 4 GPUs, majority 8$' "$TMP/mpi3.txt"
else
	tap_skip "cross-node check across hosts" "unshare --uts not permitted here"
fi
tap_done
