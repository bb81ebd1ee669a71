#!/bin/bash
# System test: the affine daemon's soft affinity with the real binary in a real
# Linux kernel on 2 nodes of 1 CPU each (a busy preferred CPU, an idle neighbour).
# Usage: test-linux-daemon.sh AFFINE_BINARY [HELPERS_DIR]. About 3 minutes on an idle
# 2-CPU machine (TCG); the timeout leaves room for a busy one.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
affine=$(readlink -f "$1")
helpers=$(readlink -f "${2:-$(dirname "$affine")/tests/helpers}")
: "${AFFINE_BOOT_TIMEOUT:=600}"
export AFFINE_BOOT_TIMEOUT
# shellcheck source=lib.sh
. "$here/lib.sh"
run_linux_scenario linux-daemon numa2x1 "$here/guest/linux-daemon.sh" \
    --bin "$affine" --bin "$helpers/touch_memory" --bin "$helpers/run_as_uid" --bin "$helpers/unix_request" \
    --bin "$helpers/many_threads" \
    --file "$here/guest/linux-common.sh:/lib/linux-common.sh" \
    --file "$here/guest/daemon-crash-loop.sh:/lib/daemon-crash-loop.sh"
