#!/bin/bash
# System test: tiered memory (ACPI HMAT, memory tiers, weighted interleave) with the
# real binary in a 2-node guest whose node 1 is CPU-less slower memory, booted once
# with Debian 12's 6.1 kernel and once with the 6.12 kernel of bookworm-backports.
# Usage: test-linux-hmat.sh AFFINE_BINARY [HELPERS_DIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
affine=$(readlink -f "$1")
helpers=$(readlink -f "${2:-$(dirname "$affine")/tests/helpers}")
# shellcheck source=lib.sh
. "$here/lib.sh"
status=0
for kernel in "" backports; do
    AFFINE_KERNEL=$kernel run_linux_scenario "linux-hmat${kernel:+-$kernel}" hmat "$here/guest/linux-hmat.sh" \
        --bin "$affine" --bin "$helpers/touch_memory" \
        --file "$here/guest/linux-common.sh:/lib/linux-common.sh" || status=1
done
exit "$status"
