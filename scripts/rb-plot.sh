#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# rb-plot: bus-bandwidth and time charts (PNG + SVG) from railbench result
# CSVs (format: docs/results.md), drawn by gnuplot with scripts/plot/*.gp.
# Several CSVs are overlaid on one chart, one curve each. Silent on
# success unless -v; errors are one line on stderr.
# Exit: 0 charts written, 2 bad usage or input, 3 gnuplot failed.
set -u

RB_PLOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/plot" && pwd)
GNUPLOT=${GNUPLOT:-gnuplot}
# The results CSV header (docs/results.md; columns added since, such as
# iters and the CI bounds, follow it), and the one before the statistics
# columns were added, still read so that old runs can be overlaid.
CSV_HEADER='collective,transport,algo,nranks,placement,size_bytes,count,dtype,redop,time_us,time_min_us,time_max_us,time_p50_us,time_p99_us,algbw_gbps,busbw_gbps,wrong,stat,warmup_iters,rankmax_us,rankmax_min_us,rankmax_max_us,rankmax_p50_us,rankmax_p99_us,rankavg_us,rankavg_min_us,rankavg_max_us,rankavg_p50_us,rankavg_p99_us'
CSV_HEADER_V1='collective,transport,algo,nranks,placement,size_bytes,count,dtype,redop,time_us,time_min_us,time_max_us,time_p50_us,time_p99_us,algbw_gbps,busbw_gbps,wrong'

usage() {
	cat <<EOF
Usage: rb-plot.sh [-o OUTPREFIX] [-t TITLE] [--in-place] [-v] FILE.csv [FILE.csv...]
Draws OUTPREFIX-busbw.{png,svg} (bus bandwidth vs message size) and
OUTPREFIX-time.{png,svg} (time per operation vs message size, log-log),
one curve per FILE (out-of-place rows).
  -o, --output PREFIX  output path prefix (default: FILE without .csv for one
                       file; DIR/compare-COLLECTIVE next to the first file
                       for several)
  -t, --title TITLE    chart title (default: derived from the files)
      --in-place       also draw the in-place rows, dashed
  -v, --verbose        print the charts written (one '#' line on stdout)
  -h, --help           this text
EOF
}

# die MSG: one line on stderr, exit 2 (usage or input error).
die() {
	echo "rb-plot: $*" >&2
	exit 2
}

# gp_str S: S as a gnuplot single-quoted string literal ('' escapes ').
gp_str() {
	printf "'%s'" "${1//\'/\'\'}"
}

# pretty_coll NAME: the collective's name for a chart title.
pretty_coll() {
	case $1 in
	allreduce) echo "All-reduce" ;;
	allgather) echo "All-gather" ;;
	alltoall) echo "All-to-all" ;;
	*) echo "$1" ;;
	esac
}

# join SEP WORD...: the words joined by SEP.
join() {
	local sep=$1 out=$2
	shift 2
	local w
	for w in "$@"; do out+="$sep$w"; done
	echo "$out"
}

# uniq_words WORD...: the words, first occurrence only, in order.
uniq_words() {
	printf '%s\n' "$@" | awk '!seen[$0]++'
}

