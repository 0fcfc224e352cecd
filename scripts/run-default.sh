#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The default battery (make run): all-reduce, all-gather and all-to-all with
# 4 local ranks over shm and over mpi into one results/<run-id>/, then one
# shm-vs-mpi chart pair per collective, a short summary and the report
# (report.html and report.pdf, scripts/rb-report).
# Exit: 0 all passed, 1 data errors (#wrong > 0), 2 usage or setup error,
# 3 a run failed.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
COLLS="allreduce allgather alltoall"
TRANSPORTS="shm mpi"

np=4 minb=8 maxb=8M factor=4 iters=10 warmup=auto timeout_s=60
results_root=$ROOT/results

usage() {
	cat <<EOF
Usage: run-default.sh [-n RANKS] [-b MIN] [-e MAX] [-f FACTOR] [-i ITERS]
                      [-w WARMUP] [-T SEC] [-r RESULTS_ROOT]
Runs $COLLS over $TRANSPORTS with mpiexec on this machine,
writes everything to RESULTS_ROOT/\$RAILBENCH_RUN_ID/ (run id: a timestamp
unless RAILBENCH_RUN_ID is set), draws shm-vs-mpi charts per collective and
prints a summary and the report's path. -w takes what --warmup takes (auto[:N[:MS]] or a count).
Defaults: -n $np -b $minb -e $maxb -f $factor -i $iters -w $warmup
-T $timeout_s -r results. Binaries from \$BUILD/bin (BUILD=${BUILD#"$ROOT"/}).
EOF
}

die() {
	echo "run-default: $*" >&2
	exit 2
}

# posint NAME VALUE: VALUE must be an integer >= 1.
posint() {
	if ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ]; then
		die "invalid $1 '$2': expected an integer >= 1"
	fi
}

while getopts "n:b:e:f:i:w:T:r:h" opt; do
	case $opt in
	n) posint "-n" "$OPTARG"; np=$OPTARG ;;
	b) minb=$OPTARG ;;
	e) maxb=$OPTARG ;;
	f) posint "-f" "$OPTARG"; factor=$OPTARG ;;
	i) posint "-i" "$OPTARG"; iters=$OPTARG ;;
	w) [[ $OPTARG =~ ^([0-9]+|auto(:[0-9]+(:[0-9]+)?)?)$ ]] ||
		die "invalid -w '$OPTARG': expected auto[:N[:MS]] or an integer >= 0"
	   warmup=$OPTARG ;;
	T) posint "-T" "$OPTARG"; timeout_s=$OPTARG ;;
	r) results_root=$OPTARG ;;
	h) usage; exit 0 ;;
	*) die "unknown option (see -h)" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || die "unexpected argument '$1' (see -h)"

command -v mpiexec >/dev/null 2>&1 || die "mpiexec not found; run scripts/install-deps.sh"
command -v jq >/dev/null 2>&1 || die "jq not found; run scripts/install-deps.sh"
for c in $COLLS; do
	[ -x "$BUILD/bin/${c}_bench" ] || die "$BUILD/bin/${c}_bench not found; build first (make)"
done

export RAILBENCH_RUN_ID=${RAILBENCH_RUN_ID:-$(date +%Y%m%d-%H%M%S)}
[[ $RAILBENCH_RUN_ID =~ ^[A-Za-z0-9._-]+$ ]] ||
	die "invalid RAILBENCH_RUN_ID '$RAILBENCH_RUN_ID': use letters, digits, '.', '_', '-'"
dir=$results_root/$RAILBENCH_RUN_ID
mkdir -p "$dir" || die "$dir: cannot create the results directory"

echo "# railbench default battery: $COLLS over $TRANSPORTS, $np ranks"
echo "# results: $dir"

# One run: the nccl-tests table goes to the terminal and to <c>-<t>.log.
# The harness bounds every wait by -T itself; the outer timeout is only a
# last resort against a job that hangs outside the harness (mpiexec).
declare -A status secs
for c in $COLLS; do
	for t in $TRANSPORTS; do
		echo "#"
		echo "# ---- $c over $t ----"
		t0=$SECONDS
		timeout -k 10 $((timeout_s * 30)) \
			mpiexec -n "$np" "$BUILD/bin/${c}_bench" --transport "$t" \
			-b "$minb" -e "$maxb" -f "$factor" -n "$iters" --warmup "$warmup" \
			-c 1 -T "$timeout_s" --results "$dir" \
			2>&1 | tee "$dir/$c-$t.log"
		status[$c-$t]=${PIPESTATUS[0]}
		secs[$c-$t]=$((SECONDS - t0))
	done
