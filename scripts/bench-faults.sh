#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Fault counts, not a speed benchmark: tests/integ/test_faults.sh repeated
# RUNS times per case (default 10): one rank of four stopped or killed
# mid-sweep over shm and mpi, with hydra's clean-up on and off. Prints per
# case how many runs met every rule (each survivor's own exit status 3
# within -T + 5 s, the culprit named by rank 0, complete: false, no PASS),
# the slowest end after the fault, how many survivors named the culprit,
# and, with the ranks launched directly (no status wrapper), what mpiexec
# itself returned (docs/exit-codes.md).
#
# usage: scripts/bench-faults.sh [RUNS [LAUNCHER_RUNS]]
#   RUNS           runs per case with the status wrapper (default 10)
#   LAUNCHER_RUNS  runs per case without it (default 3)
# Env: BUILD (default build).
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-10}
LRUNS=${2:-3}
export BUILD=${BUILD:-build}
echo "# per-rank statuses (status wrapper), $RUNS runs per case"
RB_FAULT_RUNS=$RUNS bash tests/integ/test_faults.sh | grep --line-buffered -E '^(ok|not ok|# [a-z]+: SIG|# run )'
echo "# launcher only (ranks started directly, as users do), $LRUNS runs per case"
RB_FAULT_RUNS=$LRUNS RB_FAULT_WRAP=0 bash tests/integ/test_faults.sh |
	grep --line-buffered -E '^# [a-z]+: SIG' | sed --unbuffered 's/survivors naming.*; mpiexec/mpiexec/'
