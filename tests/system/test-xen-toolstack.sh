#!/bin/bash
# System test of `affine xen` with Xen's real toolstack: one boot of Xen 4.17
# under QEMU on 4 NUMA nodes of 1 pCPU with unequal memory and asymmetric
# distances (AFFINE_XEN_LAYOUT=numa4ua), dom0
# with xenstored, xen-init-dom0, xenconsoled and xl started by /init. The
# scenario (guest/xen-toolstack.sh) checks every `affine xen` command against
# xl's own view (xl info -n, xl list -n, xl vcpu-list, the NUMA dump through
# xl debug-keys u and xl dmesg), on dom0 and on PV guests made by `xl create`,
# and `affine xen create`: memory on the planned node, two creations at once,
# a hard cpus= as a limit, refusals, xl's failures passed through; a guest
# larger than any node built preferred node first (its balloon driver takes
# the rest from the nearest node), and one kept paused reported as such.
# About 150 s under TCG (eight xl creates of 10-15 s each).
#
# usage: test-xen-toolstack.sh AFFINE_BINARY
set -euo pipefail

affine=$(readlink -f "$1")
# Seven xl creates: more than the default timeout of a Xen boot when the machine is busy.
: "${AFFINE_XEN_BOOT_TIMEOUT:=1100}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
source "$here/lib.sh"
[ -s "$AFFINE_KIT_DIR/guest-vmlinux.gz" ] ||
    { echo "test-xen-toolstack: no $AFFINE_KIT_DIR/guest-vmlinux.gz: run tests/system/fetch-kit.sh" >&2; exit 1; }

work=$AFFINE_SYSTEM_WORK/xen-toolstack
rm -rf "$work"
mkdir -p "$work"
# dom0 unpacks the initramfs into its memory: the binary without debug
# information, and the whole image under ~16 MB (larger ones hung at boot).
strip -o "$work/affine" "$affine"
make_guest_ramdisk "$work/guest-initrd.gz"
AFFINE_XEN_LAYOUT=numa4ua run_xen_scenario xen-toolstack "$here/guest/xen-toolstack.sh" --toolstack \
    --bin "$work/affine" \
    --file "$AFFINE_KIT_DIR/guest-vmlinux.gz:/guest/vmlinux.gz" \
    --file "$work/guest-initrd.gz:/guest/initrd.gz"
