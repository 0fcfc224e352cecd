#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Results on a full disk: --results on a 64 KiB tmpfs. The run must end
# with exit 3 and one message naming the file it could not write, a verdict
# that is not PASS, and the last complete version of every results file
# left in place (valid JSON and CSV, no temporary file).
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" != 0 ]; then
	tap_skip "results on a full disk" "needs root to mount a tmpfs"
	tap_done
fi
TMP=$(rb_tmpdir)
mkdir "$TMP/small"
if ! mount -t tmpfs -o size=64k railbench-full "$TMP/small"; then
	tap_skip "results on a full disk" "cannot mount a tmpfs here"
	tap_done
fi
rb_on_exit "umount '$TMP/small'"
dir=$TMP/small/res
timeout 120 mpiexec -disable-auto-cleanup -n 2 "$BIN/allreduce_bench" -b 8 -e 64M -n 1 -w 0 --no-plot \
	--results "$dir" >"$TMP/out" 2>"$TMP/err"
rc=$?
json=$dir/allreduce-shm-auto.json
csv=$dir/allreduce-shm-auto.csv
[ "$rc" -eq 3 ] && tap_ok "full disk: exit 3" || tap_fail "full disk: exit 3" "exit $rc"
if [ "$(grep -c error "$TMP/err")" -eq 1 ] &&
	grep -Eq "error: cannot write $dir/allreduce-shm-auto\.(json|csv): No space left on device" "$TMP/err"; then
	tap_ok "full disk: one message names the file: $(cat "$TMP/err")"
else
	tap_fail "full disk: one message naming the file" "$(head -5 "$TMP/err")"
fi
if grep -q "^# Verdict: FAIL (runtime): cannot write $dir/allreduce-shm-auto" "$TMP/out" &&
	! grep -q "Verdict: PASS" "$TMP/out"; then
	tap_ok "full disk: verdict FAIL (runtime) names the file"
else
	tap_fail "full disk: verdict" "$(grep Verdict "$TMP/out")"
fi
njson=$(jq '.records | length' "$json" 2>/dev/null)
ncsv=$(tail -n +2 "$csv" 2>/dev/null | grep -c '^allreduce,shm,')
if [ -n "$njson" ] && [ "$njson" -ge 2 ] && [ "$ncsv" -ge 2 ] &&
	[ "$(jq .summary.complete "$json")" = false ] &&
	[ "$(head -1 "$csv" | cut -d, -f1)" = collective ] &&
	[ "$(tail -n +2 "$csv" | awk -F, '{ print NF }' | sort -u | wc -l)" -eq 1 ]; then
	tap_ok "full disk: JSON ($njson records, complete: false) and CSV ($ncsv rows) are whole"
else
	tap_fail "full disk: files whole" "json records '$njson', csv rows '$ncsv'" "$(ls -la "$dir")"
fi
if ls "$dir" | grep -q tmp; then
	tap_fail "full disk: no temporary file left" "$(ls "$dir")"
else
	tap_ok "full disk: no temporary file left"
fi
tap_done
