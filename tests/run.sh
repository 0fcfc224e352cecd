#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Test runner: runs every test program of the named suites (default: all)
# and prints one closing line "N passed, N failed, N skipped".
# Suites: unit, topo (cmocka binaries in $BUILD/tests/<suite>/), integ
# (tests/integ/*.sh), vm (tests/vm/*.sh), san (tests/san/*.sh, for the
# sanitizer build only). Each program reports TAP lines
# ("ok N - name", "not ok N - name", "ok N - name # SKIP why"); a program that
# exits non-zero without reporting a failure counts as one failure, and one
# that exits 77 without output as one skip.
# Env: BUILD (build dir, default build), TEST_TIMEOUT (s per program, 900),
#      TESTS_FILTER (regex on program paths).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
TEST_TIMEOUT=${TEST_TIMEOUT:-900}
LOGDIR=$BUILD/test-logs
mkdir -p "$LOGDIR"
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit topo integ vm)

pass=0 fail=0 skip=0
failed_names=()

run_one() {
	local prog=$1
	shift
	local name log rc p f s sp
	name=$(echo "$prog" | sed 's|^\./||; s|/|_|g')
	log=$LOGDIR/$name.log
	local t0=$SECONDS
	CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "$TEST_TIMEOUT" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	# cmocka 1.1 prints a skipped case as "not ok N # SKIP": a skip.
	p=$(grep -Ec '^ok [0-9]+' "$log" | tr -d ' ')
	s=$(grep -Ec '^(not )?ok [0-9]+.*# *(SKIP|skip)' "$log" | tr -d ' ')
	f=$(grep -Ec '^not ok [0-9]+' "$log" | tr -d ' ')
	sp=$(grep -Ec '^ok [0-9]+.*# *(SKIP|skip)' "$log" | tr -d ' ')
	p=$((p - sp)) f=$((f - (s - sp)))
	if [ "$rc" -eq 77 ] && [ $((p + f + s)) -eq 0 ]; then
		s=1
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $prog exited with status $rc" >>"$log"
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	printf '%-48s %4d passed %3d failed %3d skipped  (%ds)\n' \
		"$prog" "$p" "$f" "$s" $((SECONDS - t0))
	grep -E '^(not )?ok [0-9]+.*# *(SKIP|skip)' "$log" | sort -u | head -3 | sed 's/^/    /'
	if [ "$f" -gt 0 ]; then
		failed_names+=("$prog")
		echo "---- $log (last 40 lines) ----"
		tail -40 "$log"
		echo "----"
	fi
}

filter() {
	if [ -n "${TESTS_FILTER:-}" ]; then
		grep -E "$TESTS_FILTER" || true
	else
		cat
	fi
}

T_ALL=$SECONDS
suite_times=()
for suite in "${suites[@]}"; do
	t_suite=$SECONDS
	case $suite in
	unit | topo)
		for t in $(ls "$BUILD"/tests/"$suite"/test_* 2>/dev/null | grep -v '\.d$' | filter); do
			[ -x "$t" ] && run_one "$t" "$t"
		done
		;;
	integ | vm | san)
		for t in $(ls tests/"$suite"/*.sh 2>/dev/null | grep -v '/lib[^/]*\.sh$' | filter); do
			run_one "$t" bash "$t"
		done
		;;
	*)
		echo "tests/run.sh: unknown suite '$suite' (unit, topo, integ, vm, san)" >&2
		exit 2
		;;
	esac
	suite_times+=("$suite $((SECONDS - t_suite))s")
done

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "suite times: $(IFS=,; echo "${suite_times[*]}" | sed 's/,/, /g'); total $((SECONDS - T_ALL))s"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