# check_csv FILE OOP IP: validates FILE against the results CSV format,
# writes its out-of-place and in-place rows (size time busbw, sorted by
# size) to OOP and IP, and prints one tab-separated line:
# collective transport nranks algo n_oop n_ip wrong_oop wrong_ip min_oop max_oop
# min_ip max_ip (wrong_*: sum of the positive #wrong values).
# On malformed input prints "FILE:LINE: reason" and exits 1.
check_csv() {
	awk -F, -v hdr="$CSV_HEADER" -v hdr1="$CSV_HEADER_V1" -v file="$1" \
		-v oop="$2.u" -v ip="$3.u" '
	function bad(msg) {
		printf "%s:%d: %s\n", file, NR, msg
		failed = 1
		exit 1
	}
	function isnum(s) {
		return s ~ /^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/
	}
	function isint(s) { return s ~ /^-?[0-9]+$/ }
	# v(NAME): the field of column NAME on this row.
	function v(name) { return $(col[name]) }
	{ sub(/\r$/, "") }
	NR == 1 {
		# Columns added later are appended: the current header may go on.
		if ($0 != hdr && $0 != hdr1 && index($0, hdr ",") != 1)
			bad("not a railbench results CSV (header differs from docs/results.md)")
		nf = NF
		for (f = 1; f <= NF; f++) {
			col[$f] = f
			name[f] = $f
		}
		next
	}
	{
		if (NF != nf)
			bad(sprintf("expected %d fields, found %d", nf, NF))
		if (v("collective") !~ /^(allreduce|allgather|alltoall)$/)
			bad("unknown collective \"" v("collective") "\"")
		if (v("transport") !~ /^[A-Za-z0-9_.+-]+$/)
			bad("bad transport \"" v("transport") "\"")
		if (!isint(v("nranks")) || v("nranks") < 1)
			bad("nranks \"" v("nranks") "\" is not a positive integer")
		if (v("placement") != "out-of-place" && v("placement") != "in-place")
			bad("placement \"" v("placement") "\" is neither out-of-place nor in-place")
		if (!isint(v("size_bytes")) || v("size_bytes") < 0)
			bad("size_bytes \"" v("size_bytes") "\" is not a non-negative integer")
		if (!isint(v("count")) || v("count") < 0)
			bad("count \"" v("count") "\" is not a non-negative integer")
		for (f = 1; f <= NF; f++)
			if (name[f] ~ /_(us|gbps)$/ && !(name[f] ~ /^ci95_/ && $f == "") &&
			    (!isnum($f) || $f < 0))
				bad(sprintf("field %d (%s \"%s\") is not a non-negative number", f, name[f], $f))
		if (!isint(v("wrong")) || v("wrong") < -1)
			bad("wrong \"" v("wrong") "\" is not an integer >= -1")
		if (nf > 17 && v("stat") != "max" && v("stat") != "avg")
			bad("stat \"" v("stat") "\" is neither max nor avg")
		if (nf > 17 && (!isint(v("warmup_iters")) || v("warmup_iters") < 0))
			bad("warmup_iters \"" v("warmup_iters") "\" is not a non-negative integer")
		if (rows == 0) {
			coll = v("collective"); tp = v("transport"); algo = v("algo")
			n = v("nranks")
		} else if (v("collective") != coll || v("transport") != tp ||
			   v("algo") != algo || v("nranks") != n) {
			bad("collective, transport, algo and nranks must be the same on every row")
		}
		size = v("size_bytes"); pl = v("placement"); w = v("wrong")
		key = pl SUBSEP size
		if (key in seen)
			bad("second row for size " size " " pl)
		seen[key] = 1
		rows++
		if (size == 0)
			next	# no place for size 0 on a log axis
		if (pl == "out-of-place") {
			print size, v("time_us"), v("busbw_gbps") > oop
			no++
			if (w > 0) wo += w
			if (no == 1 || size < mino) mino = size
			if (no == 1 || size > maxo) maxo = size
		} else {
			print size, v("time_us"), v("busbw_gbps") > ip
			ni++
			if (w > 0) wi += w
			if (ni == 1 || size < mini) mini = size
			if (ni == 1 || size > maxi) maxi = size
		}
	}
	END {
		if (failed)
			exit 1
		if (NR == 0) {
			printf "%s: empty file\n", file
			exit 1
		}
		if (rows == 0) {
			printf "%s: no data rows after the header\n", file
			exit 1
		}
		printf "%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", coll,
		       tp, n, algo, no, ni, wo, wi, mino + 0, maxo + 0, mini + 0,
		       maxi + 0
	}' "$1" || return 1
	# Sorted by size so the curve is drawn left to right; a missing
	# placement still yields an (empty) file.
	sort -n -k1,1 "$2.u" 2>/dev/null >"$2"
	sort -n -k1,1 "$3.u" 2>/dev/null >"$3"
	rm -f "$2.u" "$3.u"
}

outprefix='' title='' inplace=0 verbose=0
files=()
while [ $# -gt 0 ]; do
	case $1 in
	-o | --output)
		[ $# -ge 2 ] || die "option $1 needs a value"
		outprefix=$2
		shift 2
		;;
	-t | --title)
		[ $# -ge 2 ] || die "option $1 needs a value"
		title=$2
		shift 2
		;;
	--in-place) inplace=1; shift ;;
	-v | --verbose) verbose=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; files+=("$@"); break ;;
	-?*) die "unknown option '$1' (see --help)" ;;
	*) files+=("$1"); shift ;;
	esac
