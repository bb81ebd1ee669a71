#!/bin/bash
# System test: the affine daemon's placement rules with the real binary in a real
# Linux kernel on 4 NUMA nodes (asymmetric distances, node 3 without CPUs): a
# workload a rule names gets the plan's CPUs and its pages move to the plan's node;
# others are untouched; numad -w asks the daemon.
# Usage: test-linux-placement.sh AFFINE_BINARY [HELPERS_DIR]. About a minute on an
# idle 2-CPU machine (TCG).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
affine=$(readlink -f "$1")
helpers=$(readlink -f "${2:-$(dirname "$affine")/tests/helpers}")
: "${AFFINE_BOOT_TIMEOUT:=600}"
export AFFINE_BOOT_TIMEOUT
# shellcheck source=lib.sh
. "$here/lib.sh"
run_linux_scenario linux-placement numa4 "$here/guest/linux-placement.sh" \
    --bin "$affine" --bin "$helpers/touch_memory" \
    --file "$here/guest/linux-common.sh:/lib/linux-common.sh"
