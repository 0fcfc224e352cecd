# SPDX-License-Identifier: BSD-3-Clause
# Helpers shared by scripts/bench-*.sh; source it. Benchmarks compare two
# contenders that ran in the same repetition (alternating, so they shared
# its background load): the figure is the median of those paired ratios
# with their min and max, "median [min..max]" (docs/statistics.md,
# "Comparing runs"). Per-run values live in files, one line per
# repetition, "nan" for a run that produced nothing, so that line i of two
# files always belongs to repetition i. Numbers print with %.3g: a ratio of
# 0.0007 shows as 0.0007, never as 0.00.

# bl_fmt X: X with 3 significant digits ("nan" stays "nan").
bl_fmt() {
	awk -v x="$1" 'BEGIN { if (x == "nan" || x == "") print "nan"; else printf "%.3g\n", x }'
}

# bl_list: the numbers on stdin on one line, %.3g each.
bl_list() {
	awk '{ printf "%s%s", (NR > 1 ? " " : ""), ($1 == "nan" ? "nan" : sprintf("%.3g", $1)) }
		END { print "" }'
}

# bl_median: the median of the numbers on stdin ("nan" lines skipped);
# "nan" when there are none.
bl_median() {
	grep -v '^nan$' | sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "nan"; exit }
		print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bl_spread: "median [min..max]" of the numbers on stdin, %.3g, "nan"
# lines skipped; "nan [nan..nan]" when there are none.
bl_spread() {
	grep -v '^nan$' | sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "nan [nan..nan]"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3g [%.3g..%.3g]\n", m, v[1], v[NR] }'
}

# bl_ratios A B: A_i / B_i for every repetition i where both files have a
# number and B_i is not 0, one per line (%.6g).
bl_ratios() {
	[ -f "$1" ] && [ -f "$2" ] || return 0
	paste -d' ' "$1" "$2" | awk 'NF == 2 && $1 != "nan" && $2 != "nan" && $2 + 0 != 0 {
		printf "%.6g\n", $1 / $2 }'
}

# bl_over A X: A_i / X for every repetition i (X one reference value).
bl_over() {
	[ -f "$1" ] || return 0
	awk -v x="$2" '$1 != "nan" && x != "nan" && x + 0 != 0 { printf "%.6g\n", $1 / x }' "$1"
}

# bl_paired A B: "median [min..max]" of the paired ratios A_i / B_i.
bl_paired() {
	bl_ratios "$1" "$2" | bl_spread
}

# bl_count OP TARGET: "k of n" of the ratios on stdin that satisfy
# ratio OP TARGET (OP is <= or >=).
bl_count() {
	awk -v op="$1" -v t="$2" '{ n++; if (op == "<=" ? $1 <= t + 0 : $1 >= t + 0) k++ }
		END { printf "%d of %d\n", k, n }'
}

# bl_goal LABEL "MEDIAN [MIN..MAX]" OP TARGET [NOTE]: one goal line, met
# when the median satisfies MEDIAN OP TARGET.
bl_goal() {
	awk -v l="$1" -v s="$2" -v op="$3" -v t="$4" -v note="${5:-}" 'BEGIN {
		split(s, a, " "); v = a[1]
		if (v == "nan" || v == "") { printf "goal %-48s: no data\n", l; exit }
		ok = op == "<=" ? v + 0 <= t + 0 : v + 0 >= t + 0
		printf "goal %-48s: %s, target %s %s -> %s%s\n", l, s, op, t,
		       ok ? "met" : "missed", note == "" ? "" : " (" note ")" }'
}

# bl_rows FILE: "size time busbw wrong" of each out-of-place data row of a
# railbench output (data rows: size count type redop time algbw busbw
# #wrong p99 [in-place columns]).
bl_rows() {
	awk '!/^#/ && NF >= 8 && $1 ~ /^[0-9]+$/ { print $1, $5, $7, $8 }' "$1"
}

# bl_csv_col FILE NAME: column NAME of the out-of-place rows of a results
# CSV, found by the header's names.
bl_csv_col() {
	awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["placement"] == "out-of-place" { print $c[name] }' "$1"
}

# bl_need PROG CMD...: each CMD is on PATH, else one line and exit 2.
bl_need() {
	local prog=$1 t
	shift
	for t in "$@"; do
		command -v "$t" >/dev/null ||
			{ echo "$prog: $t not found (scripts/install-deps.sh)" >&2; exit 2; }
	done
}

# bl_count_arg PROG OPT VALUE: VALUE is an integer >= 1, else one line and
# exit 2.
bl_count_arg() {
	case $3 in '' | *[!0-9]* | 0) echo "$1: invalid $2 '$3'" >&2; exit 2 ;; esac
}

# --- the simulated cluster (scripts/simcluster, as $SC) -------------------

# bl_sim_init PROG: needs root (exit 77 otherwise); makes $TMP; at exit
# stops the iperf3 server, takes the simulated cluster down and removes $TMP.
bl_sim_init() {
	if [ "$(id -u)" != 0 ]; then
		echo "$1: needs root (network namespaces)" >&2
		exit 77
	fi
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	IPERF_PID=
	trap bl_sim_cleanup EXIT
	trap 'exit 130' INT TERM
}

bl_sim_cleanup() {
	[ -n "$IPERF_PID" ] && kill "$IPERF_PID" 2>/dev/null
	"$SC" down >/dev/null 2>&1
	rm -rf "$TMP"
}

# bl_iperf_server: an iperf3 server on node 1's rail0 address.
bl_iperf_server() {
	"$SC" exec 1 iperf3 -s -B 10.200.0.2 -p 5201 >/dev/null 2>&1 &
	IPERF_PID=$!
	sleep 0.5
}

# bl_iperf OUT BIDIR: one 3 s iperf3 run from node 0 to node 1 over rail0;
# appends its rate in Gbit/s to OUT, "nan" on failure. BIDIR 1: --bidir,
# the per-direction rate (the mean of the two directions' receive rates);
# 0: one stream, one direction.
bl_iperf() {
	local out=$1 bidir=$2 json rate
	json=$("$SC" exec 0 iperf3 -c 10.200.0.2 -B 10.200.0.1 -p 5201 -t 3 -J \
		$([ "$bidir" = 1 ] && echo --bidir) 2>/dev/null)
	if [ "$bidir" = 1 ]; then
		rate=$(jq -r '(.end.sum_received.bits_per_second +
			.end.sum_received_bidir_reverse.bits_per_second) / 2 / 1e9' <<<"$json" 2>/dev/null)
	else
		rate=$(jq -r '.end.sum_received.bits_per_second / 1e9' <<<"$json" 2>/dev/null)
	fi
	[[ $rate =~ ^[0-9.eE+-]+$ ]] || rate=nan
	echo "$rate" >>"$out"
	[ "$rate" != nan ]
}
