#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Prepares the Soft-RoCE test guest: Debian's own kernel (downloaded, never
# installed), its uncompressed vmlinux for direct PVH boot, and a small
# initramfs (static busybox + the RDMA/9p/overlay modules + scripts/vm/init).
# Idempotent: everything is cached in $RB_VM_DIR (default build/vm) and only
# rebuilt when the kernel ABI, the init script or the module list changes.
#
# Usage: scripts/vm/prepare.sh [-q]
# Exit: 0 ready, 77 cannot be prepared here (no qemu, no busybox-static, kernel
# package not downloadable), 1 anything else failed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VM_DIR=${RB_VM_DIR:-$ROOT/build/vm}
QUIET=0
[ "${1:-}" = -q ] && QUIET=1

say() { [ "$QUIET" = 1 ] || echo "prepare: $*"; }
skip() { echo "prepare: cannot prepare the guest: $*" >&2; exit 77; }

# Modules in load order. crc32_generic first: rdma_rxe allocates the "crc32"
# shash through request_module(), which an initramfs without modprobe cannot
# serve, and modinfo does not list it as a dependency.
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev
virtio_pci 9pnet 9pnet_virtio netfs fscache 9p overlay
crc32_generic udp_tunnel ip6_udp_tunnel ib_core ib_uverbs rdma_rxe dummy"
# Where they live inside the kernel package (tar wildcards).
MOD_PATHS="drivers/virtio/* net/9p/* fs/9p/* fs/netfs/* fs/fscache/*
fs/overlayfs/* crypto/crc32_generic.ko net/ipv4/udp_tunnel.ko
net/ipv6/ip6_udp_tunnel.ko drivers/infiniband/core/*
drivers/infiniband/sw/rxe/* drivers/net/dummy.ko"

command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
# busybox-static: the initramfs holds no libraries.
BUSYBOX=/bin/busybox
if [ ! -x "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
	skip "busybox-static not installed"
fi
command -v cpio >/dev/null || skip "cpio not installed"

# The ABI name (6.1.0-NN) changes with Debian point releases; resolve it
# through the meta package every time.
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$KPKG" ] || skip "apt-cache knows no linux-image-amd64 dependency"
KVER=${KPKG#linux-image-}

mkdir -p "$VM_DIR"
STAMP=$VM_DIR/stamp
want="$KVER $(cat "$HERE/init" "$0" | md5sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] &&
	[ -s "$VM_DIR/vmlinux" ] && [ -s "$VM_DIR/initrd.cpio" ]; then
	say "up to date (kernel $KVER) in $VM_DIR"
	exit 0
fi

KDIR=$VM_DIR/kernel-$KVER
if [ ! -s "$KDIR/boot/vmlinuz-$KVER" ]; then
	say "downloading $KPKG"
	dl=$(mktemp -d "$VM_DIR/dl.XXXXXX")
	chmod 777 "$dl"		# apt-get download runs as the _apt user
	if ! (cd "$dl" && apt-get download -qq "$KPKG" >/dev/null 2>&1); then
		rm -rf "$dl"
		skip "apt-get download $KPKG failed"
	fi
	rm -rf "$KDIR.tmp" && mkdir -p "$KDIR.tmp"
	pats=("./boot/vmlinuz-$KVER")
	for p in $MOD_PATHS; do
		pats+=("./lib/modules/$KVER/kernel/$p")
	done
	# Only the kernel and a few modules: ~13 MB instead of ~400 MB.
	dpkg-deb --fsys-tarfile "$dl"/"$KPKG"_*.deb |
		tar -x -C "$KDIR.tmp" --wildcards "${pats[@]}"
	rm -rf "$dl" "$KDIR"
	mv "$KDIR.tmp" "$KDIR"
fi

# bzImage -> uncompressed ELF. Debian's kernel carries a PVH note, so QEMU
# boots the ELF directly, skipping the real-mode loader and the in-guest XZ
# decompression that is slow under TCG.
say "extracting vmlinux"
off=$(LC_ALL=C grep -aboF "$(printf '\3757zXZ')" "$KDIR/boot/vmlinuz-$KVER" |
	head -1 | cut -d: -f1)
[ -n "$off" ] || { echo "prepare: no XZ payload in vmlinuz-$KVER" >&2; exit 1; }
tail -c +$((off + 1)) "$KDIR/boot/vmlinuz-$KVER" |
	xz -dc --single-stream >"$VM_DIR/vmlinux.tmp" 2>/dev/null || true
if ! head -c 4 "$VM_DIR/vmlinux.tmp" | grep -q ELF; then
	echo "prepare: vmlinux extraction failed" >&2
	exit 1
fi
mv "$VM_DIR/vmlinux.tmp" "$VM_DIR/vmlinux"

say "building initramfs"
R=$(mktemp -d "$VM_DIR/rootfs.XXXXXX")
trap 'rm -rf "$R"' EXIT
chmod 755 "$R"
mkdir -p "$R"/{bin,proc,sys,dev,lib/modules}
cp "$BUSYBOX" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
KM=$KDIR/lib/modules/$KVER/kernel
for m in $MODULES; do
	f=$(find "$KM" -name "$m.ko" | head -1)
	[ -n "$f" ] || { echo "prepare: module $m missing from $KPKG" >&2; exit 1; }
	cp "$f" "$R/lib/modules/"
	echo "$m" >>"$R/modules.order"
done
cp "$HERE/init" "$R/init"
chmod 755 "$R/init"
# Uncompressed: saves the in-guest decompression.
(cd "$R" && find . -print0 | cpio --null -o -H newc --quiet) >"$VM_DIR/initrd.cpio"
echo "$want" >"$STAMP"
say "ready: kernel $KVER, $(du -h "$VM_DIR/initrd.cpio" | cut -f1) initramfs in $VM_DIR"
