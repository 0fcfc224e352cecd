#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Nothing user-supplied becomes code: results whose host names, command
# line, run id, transport, titles, culprit texts, field names, directory
# and file names carry <script>, "><img onerror=...>, gnuplot syntax
# ("; system("touch MARKER"); "), quotes, two consecutive quotes,
# backquotes, newlines and other control characters. The report and the
# charts render them as text: no marker file appears (gnuplot ran nothing),
# and the page in headless Chromium has no script, no event handler, no
# image and no console error. Screenshot: build/test-logs/report/hostile.png.
. "$(dirname "$0")/../lib.sh"
. "$RB_ROOT/tests/report/lib_report.sh"
report_require

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rbhostile.XXXXXX") || exit 3
trap 'rm -rf "$tmp"' EXIT
export RAILBENCH_RUN_ID=integ-hostile
PLOT=$RB_ROOT/scripts/rb-plot
# Markers: absolute paths in the payloads of JSON text and titles;
# relative ones (a file name cannot hold '/') in directory and file names,
# caught by a gnuplot wrapper that looks in gnuplot's working directory.
MD=$tmp/markers
mkdir -p "$MD"
M=$MD/MARKER
cat >"$tmp/gnuplot" <<EOS
#!/bin/sh
gnuplot "\$@"
rc=\$?
for f in MARKER*; do [ -e "\$f" ] && touch "$MD/in-gnuplot-cwd-\$f"; done
exit \$rc
EOS
chmod +x "$tmp/gnuplot"
export GNUPLOT=$tmp/gnuplot

# Payloads, each of which would create a marker if it reached a shell or
# gnuplot as code.
P_HTML='<script>alert(1)</script>'
P_IMG='"><img src=x onerror=alert(1)>'
P_GPD="\"; system(\"touch $M.1\"); \""
P_GPS="'; system('touch $M.2'); '"
P_NL=$'x\nsystem("touch '"$M"$'.3")\n'
P_BQ="\`touch $M.4\`"
P_QQ="it''s ''two'' quotes @macro"
P_CTL=$'cr\rlf\nesc\e[31m tab\t end'
# For names: no '/'.
N_GPD='"; system("touch MARKER.6"); "'
N_GPS="'; system('touch MARKER.7'); '"
N_NL=$'x\nsystem("touch MARKER.8")\n'
N_BQ='`touch MARKER.9`'
marks() { find "$MD" -mindepth 1 | wc -l; }

# Positive controls: the payloads are live, and the markers are seen. Fed
# to gnuplot the way charts used to quote text (quotes doubled, nothing
# else), the newline payload runs its command; so does a relative one in
# gnuplot's working directory, through the wrapper.
(cd "$tmp" && printf "t = '%s'\n" "${P_NL//\'/\'\'}" | "$GNUPLOT" >/dev/null 2>&1)
(cd "$tmp" && printf "t = '%s'\n" "${N_NL//\'/\'\'}" | "$GNUPLOT" >/dev/null 2>&1)
if [ -e "$M.3" ] && [ -e "$MD/in-gnuplot-cwd-MARKER.8" ]; then
	tap_ok "control: naive quoting lets the payloads run; both kinds of marker are seen"
else
	tap_fail "control: naive quoting lets the payloads run" "$(ls "$MD")"
