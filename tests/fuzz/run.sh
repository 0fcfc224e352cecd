#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs every libFuzzer target of build-fuzz/fuzz/ (make fuzz) for SECONDS
# (default 60) each: first the inputs kept from past findings
# (tests/fuzz/regress/<target>/), then fuzzing from the target's corpus
# (tests/fuzz/corpus/<target>/; new inputs go to a scratch copy, not the
# repository). Fails on any crash, timeout, leak or sanitizer report, and
# says where the failing input is: add it to tests/fuzz/regress/<target>/
# once fixed. Env: FUZZ_BUILD (default build-fuzz).
set -u
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-60}
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
OUT=$FUZZ_BUILD/fuzz-runs
bad=0 n=0

if ! ls "$FUZZ_BUILD"/fuzz/fuzz_* >/dev/null 2>&1; then
	echo "fuzz: no targets in $FUZZ_BUILD/fuzz/: run make fuzz first" >&2
	exit 2
fi
# Leaks inside libraries we do not own are listed, with why, in lsan.supp.
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
rm -rf "$OUT"
for bin in "$FUZZ_BUILD"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	work=$OUT/$name
	mkdir -p "$work/corpus" "$work/findings"
	n=$((n + 1))
	regress=(tests/fuzz/regress/"$name"/*)
	if [ -e "${regress[0]}" ] && ! "$bin" "${regress[@]}" >"$work/regress.log" 2>&1; then
		echo "fuzz: $name: a kept regression input fails again: see $work/regress.log"
		bad=$((bad + 1))
		continue
	fi
	# -timeout: one input taking 10 s is a hang; -rss_limit_mb: 2 GiB.
	if "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/findings/" \
		"$work/corpus" "tests/fuzz/corpus/$name" >"$work/fuzz.log" 2>&1 &&
		[ -z "$(ls -A "$work/findings")" ]; then
		echo "fuzz: $name: no finding in ${SECONDS_EACH}s ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$work/fuzz.log" | grep -o '[0-9]*$') inputs)"
	else
		echo "fuzz: $name: FINDING: $(ls "$work/findings" | head -3 | tr '\n' ' ')(in $work/findings; log $work/fuzz.log)"
		grep -m5 -E 'ERROR|SUMMARY|runtime error' "$work/fuzz.log" | sed 's/^/fuzz:   /'
		bad=$((bad + 1))
	fi
done
echo "fuzz: $n targets, $bad with findings"
[ "$bad" -eq 0 ]
