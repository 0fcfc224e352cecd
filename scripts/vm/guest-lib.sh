#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Helpers for scripts that run inside the Soft-RoCE guest (scripts/vm/run.sh):
# GID lookup and perftest server/client pairs. Source it.

# vm_gid_index DEV: prints the index of DEV port 1's RoCE v2 GID that maps an
# IPv4 address (::ffff:a.b.c.d). Returns 1 when there is none.
vm_gid_index() {
	local d=/sys/class/infiniband/$1/ports/1 g i
	for g in "$d"/gids/*; do
		i=${g##*/}
		case $(cat "$g" 2>/dev/null) in
		0000:0000:0000:0000:0000:ffff:*) ;;
		*) continue ;;
		esac
		grep -q 'v2' "$d/gid_attrs/types/$i" 2>/dev/null || continue
		echo "$i"
		return 0
	done
	return 1
}

# vm_wait_listen PORT: waits (up to 30 s) until a TCP socket listens on PORT.
# A fixed sleep before starting a client is flaky on a loaded host.
vm_wait_listen() {
	local p n=0
	p=$(printf '%04X' "$1")
	while ! grep -qE ":$p [0-9A-F]+:0000 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null; do
		n=$((n + 1))
		[ $n -gt 300 ] && return 1
		sleep 0.1
	done
}

# vm_perftest LOG TOOL ARGS...: runs TOOL ARGS as server and TOOL ARGS
# 127.0.0.1 as client (perftest's out-of-band port 18515), client output to
# stdout, server output to LOG. Returns 0 when both exit 0.
vm_perftest() {
	local log=$1 srv c s
	shift
	timeout 120 "$@" >"$log" 2>&1 &
	srv=$!
	vm_wait_listen 18515 || echo "# perftest server not listening" >&2
	timeout 110 "$@" 127.0.0.1
	c=$?
	wait "$srv"
	s=$?
	[ "$c" -eq 0 ] && [ "$s" -eq 0 ]
}
