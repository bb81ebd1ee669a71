#!/bin/bash
# Benchmark: the affine daemon's soft affinity in a QEMU guest with 2 nodes of 1
# CPU each (the system test's kit): a CPU-bound job's share under contention and
# its share of time on its home node uncontended, with no affinity, hard and soft
# affinity; the time from contention to widening and from quiet to home; the
# daemon's CPU time per minute idle, with 5,000 unmanaged processes and with
# 1,000 to 10,000 managed idle threads, with and without a
# hog at their home. Prints figures. Takes about 12 minutes.
#
# Usage: bench/daemon.sh [AFFINE] [HELPERS_DIR]
set -euo pipefail
# shellcheck source=lib/guest_bench.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/guest_bench.sh"
run_linux_scenario bench-daemon numa2x1 "$here/guest/daemon.sh" \
    --bin "$affine" --bin "$helpers/many_threads" --bin "$helpers/many_processes" \
    --file "$here/../tests/system/guest/linux-common.sh:/lib/linux-common.sh" > /dev/null ||
    { cat "$AFFINE_SYSTEM_WORK/bench-daemon.log"; exit 1; }
tr -d '\r' < "$AFFINE_SYSTEM_WORK/bench-daemon.log" | grep -a '^BENCH ' | sed 's/^BENCH //' |
    awk '{ printf "%-45s %s\n", $1, $2 }'