fi
rm -f "$MD"/* "$tmp"/MARKER*

real=$tmp/real
if real_run "$real" allreduce shm && real_run "$real" allgather shm; then
	tap_ok "real runs to poison: allreduce and allgather over shm"
else
	tap_fail "real runs to poison" "$(tail -3 "$real".*.log)"
	tap_done
fi

# The poisoned results directory: its own name and its files' names are
# hostile too.
H="$tmp/res-$N_GPD-$N_BQ-$N_NL-$N_GPS"
mkdir -p "$H" || { tap_fail "mkdir a hostile directory name"; tap_done; }
poison='
	.meta.hosts = [$html, $img] |
	.meta.ranks |= map(.host = ($img + $gpd) | .transport_desc = $nl) |
	.meta.command_line = ($html + " " + $gpd + " " + $bq) |
	.meta.run_id = ($nl + $gps) |
	.meta.transport = ($gpd + $qq) | .records |= map(.transport = ($gpd + $qq)) |
	.meta.algo = $bq | .meta.topology_findings = ("# topo: " + $html + "\n# " + $gpd) |
	.meta[$html] = $img | .summary[$gps] = $ctl |
	.records |= map(.[$img] = $html)'
args=(--arg html "$P_HTML" --arg img "$P_IMG" --arg gpd "$P_GPD" --arg gps "$P_GPS"
	--arg nl "$P_NL" --arg bq "$P_BQ" --arg qq "$P_QQ" --arg ctl "$P_CTL")
jq "${args[@]}" "$poison" "$real/allreduce-shm-auto.json" >"$H/allreduce-$N_GPS.json"
jq "${args[@]}" "$poison | .meta.transport = \$html | .records |= map(.transport = \$html)" \
	"$real/allgather-shm-auto.json" >"$H/allgather-$N_NL-$N_BQ.json"
# A qualification with hostile hosts and culprit text.
jq "${args[@]}" '.records |= map(if .src_host == "node2" then .src_host = $gpd else . end
		| if .dst_host == "node2" then .dst_host = $gpd else . end)
	| .verdict.culprits |= map(.host = $gpd | .text = ($html + $img + $nl))
	| .meta.ranks |= map(.host = $nl)' "$FIXTURES/p2p-shm+tcp.json" >"$H/p2p-$N_NL-$N_GPD.json"

out=$("$REPORT" -t "$P_GPD $P_HTML" "$H" 2>"$tmp/err")
rc=$?
if [ "$rc" -eq 0 ] && [ -s "$H/report.html" ] && [ "$(pdf_pages "$H/report.pdf")" -ge 1 ]; then
	tap_ok "rb-report renders the poisoned directory (HTML and PDF)"
else
	tap_fail "rb-report renders the poisoned directory" "exit $rc" "$(cat "$tmp/err")"
fi
tap_check "no marker: gnuplot and the shell ran nothing from the results" test "$(marks)" -eq 0
f=$tmp/facts.json
if browse "$H/report.html" "$f" "$SHOTS/hostile.png" 2>"$tmp/err"; then
	tap_ok "headless Chromium loads the poisoned report (screenshot hostile.png)"
else
	tap_fail "headless Chromium loads the poisoned report" "$(cat "$tmp/err")"
fi
tap_check "poisoned page: no script, no event handler, no image, no console error" facts_clean "$f"
if jq -e --arg h "$P_HTML" --arg i "$P_IMG" --arg g "system(\"touch $M.1\")" \
	'(.body_text | contains($h)) and (.body_text | contains($i)) and (.body_text | contains($g))
	 and (.title | contains($h))' "$f" >/dev/null; then
	tap_ok "the payloads show as plain text in the page and its title"
else
	tap_fail "the payloads show as plain text"
fi
# The charts were drawn with the hostile transport names in their legends.
if jq -e --arg g "system(\"touch $M.1\")" --arg q "it''s ''two'' quotes" \
	'(.charts | length) == 4 and all(.charts[]; .curves >= 1) and
	 any(.charts[]; .text | contains($g)) and any(.charts[]; .text | contains($q))' "$f" >/dev/null; then
	tap_ok "charts drawn, legends carry the quotes and gnuplot syntax as text"
else
	tap_fail "charts drawn with hostile legends" "$(jq -c '[.charts[] | {curves, t: .text[0:80]}]' "$f")"
fi
if jq -e '.heatmaps | length == 2' "$f" >/dev/null; then
	tap_ok "qualification with hostile host names: both heat maps drawn"
else
	tap_fail "qualification with hostile host names" "$(jq -c .heatmaps "$f")"
fi

# ---- rb-plot: hostile titles, output prefixes and file names ------------
in="$tmp/in-$N_NL-$N_GPS-$N_BQ.json"
cp "$real/allreduce-shm-auto.json" "$in"
n=0
for t in "$P_GPD" "$P_GPS" "$P_NL" "$P_BQ" "$P_QQ" "$P_CTL" "''"; do
	n=$((n + 1))
	o="$tmp/out$n-$N_GPD-$N_NL/c-$N_BQ-$N_GPS"
	if "$PLOT" -t "$t" -o "$o" "$in" 2>"$tmp/err" &&
		[ -s "$o-busbw.svg" ] && [ -s "$o-time.png" ] && [ "$(marks)" -eq 0 ]; then
		tap_ok "rb-plot -t with payload $n and a hostile -o and file name: charts written, nothing ran"
	else
		tap_fail "rb-plot -t with payload $n" "$(cat "$tmp/err")" "markers: $(marks)"
	fi
done
# The title as drawn: quotes kept, control characters shown as U+FFFD.
o="$tmp/out1-$N_GPD-$N_NL/c-$N_BQ-$N_GPS"
if grep -qF "system(&quot;touch $M.1&quot;)" "$o-busbw.svg" ||
	grep -qF "system(\"touch $M.1\")" "$o-busbw.svg"; then
	tap_ok "the hostile title is in the chart as text"
else
	tap_fail "the hostile title is in the chart as text"
fi
o="$tmp/out7-$N_GPD-$N_NL/c-$N_BQ-$N_GPS"
if grep -qF ">''<" "$o-busbw.svg"; then
	tap_ok "a title of two consecutive quotes is drawn as two quotes"
else
	tap_fail "a title of two consecutive quotes is drawn as two quotes"
fi
tap_check "still no marker anywhere" test "$(marks)" -eq 0

# The quoting itself: random hostile strings through gnuplot and back.
mkdir -p "$tmp/gp"
if out=$(/usr/bin/python3 "$RB_ROOT/tests/report/gp_str_check.py" "$tmp/gp" 1000); then
	tap_ok "gp_str round trip: $out"
else
	tap_fail "gp_str round trip" "$out"
fi
tap_done
