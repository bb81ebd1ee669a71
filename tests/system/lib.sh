# Library for affine's system tests: build a minimal initramfs, boot a real
# Debian kernel (or Xen 4.17 with a Linux dom0) under QEMU/TCG with a
# virtual NUMA topology, and collect the results the guest prints on its
# serial console. Source it from bash scripts that use `set -euo pipefail`.
# It holds the environment, the kit, the results and the scenarios, and sources
# its parts in lib/: initramfs.sh (the guest's root), topologies.sh (the NUMA
# layouts as QEMU options) and boot.sh (QEMU with Linux or Xen).
#
# Functions (see each for details):
#   make_initramfs OUT INIT_SCRIPT [--bin PATH]... [--file SRC:DEST]... [--tree DIR]... [--modules xen|MOD,MOD] [--toolstack]
#   make_guest_ramdisk OUT
#   make_disk_initramfs OUT MOD,MOD
#   make_disk_image OUT DIR
#   boot_linux TOPOLOGY INITRAMFS LOG [EXTRA_KERNEL_ARGS [QEMU_ARGS...]]
#   boot_xen INITRAMFS LOG [EXTRA_DOM0_ARGS]   (layout: $AFFINE_XEN_LAYOUT)
#   check_results LOG [NAME]
#   extract_blob LOG NAME OUT
#   topology_list / topology_describe TOPOLOGY
#   run_linux_scenario NAME TOPOLOGY INIT_SCRIPT [make_initramfs options]
#   run_xen_scenario NAME INIT_SCRIPT [make_initramfs options]
#
# Environment:
#   AFFINE_KIT_DIR       kit from fetch-kit.sh (default <repo>/build/kit)
#   AFFINE_SYSTEM_WORK   logs and initramfs images (default <repo>/build/system)
#   AFFINE_BOOT_TIMEOUT  seconds before a Linux guest is killed (default 300)
#   AFFINE_XEN_BOOT_TIMEOUT  the same for Xen (default 600)
#   AFFINE_BOOT_START_TIMEOUT  seconds a guest may take to print AFFINE-BOOTED
#                        before its start counts as hung and it boots again
#                        (default 240)
#   AFFINE_XEN_ARGS      extra options for the Xen command line
#   AFFINE_XEN_LAYOUT    the Xen host: numa2 (default) or numa4 (see boot_xen)
#   AFFINE_QEMU          QEMU binary (default qemu-system-x86_64)
#   AFFINE_KERNEL        the kernel tree of Linux boots: "" for the kit's kernel
#                        (default), "backports" for the kit's bookworm-backports
#                        kernel (DIR/backports: its vmlinuz and modules)

AFFINE_SYSTEM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AFFINE_REPO_DIR=$(cd "$AFFINE_SYSTEM_DIR/../.." && pwd)
: "${AFFINE_KIT_DIR:=$AFFINE_REPO_DIR/build/kit}"
: "${AFFINE_SYSTEM_WORK:=$AFFINE_REPO_DIR/build/system}"
: "${AFFINE_BOOT_TIMEOUT:=300}"
: "${AFFINE_XEN_BOOT_TIMEOUT:=600}"
: "${AFFINE_BOOT_START_TIMEOUT:=240}"
: "${AFFINE_QEMU:=qemu-system-x86_64}"

# Oracles independent of affine, present in every guest. hwloc-calc and
# migratepages are cheap extras (they share the libraries).
AFFINE_ORACLE_BINS=(numactl migratepages lstopo-no-graphics hwloc-calc)

# The Xen dom0 control devices: privcmd (hypercalls, /dev/xen/privcmd),
# evtchn, gntdev, and xenfs for /proc/xen. Others the Debian kernel has
# built in (xenbus, balloon, sys-hypervisor) need nothing.
AFFINE_XEN_MODULES=(xen-privcmd xen-evtchn xen-gntdev xenfs)

# Xen's own toolstack in dom0 (make_initramfs --toolstack), from the kit's
# toolstack/ tree: the C xenstored, xen-init-dom0 (names dom0 in xenstore),
# xenconsoled (guest consoles to files), xl and the xenstore-* tools. xl needs
# gntalloc too.
AFFINE_TOOLSTACK_BINS=(xl xenstored xen-init-dom0 xenconsoled)
AFFINE_TOOLSTACK_MODULES=(xen-gntalloc)

