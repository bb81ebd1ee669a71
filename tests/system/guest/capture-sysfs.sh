# Guest side of capture-fixtures.sh (busybox sh, run after the prelude with
# affine-check.sh sourced). Copies the small sysfs/procfs files that affine's
# topology reader and hwloc (HWLOC_FSROOT) read into a tree, and prints it,
# numactl -H and lstopo's XML as blobs on the console.

out=/tmp/fixture

# grab PATH...: copy regular files by content (sysfs sizes are fake, so tar
# cannot read them directly) and symlinks as they are; skip what is missing
# or unreadable, and the uevent files.
grab() {
    for f in "$@"; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        case $f in */uevent) continue ;; esac
        d=$out$f
        mkdir -p "${d%/*}"
        if [ -L "$f" ]; then
            ln -sf "$(readlink "$f")" "$d"
        elif [ -f "$f" ]; then
            cat "$f" > "$d" 2>/dev/null || rm -f "$d"
        fi
    done
}

s=/sys/devices/system
grab $s/cpu/possible $s/cpu/present $s/cpu/online $s/cpu/offline $s/cpu/kernel_max
for c in $s/cpu/cpu[0-9]*; do
    # cpuN/nodeM links point to ../../node/nodeM, inside the tree.
    grab "$c/online" "$c"/node[0-9]* "$c"/topology/*
    for i in "$c"/cache/index[0-9]*; do
        grab "$i"/*
    done
done
grab $s/node/possible $s/node/online $s/node/has_cpu $s/node/has_memory \
    $s/node/has_normal_memory $s/node/has_generic_initiator
for n in $s/node/node[0-9]*; do
    grab "$n/cpulist" "$n/cpumap" "$n/meminfo" "$n/distance" "$n"/cpu[0-9]* \
        "$n"/hugepages/*/nr_hugepages "$n"/hugepages/*/free_hugepages \
        "$n"/hugepages/*/surplus_hugepages
    # HMAT: access classes (initiator links and performance) and memory-side caches.
    for a in "$n"/access[0-9]*; do
        grab "$a"/initiators/* "$a"/targets/*
    done
    for i in "$n"/memory_side_cache/index[0-9]*; do
        grab "$i"/*
    done
done
# Memory tiers and weighted interleave's weights, where the kernel has them.
for t in /sys/devices/virtual/memory_tiering/memory_tier[0-9]*; do
    grab "$t/nodelist"
done
grab /sys/kernel/mm/mempolicy/weighted_interleave/*
# /proc/self/status is that of the cat doing the copy: a plain process
# started from the guest's shell.
grab /proc/self/status /proc/sys/kernel/numa_balancing /proc/meminfo
# hwloc finds the allowed CPUs and memory nodes through the cgroup cpuset
# (the cgroup2 mount in /proc/mounts, the task's cgroup, then the cpuset
# files); without them it would call every node allowed, including a
# memoryless node the kernel leaves out of cpuset.mems.
cat /proc/mounts > "$out/proc/mounts"
grab /proc/self/cgroup /sys/fs/cgroup/cgroup.controllers \
    /sys/fs/cgroup/cpuset.cpus.effective /sys/fs/cgroup/cpuset.mems.effective

tar czf /tmp/fixture.tar.gz -C "$out" .
numactl -H > /tmp/numactl.txt
lstopo-no-graphics --of xml > /tmp/lstopo.xml
check_cmd fixture-files test -s /tmp/fixture.tar.gz
check_cmd numactl-output test -s /tmp/numactl.txt
check_cmd lstopo-output test -s /tmp/lstopo.xml
emit_blob tree /tmp/fixture.tar.gz
emit_blob numactl /tmp/numactl.txt
emit_blob lstopo /tmp/lstopo.xml
