#!/usr/bin/env bash
# affine run --place on this machine: the plan's CPUs and memory policy, read back
# by the launched command itself from the kernel.
source "$(dirname "$0")/lib.sh"

expect_status "run --place launches" 0 "$AFFINE" run --place -v --memory 16M -- cat /proc/self/status
planned=$("$AFFINE" place --vcpus 1 --memory 16M --json | python3 -c 'import json,sys; print(",".join(map(str, json.load(sys.stdin)["cpus"])))')
expect_eq "CPUs are the plan's" "$("$AFFINE" calc "$planned")" "$(awk '/^Cpus_allowed_list/ {print $2}' <<<"$out")"
expect_contains "says where it placed" "affine: placed 16M (1 vCPU) on node" "$err"
expect_contains "reads the policy back" "memory policy preferred" "$err"
# Without -v, run --place says nothing of its own but what it could not do.
expect_status "run --place quiet" 0 "$AFFINE" run --place --memory 16M -- true
if grep -q "^affine: placed\|^affine: CPUs" <<<"$err"; then fail "run --place quiet" "$err"; else pass "run --place quiet"; fi

expect_status "best-effort-hard binds" 0 "$AFFINE" run --place --memory 16M --policy best-effort-hard -- \
    grep -m1 -o 'bind:[0-9,-]*' /proc/self/numa_maps
expect_contains "numa_maps says bind" "bind:" "$out"

expect_status "--place needs --memory" 2 "$AFFINE" run --place -- true
expect_contains "--memory message" "missing --memory SIZE" "$err"
expect_status "--place excludes --cpus" 2 "$AFFINE" run --place --memory 1M --cpus 0 -- true
expect_contains "--cpus message" "--cpus cannot be combined with --place" "$err"
expect_status "--memory needs --place" 2 "$AFFINE" run --memory 1M -- true
expect_status "bad policy" 2 "$AFFINE" run --place --memory 1M --policy nearest -- true
expect_status "too much memory is refused" 1 "$AFFINE" run --place --memory 64T -- true
expect_contains "refusal says not placed" "not placed" "$err"
expect_status "command's own status" 3 "$AFFINE" run --place --memory 1M -- sh -c 'exit 3'
expect_status "missing command" 127 "$AFFINE" run --place --memory 1M -- no-such-command-here
finish
