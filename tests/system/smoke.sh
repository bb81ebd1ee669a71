#!/bin/bash
# Smoke test of the system-test kit: boots each kind of guest once and checks,
# with numactl, hwloc and sysfs only (no affine binary needed), that the
# guest sees the topology lib.sh promises. Exit 0 only when all pass.
#
# Usage: smoke.sh   (after fetch-kit.sh)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

work=$AFFINE_SYSTEM_WORK/smoke
mkdir -p "$work"
failed=()
timings=()

# run NAME KIND TOPOLOGY: KIND is linux or xen; the scenario is read from
# stdin into a file, booted, and checked.
run() {
    local name=$1 kind=$2 topo=$3
    cat > "$work/$name.sh"
    if [ "$kind" = xen ]; then
        make_initramfs "$work/$name.cpio.gz" "$work/$name.sh" --modules xen
        boot_xen "$work/$name.cpio.gz" "$work/$name.log" || true
    else
        make_initramfs "$work/$name.cpio.gz" "$work/$name.sh"
        boot_linux "$topo" "$work/$name.cpio.gz" "$work/$name.log" || true
    fi
    timings+=("$name: ${AFFINE_LAST_BOOT_SECONDS}s")
    check_results "$work/$name.log" "$name" || failed+=("$name")
}

# numa4: 4 nodes, node 3 memory only, asymmetric distances.
run numa4 linux numa4 <<'EOF'
n=/sys/devices/system/node
check_file_eq node-possible $n/possible 0-3
check_file_eq node-online $n/online 0-3
check_file_eq node-has-cpu $n/has_cpu 0-2
check_file_eq node-has-memory $n/has_memory 0-3
check_file_eq node0-cpus $n/node0/cpulist 0-1
# A node's cpulist lists only its online CPUs.
check_file_eq node1-cpus $n/node1/cpulist 2
check_file_eq node2-cpus $n/node2/cpulist 4-5
check_file_eq node3-no-cpus $n/node3/cpulist ""
check_file_eq dist0 $n/node0/distance "10 21 31 41"
check_file_eq dist1 $n/node1/distance "22 10 21 31"
check_file_eq dist2 $n/node2/distance "32 22 10 21"
check_file_eq dist3 $n/node3/distance "42 32 22 10"
check_file_eq cpus-online /sys/devices/system/cpu/online 0-5
check_eq packages "0 1 2" "$(cat /sys/devices/system/cpu/cpu*/topology/physical_package_id | sort -u | tr '\n' ' ' | sed 's/ $//')"
h=$(numactl -H)
check_contains numactl-nodes "$h" "available: 4 nodes (0-3)"
check_contains numactl-node3-cpus "$h" "node 3 cpus:
"
check_eq numactl-distances "$(printf '%s\n' '  0:  10  21  31  41' '  1:  22  10  21  31' '  2:  32  22  10  21' '  3:  42  32  22  10')" \
    "$(echo "$h" | sed -n '/^node distances:/,$p' | grep -E '^ +[0-9]+:' | sed 's/ *$//')"
x=$(lstopo-no-graphics --of xml)
check_eq lstopo-numanodes 4 "$(echo "$x" | grep -c '<object type="NUMANode"')"
check_eq lstopo-packages 3 "$(echo "$x" | grep -c '<object type="Package"')"
# hwloc hangs a CPU-less node under the nearest CPUs (node 3 is closest to
# node 2), so its cpuset there is that of package 2.
check_eq hwloc-node3-locality 0x00000030 "$(hwloc-calc --physical-input --physical-output numa:3)"
EOF

# memless: node 1 has CPUs but no memory; CPU 3 is taken offline.
run memless linux memless <<'EOF'
n=/sys/devices/system/node
c=/sys/devices/system/cpu
check_file_eq node-online $n/online 0-2
check_file_eq node-has-cpu $n/has_cpu 0-2
check_file_eq node-has-memory $n/has_memory 0,2
check_eq node1-memtotal "0 kB" "$(awk '/MemTotal/ {print $4, $5}' $n/node1/meminfo)"
check_contains numactl-node1-size "$(numactl -H)" "node 1 size: 0 MB"
cpu_offline 3
check_file_eq cpu3-offline $c/cpu3/online 0
check_file_eq cpus-online $c/online 0-2,4-5
check_file_eq cpus-offline $c/offline 3
# A node's cpulist lists only its online CPUs.
check_file_eq node1-cpus $n/node1/cpulist 2
check_contains numactl-node1-cpus "$(numactl -H)" "node 1 cpus: 2
"
check_cmd bind-cpu4 numactl --physcpubind=4 true
check_cmd_fails bind-offline-cpu3 numactl --physcpubind=3 true
EOF

# sparse: node ids 0 and 2 online, node 1 possible only.
run sparse linux sparse <<'EOF'
n=/sys/devices/system/node
c=/sys/devices/system/cpu
check_file_eq node-possible $n/possible 0-2
check_file_eq node-online $n/online 0,2
check_file_eq node-has-cpu $n/has_cpu 0
check_file_eq node-has-memory $n/has_memory 0,2
check_missing node1-absent $n/node1
check_file_eq node2-no-cpus $n/node2/cpulist ""
check_file_eq dist0 $n/node0/distance "10 31"
check_file_eq cpus-possible $c/possible 0-5
check_file_eq cpus-present $c/present 0-1
check_contains numactl-nodes "$(numactl -H)" "available: 2 nodes (0,2)"
check_cmd membind-node2 numactl --membind=2 true
EOF

# xen: dom0 with the control devices and xenfs.
run xen xen - <<'EOF'
check_exists privcmd /dev/xen/privcmd
check_exists evtchn /dev/xen/evtchn
check_contains xenfs-mounted "$(cat /proc/mounts)" "xenfs /proc/xen xenfs"
check_file_eq hypervisor-type /sys/hypervisor/type xen
check_contains dom0-capabilities "$(cat /proc/xen/capabilities)" control_d
EOF

echo "boot times:"
printf '  %s\n' "${timings[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "smoke: FAILED: ${failed[*]}"
    exit 1
fi
echo "smoke: all passed"
