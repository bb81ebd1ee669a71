#!/bin/bash
# affine run: the command inherits affinity and memory policy; exit statuses.
set -u
. "$(dirname "$0")/linux_lib.bash" "$@"

out=$("$affine" run --cpus 0 -- grep Cpus_allowed_list /proc/self/status)
check_has run-cpus "$out" "Cpus_allowed_list:	0"
out=$("$affine" run --cpus 0 -- sh -c 'grep Cpus_allowed_list /proc/$$/status')
check_has run-children-inherit "$out" "Cpus_allowed_list:	0"
out=$("$affine" run --nodes 0 --mem-policy bind -- cat /proc/self/numa_maps)
check_has run-bind-policy "$out" " bind:0 "
out=$("$affine" run --nodes 0 --mem-policy interleave -- cat /proc/self/numa_maps)
check_has run-interleave-policy "$out" " interleave:0 "
out=$("$affine" run --nodes 0 --mem-policy preferred -- cat /proc/self/numa_maps)
check_has run-preferred-policy "$out" " prefer:0 "
out=$("$affine" run --cpus 0 -v -- true 2>&1)
check_has run-auto-note "$out" "memory follows the CPUs"
check_status run-exit-status 3 "$affine" run --cpus 0 -- sh -c 'exit 3'
check_status run-not-found 127 "$affine" run --cpus 0 -- no-such-command-here
plain=$(mktemp)
check_status run-not-executable 126 "$affine" run -- "$plain"
rm -f "$plain"
check_status run-bad-node 2 "$affine" run --nodes 7 -- true
check_status run-local-with-nodes 2 "$affine" run --nodes 0 --mem-policy local -- true
check_status run-bad-policy 2 "$affine" run --mem-policy strict --nodes 0 -- true
check_status run-no-command 2 "$affine" run --cpus 0

# migrate on a process we start: on one node nothing moves, and says so.
start_until touched "$helpers/touch_memory" 8
out=$("$affine" migrate "$pid" 0)
check_has migrate-nothing-to-move "$out" "no pages outside node 0"
# No source node: the summary counts no pages "still on node -".
check_eq migrate-nothing-left-line "  pages not moved: 0 (kernel)" "$(tail -n 1 <<<"$out")"
check_status migrate-bad-node 2 "$affine" migrate "$pid" 5
check_status migrate-no-such-process 1 "$affine" migrate 99999999 0

# shield refusals that change nothing (shield itself runs only in QEMU guests).
check_status shield-all-cpus 2 "$affine" shield all --state "$(mktemp -u)"
check_status shield-undo-nothing 0 "$affine" shield --undo --state "$(mktemp -u)"
check_status shield-exec-without-command 2 "$affine" shield 0 --exec
finish
