#!/bin/bash
# The classic bind PID MASK, on a process this test starts.
set -u
. "$(dirname "$0")/linux_lib.bash" "$@"

start sleep 60
before=$(awk '/^Cpus_allowed:/{print $2}' "/proc/$pid/status")
out=$("$affine" bind "$pid" 1)
check_has bind-old-line "$out" "pid $pid (sleep): old affinity "
check_has bind-new-line "$out" "pid $pid (sleep): new affinity 00000001"
check_eq bind-status 0 "$(cpus_allowed "$pid")"
out=$("$affine" bind "$pid" 0x1)
check_has bind-hex "$out" "new affinity 00000001"
check_status bind-zero 1 "$affine" bind "$pid" 0
check_has bind-zero-says "$out" "a zero mask always fails"
check_status bind-only-missing 2 "$affine" bind "$pid" 0x100000000000
check_has bind-only-missing-says "$out" "which this host does not have"
# Bits past the host's CPUs are refused as the set grammar refuses them, and the
# process keeps its mask.
ncpus=$(getconf _NPROCESSORS_CONF)
check_status bind-all-ones-refused 2 "$affine" bind "$pid" 4294967295
check_has bind-all-ones-says "$out" "which this host does not have (CPUs: "
check_eq bind-all-ones-unchanged 0 "$(cpus_allowed "$pid")"
# taskset's order (MASK PID): 12345 read as a mask names CPUs 0, 3-5, 12-13; with
# fewer CPUs than that nothing is pinned, and the message names the order.
if [ "$ncpus" -lt 14 ]; then
    check_status bind-taskset-order 2 "$affine" bind 1 12345
    check_has bind-taskset-order-says "$out" "taskset's order is MASK PID"
fi
all=$(( (1 << ncpus) - 1 ))
out=$("$affine" bind "$pid" "$all" 2>&1)
check_has bind-every-cpu "$out" "new affinity "
check_eq bind-every-cpu-status "$(cat /sys/devices/system/cpu/online)" "$(cpus_allowed "$pid")"
check_status bind-bad-mask 2 "$affine" bind "$pid" 12z
check_status bind-usage 2 "$affine" bind "$pid"
finish