done

# result FILE-EXT: the results file of collective $c over transport $t
# (named <collective>-<transport>-<algo>), or nothing.
result() {
	local f
	for f in "$dir/$c-$t-"*."$1"; do
		[ -s "$f" ] && { echo "$f"; return; }
	done
}

# Charts: one pair per run, and shm vs mpi per collective (both runs must
# have produced results), drawn from the JSON (the binaries draw nothing).
for c in $COLLS; do
	jsons=()
	for t in $TRANSPORTS; do
		json=$(result json)
		[ -n "$json" ] || continue
		jsons+=("$json")
		"$ROOT/scripts/rb-plot" -o "${json%.json}" "$json" ||
			echo "run-default: charts for $c over $t not drawn" >&2
	done
	if [ ${#jsons[@]} -ge 2 ]; then
		"$ROOT/scripts/rb-plot" -o "$dir/compare-$c" "${jsons[@]}" ||
			echo "run-default: comparison charts for $c not drawn" >&2
	fi
done

# Summary from the JSON files: the harness's own record of each run.
# Written without a pipe so that failed and wrong_any stay in this shell.
failed=0 wrong_any=0
{
	echo "#"
	echo "# Summary ($np ranks, $minb..$maxb x$factor, $iters iterations)"
	printf '# %-10s %-9s %8s %14s %12s %7s %6s  %s\n' collective transport \
		status "peak busbw" "at size" "#wrong" time notes
	printf '# %-10s %-9s %8s %14s %12s %7s %6s\n' "" "" "" "(GB/s)" "(B)" "" "(s)"
	for c in $COLLS; do
		for t in $TRANSPORTS; do
			json=$(result json)
			rc=${status[$c-$t]}
			peak=- at=- wrong=- note=
			if [ -s "$json" ] && jq -e . "$json" >/dev/null 2>&1; then
				read -r peak at wrong complete < <(jq -r '
					([.records[] | select(.placement == "out-of-place")]
					 | max_by(.busbw_gbps)) as $p
					| [($p.busbw_gbps // "-"), ($p.size_bytes // "-"),
					   ([([.records[].wrong | select(. > 0)] | add // 0),
					     (.summary.wrong_total // 0)] | max),
					   (.summary.complete // false)] | @tsv' "$json")
				[ "$peak" != - ] && peak=$(printf '%.3f' "$peak")
				[ "$complete" = true ] || note="incomplete"
			else
				note="no results file"
			fi
			if [ "$rc" -eq 0 ] && [ -z "$note" ] &&
				[[ $wrong =~ ^[0-9]+$ ]] && [ "$wrong" -eq 0 ]; then
				st=ok
			elif [ "$rc" -le 1 ] && [[ $wrong =~ ^[0-9]+$ ]] && [ "$wrong" -gt 0 ]; then
				st=WRONG
				wrong_any=1
			else
				st=FAILED
				failed=1
				note="${note:+$note, }exit status $rc, see $c-$t.log"
			fi
			printf '# %-10s %-9s %8s %14s %12s %7s %6s%s\n' "$c" "$t" \
				"$st" "$peak" "$at" "$wrong" "${secs[$c-$t]}" \
				"${note:+  $note}"
		done
	done
	echo "#"
	echo "# files: $dir/"
	echo "#   <collective>-<transport>-<algo>.{csv,json}, <collective>-<transport>-<algo>-{busbw,time}.{png,svg}, <collective>-<transport>.log"
	echo "#   compare-<collective>-{busbw,time}.{png,svg}: shm vs mpi"
	echo "#   report.html, report.pdf: the report (docs/report.md)"
	echo "#   format: docs/results.md"
} >"$dir/summary.txt"
cat "$dir/summary.txt"

# The report over the whole directory, last, so that it shows every run.
report_failed=0
if ! "$ROOT/scripts/rb-report" "$dir" >"$dir/report.log" 2>&1; then
	report_failed=1
	echo "run-default: report not complete: $(tail -1 "$dir/report.log")" >&2
fi
sed -n 's/^# report: /# report: /p' "$dir/report.log"

if [ "$failed" -ne 0 ]; then
	echo "# FAILED: at least one run did not complete"
	exit 3
fi
if [ "$report_failed" -ne 0 ]; then
	echo "# FAILED: the report was not written (see $dir/report.log)"
	exit 3
fi
if [ "$wrong_any" -ne 0 ]; then
	echo "# FAILED: data errors (#wrong > 0)"
	exit 1
fi
echo "# PASSED"
exit 0
