#!/bin/bash
# affine pin and show on processes this test starts (one node, the CPUs of this host).
set -u
. "$(dirname "$0")/linux_lib.bash" "$@"

last=$(awk -F- '{print $NF}' /sys/devices/system/cpu/online)  # highest online CPU
start_until looping sh -c 'echo looping; while sleep 0.02; do :; done'
out=$("$affine" pin "$last" "$pid")
check_has pin-prints-before-after "$out" "-> $last"
check_eq pin-status-matches "$last" "$(cpus_allowed "$pid")"
on_last_cpu() { [ "$(last_cpu "$pid")" = "$last" ]; }
wait_until pin-last-cpu-inside 10 on_last_cpu && ok pin-last-cpu-inside
json=$("$affine" show "$pid" --json)
check_has show-json-affinity "$(echo "$json" | tr -d ' \n')" "\"affinity\":[$last]"
check_has show-json-memory "$json" '"memory_bytes_per_node":{'
check_has show-text "$("$affine" show "$pid")" "affinity $last, last ran on CPU $last"

# Every thread of a process, against one that keeps starting and ending threads.
start_until churning "$helpers/thread_churn" 32
for round in 1 2 3 4 5; do
    target=$(( round % 2 == 0 ? 0 : last ))
    out=$("$affine" pin --all-threads "$target" "$pid" 2>&1) || bad "churn-pin-$round" "$out"
    stale=0
    for s in /proc/$pid/task/*/status; do
        v=$(awk '/^Cpus_allowed_list:/{print $2}' "$s" 2> /dev/null) || continue
        [ -z "$v" ] || [ "$v" = "$target" ] || stale=$((stale + 1))
    done
    check_eq "churn-no-old-mask-$round" 0 "$stale"
done

# Many threads, all read back.
start_until "ready 200" "$helpers/many_threads" 200
out=$("$affine" pin --all-threads 0 "$pid")
check_has pin-all-threads-count "$out" "201 threads pinned to CPUs 0"

# Refusals.
check_status pin-missing-cpu 2 "$affine" pin 4096 "$pid"
check_has pin-missing-cpu-says "$out" "does not exist"
check_status pin-no-such-task 1 "$affine" pin 0 99999999
check_has pin-no-such-task-says "$out" "no such task: 99999999"
check_status pin-bad-pid 2 "$affine" pin 0 abc
check_status show-no-such-task 1 "$affine" show 99999999
finish
