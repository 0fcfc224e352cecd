#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Helpers of the report tests: real runs, the browser driver, and the
# figures the page must show, computed from the JSON here with jq (not by
# the report's own code). Source after tests/lib.sh.
# shellcheck disable=SC2034 # used by the tests that source this file
REPORT=$RB_ROOT/scripts/rb-report
BROWSER=$RB_ROOT/tests/report/browser_check.py
# shellcheck disable=SC2034
FIXTURES=$RB_ROOT/tests/report/fixtures
# Screenshots stay with the test logs for a person to look at.
SHOTS=${RB_TEST_LOGDIR:-$BUILD/test-logs}/report
mkdir -p "$SHOTS"

# report_require: skips the whole test (77) unless the report's tools are
# installed (scripts/install-deps.sh installs them all).
report_require() {
	local why=
	/usr/bin/python3 -c 'import jinja2, websocket' 2>/dev/null ||
		why="python3-jinja2 and python3-websocket"
	command -v chromium >/dev/null 2>&1 || why="${why:+$why, }chromium"
	command -v pdfinfo >/dev/null 2>&1 || why="${why:+$why, }pdfinfo (poppler-utils)"
	command -v gnuplot >/dev/null 2>&1 || why="${why:+$why, }gnuplot"
	if [ -n "$why" ]; then
		echo "1..0 # SKIP needs $why (scripts/install-deps.sh)"
		exit 77
	fi
}

# real_run DIR COLL TRANSPORT [ARGS...]: a small 2-rank run into DIR.
real_run() {
	local dir=$1 c=$2 t=$3
	shift 3
	timeout -k 5 120 mpiexec -n 2 "$BIN/${c}_bench" --transport "$t" -b 8 -e 256K -f 8 \
		-n 10 -w 2 --results "$dir" "$@" >"$dir.$c-$t.log" 2>&1
}

# browse PAGE FACTS SHOT: the page's facts from headless Chromium.
browse() {
	timeout -k 5 120 "$BROWSER" "$1" "$2" "$3"
}

# facts_clean FACTS: no console error, no script, no event handler, no
# image, no frame.
facts_clean() {
	jq -e '.errors == [] and .scripts == 0 and .on_attributes == 0 and .images == 0
		and .iframes == 0' "$1" >/dev/null
}

# verdict_visible FACTS: the verdict box has a background colour that is
# neither transparent nor its text's colour.
verdict_visible() {
	jq -e '.verdict_colours as $c | $c != null and $c.bg != "rgba(0, 0, 0, 0)" and
		$c.bg != $c.fg and $c.bg != "rgb(255, 255, 255)"' "$1" >/dev/null
}

# charts_drawn FACTS N: exactly N charts, each an SVG with a visible size
# and at least one drawn curve.
charts_drawn() {
	jq -e --argjson n "$2" '(.charts | length) == $n and .charts_missing == [] and
		all(.charts[]; .svg and .width > 100 and .height > 100 and .curves >= 1)' \
		"$1" >/dev/null
}

# peak_of JSON: the largest busbw of the file's records, as the page
# prints it (3 decimals).
peak_of() {
	printf '%.3f' "$(jq '[.records[].busbw_gbps] | max' "$1")"
}

# peaks_match FACTS JSON...: the page's peak figure of every file equals
# peak_of.
peaks_match() {
	local facts=$1 f want got
	shift
	for f in "$@"; do
		want=$(peak_of "$f")
		got=$(jq -r --arg f "$f" '.peaks[] | select(.file == $f) | .peak' "$facts")
		[ "$got" = "$want" ] || { echo "peak of $f: page $got, JSON $want"; return 1; }
	done
}

# pdf_pages PDF: its page count (0 if not a PDF).
pdf_pages() {
	pdfinfo "$1" 2>/dev/null | awk '/^Pages:/ { print $2; exit }' | grep . || echo 0
}
