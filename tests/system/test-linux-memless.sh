#!/bin/bash
# System test: affine's Linux commands with the real binary in a real Linux kernel
# with a memory-less node (node 1) and an offline CPU (3).
# Usage: test-linux-memless.sh AFFINE_BINARY [HELPERS_DIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
affine=$(readlink -f "$1")
helpers=$(readlink -f "${2:-$(dirname "$affine")/tests/helpers}")
# A busy TCG guest runs this many-check scenario in a few minutes.
: "${AFFINE_BOOT_TIMEOUT:=600}"
export AFFINE_BOOT_TIMEOUT
# shellcheck source=lib.sh
. "$here/lib.sh"
run_linux_scenario linux-memless memless "$here/guest/linux-memless.sh" \
    --bin "$affine" --bin "$helpers/touch_memory" --bin "$helpers/many_threads" \
    --file "$here/guest/linux-common.sh:/lib/linux-common.sh"