done
[ ${#files[@]} -gt 0 ] || die "no CSV file given (see --help)"
command -v "$GNUPLOT" >/dev/null 2>&1 ||
	die "gnuplot not found ('$GNUPLOT'); install gnuplot-nox (scripts/install-deps.sh)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rb-plot.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT

# Validate every file first: nothing is drawn from a bad set.
colls=() tps=() ns=() algos=() wos=() wis=() nos=() nis=()
xmin='' xmax=''
for i in "${!files[@]}"; do
	f=${files[$i]}
	[ -e "$f" ] || die "$f: no such file"
	if ! [ -f "$f" ] || ! [ -r "$f" ]; then die "$f: not a readable file"; fi
	[ -s "$f" ] || die "$f: empty file"
	if ! info=$(check_csv "$f" "$tmp/$i-oop.dat" "$tmp/$i-ip.dat"); then
		die "${info:-$f: cannot be read}"
	fi
	IFS=$'\t' read -r c t n a no ni wo wi mino maxo mini maxi <<<"$info"
	colls+=("$c") tps+=("$t") ns+=("$n") algos+=("$a") wos+=("$wo") wis+=("$wi")
	nos+=("$no") nis+=("$ni")
	if [ "$no" -eq 0 ] && ! { [ "$inplace" = 1 ] && [ "$ni" -gt 0 ]; }; then
		die "$f: no out-of-place rows with a size above 0 to draw"
	fi
	for v in $([ "$no" -gt 0 ] && echo "$mino $maxo") \
		$([ "$inplace" = 1 ] && [ "$ni" -gt 0 ] && echo "$mini $maxi"); do
		if [ -z "$xmin" ] || [ "$v" -lt "$xmin" ]; then xmin=$v; fi
		if [ -z "$xmax" ] || [ "$v" -gt "$xmax" ]; then xmax=$v; fi
	done
done
nfiles=${#files[@]}

# Legends: "<transport> <collective> n=<nranks>"; where two files would get
# the same legend, add the algorithm; if still ambiguous, use file names
# (basename, or the last two path components if basenames collide).
labels_unique() {
	[ "$(printf '%s\n' "$@" | sort | uniq -d | wc -l)" -eq 0 ]
}
labels=()
for i in "${!files[@]}"; do labels+=("${tps[$i]} ${colls[$i]} n=${ns[$i]}"); done
if ! labels_unique "${labels[@]}"; then
	labels=()
	for i in "${!files[@]}"; do
		labels+=("${tps[$i]} ${colls[$i]} ${algos[$i]} n=${ns[$i]}")
	done
fi
if ! labels_unique "${labels[@]}"; then
	labels=()
	for f in "${files[@]}"; do labels+=("$(basename "$f")"); done
	if ! labels_unique "${labels[@]}"; then
		labels=()
		for f in "${files[@]}"; do
			labels+=("$(basename "$(dirname "$f")")/$(basename "$f")")
		done
		labels_unique "${labels[@]}" || labels=("${files[@]}")
	fi
fi

# flag_wrong N: the legend suffix of a curve with N data errors.
flag_wrong() {
	[ "$1" -gt 0 ] && echo " (#wrong $1)"
}

# Title: "<Collective> <chart>: <transports joined by vs>, <n> ranks"
# unless -t gives one title for both charts.
mapfile -t ucolls < <(uniq_words "${colls[@]}")
mapfile -t utps < <(uniq_words "${tps[@]}")
mapfile -t uns < <(uniq_words "${ns[@]}")
if [ -z "$title" ]; then
	pc=()
	for c in "${ucolls[@]}"; do pc+=("$(pretty_coll "$c")"); done
	if [ ${#uns[@]} -eq 1 ]; then
		r="${uns[0]} ranks"
		[ "${uns[0]}" = 1 ] && r="1 rank"
	else
		r="$(join ', ' "${uns[@]}") ranks"
	fi
	what="$(join ', ' "${pc[@]}")"
	how="$(join ' vs ' "${utps[@]}"), $r"
	title_busbw="$what bus bandwidth: $how"
	title_time="$what time per operation: $how"
else
	title_busbw=$title
	title_time=$title
fi

if [ -z "$outprefix" ]; then
	if [ "$nfiles" -eq 1 ]; then
		outprefix=${files[0]%.csv}
	elif [ ${#ucolls[@]} -eq 1 ]; then
		outprefix=$(dirname "${files[0]}")/compare-${ucolls[0]}
	else
		outprefix=$(dirname "${files[0]}")/compare
	fi
fi
outdir=$(dirname "$outprefix")
mkdir -p "$outdir" 2>/dev/null || die "$outdir: cannot create the output directory"
[ -w "$outdir" ] || die "$outdir: output directory is not writable"

# The gnuplot driver: variables for the templates, then each chart in each
# format, written to temporary names and renamed once gnuplot succeeded.
drv=$tmp/driver.gp
ncurves=0
{
	echo "plotdir = $(gp_str "$RB_PLOT_DIR")"
	echo "xmin = $xmin.0; xmax = $xmax.0"
	# Time range over the curves drawn (columns: size time busbw).
	for i in "${!files[@]}"; do
		[ "${nos[$i]}" -gt 0 ] && echo "$tmp/$i-oop.dat"
		[ "$inplace" = 1 ] && [ "${nis[$i]}" -gt 0 ] && echo "$tmp/$i-ip.dat"
	done | xargs -d '\n' awk '$2 > 0 {
		if (!n++ || $2 < lo) lo = $2
		if ($2 > hi) hi = $2
	} END {
		if (!n) { lo = 1; hi = 10 }
		printf "tmin = %.9g; tmax = %.9g\n", lo, hi
	}'
	for i in "${!files[@]}"; do
		[ "${nos[$i]}" -gt 0 ] && ncurves=$((ncurves + 1))
		[ "$inplace" = 1 ] && [ "${nis[$i]}" -gt 0 ] && ncurves=$((ncurves + 1))
	done
	echo "ncurves = $ncurves"
	echo "array dat[$ncurves]; array lbl[$ncurves]; array grp[$ncurves]; array ip[$ncurves]"
	k=0
	for i in "${!files[@]}"; do
		if [ "${nos[$i]}" -gt 0 ]; then
			k=$((k + 1))
			echo "dat[$k] = $(gp_str "$tmp/$i-oop.dat"); lbl[$k] = $(gp_str "${labels[$i]}$(flag_wrong "${wos[$i]}")"); grp[$k] = $((i + 1)); ip[$k] = 0"
		fi
		if [ "$inplace" = 1 ] && [ "${nis[$i]}" -gt 0 ]; then
			k=$((k + 1))
			echo "dat[$k] = $(gp_str "$tmp/$i-ip.dat"); lbl[$k] = $(gp_str "${labels[$i]} (in-place)$(flag_wrong "${wis[$i]}")"); grp[$k] = $((i + 1)); ip[$k] = 1"
		fi
	done
	for chart in busbw time; do
		t=$title_busbw
		[ "$chart" = time ] && t=$title_time
		for fmt in png svg; do
			echo "reset; fmt = '$fmt'; out = $(gp_str "$outprefix-$chart.$fmt.tmp")"
			echo "chart_title = $(gp_str "$t")"
			echo "load plotdir . '/$chart.gp'"
		done
	done
} >"$drv"

if ! "$GNUPLOT" "$drv" >"$tmp/gnuplot.log" 2>&1; then
	msg=$(grep -v '^[[:space:]]*$' "$tmp/gnuplot.log" | tail -1)
	rm -f "$outprefix"-busbw.*.tmp "$outprefix"-time.*.tmp
	echo "rb-plot: gnuplot failed: ${msg:-no message}" >&2
	exit 3
fi
written=()
for chart in busbw time; do
	for fmt in png svg; do
		out=$outprefix-$chart.$fmt
		if ! [ -s "$out.tmp" ]; then
			rm -f "$outprefix"-busbw.*.tmp "$outprefix"-time.*.tmp
			echo "rb-plot: gnuplot wrote nothing to $out" >&2
			exit 3
		fi
		mv -f "$out.tmp" "$out" || exit 3
		written+=("$out")
	done
done
[ "$verbose" = 1 ] && echo "# charts: ${written[*]}"
exit 0