_affine_log() { echo "system: $*" >&2; }
_affine_die() { echo "system: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- the kit

_affine_kit_check() {
    local f
    for f in vmlinuz modules xen.elf; do
        [ -e "$AFFINE_KIT_DIR/$f" ] ||
            _affine_die "$AFFINE_KIT_DIR/$f missing; run tests/system/fetch-kit.sh first"
    done
}

# The directory of the Linux kernel chosen by $AFFINE_KERNEL (its vmlinuz and
# modules).
_affine_kernel_dir() {
    case ${AFFINE_KERNEL:-} in
    "") echo "$AFFINE_KIT_DIR" ;;
    backports)
        [ -e "$AFFINE_KIT_DIR/backports/vmlinuz" ] ||
            _affine_die "$AFFINE_KIT_DIR/backports/vmlinuz missing; run tests/system/fetch-kit.sh first"
        echo "$AFFINE_KIT_DIR/backports" ;;
    *) _affine_die "AFFINE_KERNEL: unknown kernel '$AFFINE_KERNEL' (\"\" or backports)" ;;
    esac
}

# The lib/modules/<version> directory matching the chosen kernel image.
_affine_moddir() {
    local img ver dir
    dir=$(_affine_kernel_dir)
    img=$(basename "$(readlink -f "$dir/vmlinuz")")
    ver=${img#vmlinuz-}
    [ -d "$dir/modules/$ver" ] ||
        _affine_die "no modules for kernel $ver in $dir/modules"
    echo "$dir/modules/$ver"
}

# ------------------------------------------------------------- the parts

# shellcheck source=lib/initramfs.sh
. "$AFFINE_SYSTEM_DIR/lib/initramfs.sh"
# shellcheck source=lib/topologies.sh
. "$AFFINE_SYSTEM_DIR/lib/topologies.sh"
# shellcheck source=lib/boot.sh
. "$AFFINE_SYSTEM_DIR/lib/boot.sh"

# --------------------------------------------------------------- results

# check_results LOG [NAME]
# Count the AFFINE-PASS / AFFINE-FAIL lines of a console log. Fails when a
# check failed, when AFFINE-DONE is missing (the guest crashed or hung), or
# when no check ran at all; on failure prints the whole console log.
check_results() {
    local log=$1 name=${2:-$(basename "$1" .log)} text passes fails ok=1
    [ -f "$log" ] || _affine_die "no log $log"
    # The serial console ends lines with \r\n; kernel messages may start in
    # the middle of a line, so match the markers anywhere.
    text=$(tr -d '\r' < "$log")
    passes=$(grep -ao 'AFFINE-PASS [^ ]*' <<< "$text" | wc -l || true)
    fails=$(grep -ao 'AFFINE-FAIL .*' <<< "$text" || true)
    if [ -n "$fails" ]; then
        ok=0
        echo "$name: failed checks:"
        sed 's/^/  /' <<< "$fails"
    fi
    if ! grep -aq 'AFFINE-DONE' <<< "$text"; then
        ok=0
        echo "$name: no AFFINE-DONE: the guest crashed, hung or timed out"
    fi
    if [ "$passes" = 0 ] && [ -z "$fails" ]; then
        ok=0
        echo "$name: no checks ran"
    fi
    local nfail=0
    [ -z "$fails" ] || nfail=$(wc -l <<< "$fails")
    echo "$name: $passes passed, $nfail failed"
    if [ "$ok" = 0 ]; then
        echo "----- console log of $name ($log) -----"
        cat "$log"
        echo "----- end of console log of $name -----"
        return 1
    fi
}

# extract_blob LOG NAME OUT: decode what the guest printed with emit_blob.
extract_blob() {
    local log=$1 name=$2 out=$3
    tr -d '\r' < "$log" |
        awk -v n="$name" '$0 == "AFFINE-BLOB-BEGIN " n {f=1; next}
                          $0 == "AFFINE-BLOB-END " n {f=0; found=1}
                          f {print}
                          END {exit !found}' |
        base64 -d > "$out" ||
        { _affine_log "no complete blob '$name' in $log"; return 1; }
}

# ------------------------------------------------------------- scenarios

# run_linux_scenario NAME TOPOLOGY INIT_SCRIPT [make_initramfs options]
# Build the initramfs, boot it, check the results. Logs and images go to
# $AFFINE_SYSTEM_WORK/NAME.{log,cpio.gz}.
run_linux_scenario() {
    local name=$1 topo=$2 script=$3
    shift 3
    local img=$AFFINE_SYSTEM_WORK/$name.cpio.gz log=$AFFINE_SYSTEM_WORK/$name.log
    make_initramfs "$img" "$script" "$@"
    boot_linux "$topo" "$img" "$log" || true
    check_results "$log" "$name"
}

# run_xen_scenario NAME INIT_SCRIPT [make_initramfs options]
# As run_linux_scenario, on Xen with the dom0 modules loaded.
run_xen_scenario() {
    local name=$1 script=$2
    shift 2
    local img=$AFFINE_SYSTEM_WORK/$name.cpio.gz log=$AFFINE_SYSTEM_WORK/$name.log
    make_initramfs "$img" "$script" --modules xen "$@"
    boot_xen "$img" "$log" || true
    check_results "$log" "$name"
}
