#!/usr/bin/env bash
# The affine daemon's placement reaction in the 4-node TCG guest: the daemon with
# the shipped configuration (dist/daemon.conf) plus one rule naming the workload by
# its command (min_memory 100M); six rounds, each a fresh CPU-bound process of 135 MB
# (touch_memory under another name) whose pages start interleaved over nodes 0-2;
# in the first three it then returns to the default policy (NUMA balancing scans it
# as any process, and hides the pages it marks from move_pages), in the last three it
# keeps its interleave policy (NUMA balancing leaves it alone).
# For each round: the time from the process's start (it printed "touched") to its
# mask being the plan's CPUs (/proc/PID/status) and to >= 90 % of its pages on the
# plan's node (numa_maps), the pages the kernel migrated (/proc/vmstat
# pgmigrate_success, and how many of them NUMA balancing moved), and the most moved
# over any second against move_budget. The guest polls every 100 ms. Prints figures;
# checks only that the guest ran and the daemon took each workload.
# Usage: bench/placement_reaction.sh [AFFINE] [HELPERS_DIR]   (the kit as for the system tests)
# AFFINE_BENCH_LOG=1 prints the daemon's log lines about each workload as well.
# Cost: one boot, about 2 minutes under TCG.
set -euo pipefail
# shellcheck source=lib/guest_bench.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/guest_bench.sh"
run_linux_scenario bench-placement-reaction numa4 "$here/guest/placement-reaction.sh" \
    --bin "$affine" --bin "$helpers/touch_memory" \
    --file "$here/../dist/daemon.conf:/etc/affine/shipped.conf" \
    --file "$here/../tests/system/guest/linux-common.sh:/lib/linux-common.sh" > /dev/null ||
    { cat "$AFFINE_SYSTEM_WORK/bench-placement-reaction.log"; exit 1; }
text=$(tr -d '\r' < "$AFFINE_SYSTEM_WORK/bench-placement-reaction.log")
echo "4-node TCG guest ($(topology_describe numa4)), $(grep -a '^BENCH kernel' <<< "$text" | sed 's/^BENCH kernel //')"
grep -a '^BENCH config' <<< "$text" | sed 's/^BENCH config /shipped configuration: /'
grep -a '^BENCH round\.' <<< "$text" | sed 's/^BENCH //' | awk '{ k = $1 " " $2; $1 = ""; $2 = ""; sub(/^  /, ""); printf "%-32s %s\n", k, $0 }'
if [ -n "${AFFINE_BENCH_LOG:-}" ]; then
    echo
    grep -a '^BENCH-LOG ' <<< "$text" | sed 's/^BENCH-LOG /  /'
fi
