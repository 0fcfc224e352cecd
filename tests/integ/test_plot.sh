#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Charts: scripts/rb-plot.sh on real result files (a small allreduce over
# shm and mpi, read from their JSON) and on hand-written CSVs (read by the
# header's names); PNG signature and size, SVG content (legends, title,
# size ticks), overlays, in-place curves, and the one-line exit-2 errors on
# bad input. Hostile text in titles and paths: tests/integ/test_report_hostile.sh.
. "$(dirname "$0")/../lib.sh"

PLOT=$RB_ROOT/scripts/rb-plot.sh
# Not rb_tmpdir: its EXIT trap would fire when the $(...) subshell ends.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rbtest.XXXXXX") || exit 3
trap 'rm -rf "$tmp"' EXIT
export RAILBENCH_RUN_ID=integ-plot

# png_ok FILE [W H]: a PNG (8-byte signature), W x H pixels if given.
png_ok() {
	local sig dims
	[ -s "$1" ] || return 1
	sig=$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')
	[ "$sig" = 89504e470d0a1a0a ] || return 1
	[ $# -eq 1 ] && return 0
	# IHDR: width and height, big-endian 32-bit, at offsets 16 and 20.
	dims=$(od -An -tu1 -j16 -N8 "$1" | awk '{
		printf "%d %d", (($1 * 256 + $2) * 256 + $3) * 256 + $4,
			        (($5 * 256 + $6) * 256 + $7) * 256 + $8 }')
	[ "$dims" = "$2 $3" ]
}

# svg_ok FILE: a complete SVG document.
svg_ok() {
	[ -s "$1" ] && grep -q '<svg' "$1" && grep -q '</svg>' "$1"
}

# charts_ok PREFIX: the four charts exist and are valid.
charts_ok() {
	png_ok "$1-busbw.png" 1280 800 && svg_ok "$1-busbw.svg" &&
		png_ok "$1-time.png" 1280 800 && svg_ok "$1-time.svg"
}

# has_text SVG TEXT: TEXT is one text element of the SVG (legend, title,
# tick label).
has_text() {
	grep -qF ">$2<" "$1"
}

# A small valid CSV in the documented format of before the statistics
# columns (still read, so that old runs can be overlaid), independent of the
# binaries; fixture2 is the same rows in the current format.
fixture=$tmp/fixture/allreduce-tcp.csv
mkdir -p "$tmp/fixture"
cat >"$fixture" <<'EOF'
collective,transport,algo,nranks,placement,size_bytes,count,dtype,redop,time_us,time_min_us,time_max_us,time_p50_us,time_p99_us,algbw_gbps,busbw_gbps,wrong
allreduce,tcp,ring,4,out-of-place,1024,256,float,sum,20.000,18.000,25.000,19.500,24.000,0.051200,0.076800,0
allreduce,tcp,ring,4,in-place,1024,256,float,sum,21.000,18.500,26.000,20.500,25.000,0.048762,0.073143,0
allreduce,tcp,ring,4,out-of-place,1048576,262144,float,sum,400.000,380.000,450.000,398.000,440.000,2.621440,3.932160,0
allreduce,tcp,ring,4,in-place,1048576,262144,float,sum,410.000,390.000,460.000,405.000,455.000,2.557502,3.836253,0
allreduce,tcp,ring,4,out-of-place,16777216,4194304,float,sum,5000.000,4900.000,5200.000,4990.000,5150.000,3.355443,5.033165,0
allreduce,tcp,ring,4,in-place,16777216,4194304,float,sum,5100.000,5000.000,5300.000,5090.000,5250.000,3.289650,4.934475,0
EOF
fixture2=$tmp/fixture/allreduce-tcp2.csv
awk -F, -v OFS=, 'NR == 1 { print $0 ",stat,warmup_iters,rankmax_us,rankmax_min_us,rankmax_max_us,rankmax_p50_us,rankmax_p99_us,rankavg_us,rankavg_min_us,rankavg_max_us,rankavg_p50_us,rankavg_p99_us"; next }
	{ print $0, "max", 5, $10, $11, $12, $13, $14, $10 / 2, $11 / 2, $12 / 2, $13 / 2, $14 / 2 }' \
	"$fixture" >"$fixture2"

# ---- real result files -------------------------------------------------
res=$tmp/results
real_ok=1
for t in shm mpi; do
	# --no-plot is still accepted (and does nothing) on one of them.
	extra=--no-plot
	[ "$t" = shm ] && extra=
	if [ -x "$BIN/allreduce_bench" ] &&
		timeout -k 5 120 mpiexec -n 2 "$BIN/allreduce_bench" --transport "$t" \
			-b 8 -e 64K -f 4 -n 3 -w 1 --results "$res" $extra \
			>"$tmp/run-$t.txt" 2>&1; then
		tap_ok "allreduce over $t with 2 ranks writes results"
	else
		real_ok=0
		tap_fail "allreduce over $t with 2 ranks writes results" \
			"$BIN/allreduce_bench: $(tail -3 "$tmp/run-$t.txt" 2>/dev/null)"
	fi
done
shm_csv=$res/allreduce-shm-auto.json
mpi_csv=$res/allreduce-mpi-native.json

if [ "$real_ok" = 1 ] && ! ls "$res"/*.png "$res"/*.svg >/dev/null 2>&1; then
	tap_ok "the binaries draw no chart themselves"
else
	tap_fail "the binaries draw no chart themselves" "$(ls "$res")"
fi
if out=$("$PLOT" -o "$tmp/fromcsv" "$res/allreduce-mpi-native.csv" 2>&1) &&
	charts_ok "$tmp/fromcsv" && has_text "$tmp/fromcsv-busbw.svg" "mpi allreduce n=2"; then
	tap_ok "a real CSV is drawn too, read by its header's names"
else
	tap_fail "a real CSV is drawn too, read by its header's names" "$out"
fi

if out=$("$PLOT" -o "$tmp/one" "$mpi_csv" 2>&1) && [ -z "$out" ] &&
	charts_ok "$tmp/one"; then
	tap_ok "one real JSON: four charts, PNG 1280x800 and SVG, silent"
else
	tap_fail "one real JSON: four charts, PNG 1280x800 and SVG, silent" "$out"
fi
if has_text "$tmp/one-busbw.svg" "mpi allreduce n=2" &&
	has_text "$tmp/one-busbw.svg" "2KiB" &&
	has_text "$tmp/one-busbw.svg" "All-reduce bus bandwidth: mpi, 2 ranks" &&
	has_text "$tmp/one-time.svg" "All-reduce time per operation: mpi, 2 ranks"; then
	tap_ok "one real JSON: legend, size ticks and derived titles"
else
	tap_fail "one real JSON: legend, size ticks and derived titles"
fi

if out=$("$PLOT" -v -o "$tmp/cmp" "$shm_csv" "$mpi_csv" 2>&1) &&
	charts_ok "$tmp/cmp" && [[ $out == "# charts: "*cmp-time.svg ]]; then
	tap_ok "overlay of two real JSON files: charts written, -v lists them"
else
	tap_fail "overlay of two real JSON files: charts written, -v lists them" "$out"
fi
for chart in busbw time; do
	if has_text "$tmp/cmp-$chart.svg" "shm allreduce n=2" &&
		has_text "$tmp/cmp-$chart.svg" "mpi allreduce n=2" &&
		! grep -qF "(in-place)" "$tmp/cmp-$chart.svg"; then
		tap_ok "overlay $chart chart: one out-of-place curve per file"
	else
		tap_fail "overlay $chart chart: one out-of-place curve per file"
	fi
done
# The default output prefix for several files of one collective.
if [ "$real_ok" = 1 ] && "$PLOT" "$shm_csv" "$mpi_csv" &&
	charts_ok "$res/compare-allreduce"; then
	tap_ok "overlay default prefix: compare-allreduce next to the first file"
else
	tap_fail "overlay default prefix: compare-allreduce next to the first file"
fi

# ---- options, on the fixture -------------------------------------------
if "$PLOT" --in-place -t "Cluster A: 'tcp' allreduce" -o "$tmp/ip" "$fixture" &&
	has_text "$tmp/ip-busbw.svg" "tcp allreduce n=4" &&
	has_text "$tmp/ip-busbw.svg" "tcp allreduce n=4 (in-place)" &&
	has_text "$tmp/ip-busbw.svg" "Cluster A: 'tcp' allreduce" &&
	has_text "$tmp/ip-time.svg" "Cluster A: 'tcp' allreduce" &&
	has_text "$tmp/ip-busbw.svg" "16MiB"; then
	tap_ok "--in-place adds dashed in-place curves; -t sets both titles"
else
	tap_fail "--in-place adds dashed in-place curves; -t sets both titles"
fi

mkdir -p "$tmp/a" "$tmp/b"
cp "$fixture" "$tmp/a/"
cp "$fixture" "$tmp/b/"
if "$PLOT" -o "$tmp/same" "$tmp/a/allreduce-tcp.csv" "$tmp/b/allreduce-tcp.csv" &&
	has_text "$tmp/same-busbw.svg" "a/allreduce-tcp.csv" &&
	has_text "$tmp/same-busbw.svg" "b/allreduce-tcp.csv"; then
	tap_ok "identical legends fall back to file names"
else
	tap_fail "identical legends fall back to file names"
fi

sed '2,$s/,0$/,3/' "$fixture" >"$tmp/a/wrong.csv"
if "$PLOT" --in-place -o "$tmp/wrong" "$tmp/a/wrong.csv" &&
	has_text "$tmp/wrong-busbw.svg" "tcp allreduce n=4 (#wrong 9)" &&
	has_text "$tmp/wrong-busbw.svg" "tcp allreduce n=4 (in-place) (#wrong 9)"; then
	tap_ok "rows with data errors are flagged in the legend"
else
	tap_fail "rows with data errors are flagged in the legend"
fi

if "$PLOT" -o "$tmp/new" "$fixture2" && charts_ok "$tmp/new" &&
	"$PLOT" -o "$tmp/mixed" "$fixture" "$fixture2" && charts_ok "$tmp/mixed"; then
	tap_ok "the current and the previous CSV format are drawn, alone and overlaid"
else
	tap_fail "the current and the previous CSV format are drawn, alone and overlaid"
fi

# ---- errors: exit 2, one line on stderr, no chart ----------------------
# expect_error NAME PATTERN ARGS...: rb-plot exits 2 with one stderr line
# matching PATTERN and writes no chart under $tmp/err.
expect_error() {
	local name=$1 pat=$2 rc
	shift 2
	rm -f "$tmp"/err-*
	"$PLOT" -o "$tmp/err" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
	rc=$?
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/stderr")" -eq 1 ] &&
		grep -qE "^rb-plot: .*$pat" "$tmp/stderr" &&
		! [ -s "$tmp/stdout" ] && ! ls "$tmp"/err-* >/dev/null 2>&1; then
		tap_ok "error: $name"
	else
		tap_fail "error: $name" "exit status $rc" "$(cat "$tmp/stderr")"
	fi
}
bad=$tmp/bad.csv
mutate() { sed "$1" "$fixture" >"$bad"; }

mutate '1s/wrong$/errors/'
expect_error "header without a needed column" "bad.csv:1: .*header has no column wrong" "$bad"
mutate '3s/,sum,/,sum,x,/'
expect_error "a row with 18 fields" "bad.csv:3: expected 17 fields, found 18" "$bad"
mutate '4s/,400.000,/,fast,/'
expect_error "a non-numeric time" "bad.csv:4: field 10" "$bad"
sed '3s/,max,5,/,median,5,/' "$fixture2" >"$bad"
expect_error "an unknown statistic" "bad.csv:3: stat \"median\"" "$bad"
sed '2s/,max,5,20.000,/,max,5,-2,/' "$fixture2" >"$bad"
expect_error "a negative statistics column" "bad.csv:2: field 20 .rankmax_us" "$bad"
sed '5s/,max,5,/,max,,5,/' "$fixture2" >"$bad"
expect_error "a row with 30 fields in the current format" "bad.csv:5: expected 29 fields, found 30" "$bad"
mutate '2s/out-of-place/outofplace/'
expect_error "an unknown placement" "bad.csv:2: placement" "$bad"
mutate '5s/,tcp,/,ibv,/'
expect_error "rows of different runs in one file" "bad.csv:5: .*same on every row" "$bad"
mutate '3s/in-place/out-of-place/;3s/,1024,/,1048576,/'
expect_error "two rows for one size and placement" "bad.csv:.*second row for size" "$bad"
: >"$bad"
expect_error "an empty file" "bad.csv: empty file" "$bad"
head -1 "$fixture" >"$bad"
expect_error "a header without rows" "bad.csv: no data rows" "$bad"
printf 'size,busbw\n8,1.0\n' >"$bad"
expect_error "a CSV of another format" "bad.csv:1: not a railbench results CSV" "$bad"
expect_error "a missing file" "nosuch.csv: no such file" "$tmp/nosuch.csv"
mutate '1s/wrong$/errors/'
expect_error "one bad file among good ones draws nothing" "bad.csv:1:" "$fixture" "$bad"
expect_error "no input file" "no results file given"
expect_error "an unknown option" "unrecognized arguments: --frobnicate" --frobnicate "$fixture"
printf '{"format": "something-else"}\n' >"$tmp/bad.json"
expect_error "JSON that is not railbench results" "bad.json: not railbench results JSON" "$tmp/bad.json"
printf '{"format": "railbench-results", "meta": {' >"$tmp/bad.json"
expect_error "JSON cut before its first record" "bad.json: not railbench results JSON" "$tmp/bad.json"

rm -f "$tmp"/err-*
GNUPLOT=$tmp/no-gnuplot "$PLOT" -o "$tmp/err" "$fixture" 2>"$tmp/stderr"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/stderr")" -eq 1 ] &&
	grep -q '^rb-plot: gnuplot not found' "$tmp/stderr" &&
	! ls "$tmp"/err-* >/dev/null 2>&1; then
	tap_ok "error: gnuplot missing"
else
	tap_fail "error: gnuplot missing" "exit status $rc" "$(cat "$tmp/stderr")"
fi

# A gnuplot that fails: exit 3, no chart, no temporary file left behind.
rm -f "$tmp"/err-*
GNUPLOT=false "$PLOT" -o "$tmp/err" "$fixture" 2>"$tmp/stderr"
rc=$?
if [ "$rc" -eq 3 ] && grep -q '^rb-plot: gnuplot failed' "$tmp/stderr" &&
	! ls "$tmp"/err-* >/dev/null 2>&1; then
	tap_ok "error: gnuplot fails"
else
	tap_fail "error: gnuplot fails" "exit status $rc" "$(cat "$tmp/stderr")"
fi
tap_done
