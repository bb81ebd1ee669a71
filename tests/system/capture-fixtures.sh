#!/bin/bash
# Capture sysfs/procfs fixtures for topology-reader unit tests from real
# kernels: boots each topology, copies the small files affine's reader and
# hwloc need out of the guest (a base64'd tar.gz printed on the console),
# and stores under tests/fixtures/sysfs/:
#   <topology>/              the tree, usable as HWLOC_FSROOT
#   <topology>.numactl.txt   numactl -H inside the guest
#   <topology>.lstopo.xml    lstopo-no-graphics --of xml inside the guest
# Then checks that hwloc reading the tree on the host sees the topology the
# guest's hwloc saw (I/O devices and info attributes aside, which come from
# files the tree leaves out).
#
# Usage: capture-fixtures.sh [TOPOLOGY...]   (default: all)
# memless is captured with CPU 3 offline. With AFFINE_KERNEL=backports the
# trees are named <topology>-backports (the kernel of Debian 12's backports).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

fixtures=$AFFINE_REPO_DIR/tests/fixtures/sysfs
work=$AFFINE_SYSTEM_WORK/fixtures
mkdir -p "$work" "$fixtures"

# What to do in the guest before capturing, per topology.
setup_for() {
    case $1 in
    memless) echo "cpu_offline 3" ;;
    *) echo ":" ;;
    esac
}

# An hwloc topology reduced to what a sysfs tree determines: no I/O or
# Misc objects (PCI, DMI memory modules), no info attributes (CPU model,
# OS, process name), no gp_index (numbering shifts with I/O objects), and
# no binding support flags (hwloc cannot bind in a tree that is not the
# running system).
hwloc_view() {
    lstopo-no-graphics -i "$1" --of xml --no-io --filter misc:none - |
        grep -v -e '<info ' -e '<support name="cpubind\.' -e '<support name="membind\.' |
        sed 's/ gp_index="[0-9]*"//'
}

capture() {
    local topo=$1 stored=$1${AFFINE_KERNEL:+-$AFFINE_KERNEL} tree tmp
    local name=fixture-$stored
    {
        setup_for "$topo"
        cat "$here/guest/capture-sysfs.sh"
    } > "$work/$name.sh"
    make_initramfs "$work/$name.cpio.gz" "$work/$name.sh"
    boot_linux "$topo" "$work/$name.cpio.gz" "$work/$name.log" || true
    check_results "$work/$name.log" "$name"

    tmp=$work/$name.d
    rm -rf "$tmp"
    mkdir -p "$tmp/tree"
    extract_blob "$work/$name.log" tree "$tmp/tree.tar.gz"
    extract_blob "$work/$name.log" numactl "$tmp/numactl.txt"
    extract_blob "$work/$name.log" lstopo "$tmp/lstopo.xml"
    tar xzf "$tmp/tree.tar.gz" -C "$tmp/tree" --no-same-owner

    # hwloc on the host, reading the captured tree, must agree with the
    # guest's own hwloc.
    hwloc_view "$tmp/lstopo.xml" > "$tmp/guest.view"
    HWLOC_FSROOT=$tmp/tree lstopo-no-graphics --of xml > "$tmp/host.xml"
    hwloc_view "$tmp/host.xml" > "$tmp/host.view"
    if ! diff -u "$tmp/guest.view" "$tmp/host.view"; then
        echo "capture $topo: hwloc sees a different topology in the captured tree" >&2
        return 1
    fi

    tree=$fixtures/$stored
    rm -rf "$tree"
    mv "$tmp/tree" "$tree"
    cp "$tmp/numactl.txt" "$fixtures/$stored.numactl.txt"
    cp "$tmp/lstopo.xml" "$fixtures/$stored.lstopo.xml"
    echo "capture $stored: $(find "$tree" -type f | wc -l) files, $(find "$tree" -type l | wc -l) links -> ${tree#"$AFFINE_REPO_DIR"/}"
}

main() {
    local topos=("$@") t
    [ ${#topos[@]} -gt 0 ] || read -r -a topos <<< "$(topology_list)"
    for t in "${topos[@]}"; do
        capture "$t"
    done
}

main "$@"
