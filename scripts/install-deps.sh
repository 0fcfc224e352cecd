#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Install every Debian package railbench needs to build, run and test.
# Idempotent and non-interactive; run as root (or via sudo).
# CUDA and NCCL are not Debian packages: the build detects them under
# /usr/local/cuda and skips the GPU parts when they are absent.
set -eu

PKGS="build-essential pkg-config git
mpich libmpich-dev
libhwloc-dev hwloc
libjansson-dev
libcmocka-dev
clang libclang-rt-14-dev
libibverbs-dev rdma-core ibverbs-providers ibverbs-utils perftest
gnuplot-nox
python3 python3-jinja2 chromium poppler-utils fonts-dejavu-core python3-websocket
iproute2 iperf3 jq procps psmisc time valgrind
qemu-system-x86 busybox-static cpio xz-utils zstd"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
