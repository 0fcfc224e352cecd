#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Helpers for tests that run across scripts/simcluster: bring a cluster up
# with teardown on every exit path, and read per-interface byte counters.
# Source after tests/lib.sh.
SIMCLUSTER=$RB_ROOT/scripts/simcluster
# A prefix of its own, so a test never touches a cluster someone else runs.
export SIMCLUSTER_PREFIX=${SIMCLUSTER_PREFIX:-rbt$$}
export SIMCLUSTER_MGMT=${SIMCLUSTER_MGMT:-10.199.$((62 + $$ % 100))}

# Exits 77 (skip) with a reason unless the named programs exist.
sc_require_progs() {
	local b
	for b in mpiexec "$@"; do
		if ! command -v "$b" >/dev/null 2>&1 && [ ! -x "$b" ]; then
			echo "# SKIP: $b not found (build first: make BUILD=...)"
			exit 77
		fi
	done
}

# \return 0 when simulated clusters can be built here (root, iproute2).
sc_can_run() { [ "$(id -u)" = 0 ] && command -v ip >/dev/null 2>&1; }

# Exits 77 (skip) with a reason unless this can run: root, iproute2,
# mpiexec and the named programs.
sc_require() {
	if ! sc_can_run; then
		echo "# SKIP: needs root and iproute2 for network namespaces"
		exit 77
	fi
	sc_require_progs "$@"
}

sc_down() { "$SIMCLUSTER" down >/dev/null 2>&1; }

# sc_up NODES RAILS [simcluster up options]: also arms teardown at exit.
sc_up() {
	local n=$1 r=$2
	shift 2
	trap 'sc_down; rm -rf "${SC_TMP:-/nonexistent}"' EXIT
	trap 'exit 130' INT TERM
	sc_down
	"$SIMCLUSTER" up -n "$n" -r "$r" "$@" >/dev/null
}

sc_mpiexec() { timeout -k 5 "${SC_RUN_TIMEOUT:-180}" "$SIMCLUSTER" mpiexec "$@"; }

# Counter snapshot: lines "node<i> IF TX RX".
sc_counters() { "$SIMCLUSTER" counters; }

# sc_delta BEFORE AFTER: lines "node<i> IF DTX DRX".
sc_delta() {
	awk 'NR == FNR { tx[$1" "$2] = $3; rx[$1" "$2] = $4; next }
	     { print $1, $2, $3 - tx[$1" "$2], $4 - rx[$1" "$2] }' "$1" "$2"
}
