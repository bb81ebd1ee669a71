#!/bin/bash
# The classic bind PID MASK, on a process this test starts.
set -u
. "$(dirname "$0")/linux_lib.bash" "$@"

start sleep 60
before=$(awk '/^Cpus_allowed:/{print $2}' "/proc/$pid/status")
out=$("$affine" bind "$pid" 1)
check_has bind-old-line "$out" "pid $pid's old affinity: "
check_has bind-new-line "$out" "pid $pid's new affinity: 00000001"
check_eq bind-status 0 "$(cpus_allowed "$pid")"
out=$("$affine" bind "$pid" 0x1)
check_has bind-hex "$out" "new affinity: 00000001"
check_status bind-zero 1 "$affine" bind "$pid" 0
check_has bind-zero-says "$out" "a zero mask always fails"
check_status bind-only-missing 1 "$affine" bind "$pid" 0x100000000000
check_has bind-only-missing-says "$out" "which this host does not have"
out=$("$affine" bind "$pid" 4294967295 2>&1)
check_has bind-all-ones-applies-existing "$out" "new affinity: "
check_eq bind-all-ones-status "$(cat /sys/devices/system/cpu/online)" "$(cpus_allowed "$pid")"
check_status bind-bad-mask 2 "$affine" bind "$pid" 12z
check_status bind-usage 2 "$affine" bind "$pid"
finish
