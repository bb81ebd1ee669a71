#!/bin/bash
# System test: affine show/pin/bind/run/migrate/shield with the real binary in a
# real Linux kernel on 4 NUMA nodes (asymmetric distances, node 3 without CPUs).
# Usage: test-linux-numa4.sh AFFINE_BINARY [HELPERS_DIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
affine=$(readlink -f "$1")
helpers=$(readlink -f "${2:-$(dirname "$affine")/tests/helpers}")
# A busy TCG guest runs this many-check scenario in a few minutes.
: "${AFFINE_BOOT_TIMEOUT:=600}"
export AFFINE_BOOT_TIMEOUT
# shellcheck source=lib.sh
. "$here/lib.sh"
run_linux_scenario linux-numa4 numa4 "$here/guest/linux-numa4.sh" \
    --bin "$affine" --bin "$helpers/touch_memory" --bin "$helpers/thread_churn" \
    --bin "$helpers/many_threads" --bin "$helpers/run_as_uid" \
    --file "$here/guest/linux-common.sh:/lib/linux-common.sh"
