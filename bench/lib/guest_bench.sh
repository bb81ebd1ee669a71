# Sourced by the benchmarks that boot a QEMU guest, with the benchmark's own
# arguments: sets `here` (bench/), `affine` ($1, default build/affine) and
# `helpers` ($2, default build/tests/helpers), the boot time-out
# (AFFINE_BOOT_TIMEOUT, default `boot_timeout` seconds, else 900), and brings in
# the system tests' kit (tests/system/lib.sh: run_linux_scenario, the topologies).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
affine=$(readlink -f "${1:-$here/../build/affine}")
helpers=$(readlink -f "${2:-$here/../build/tests/helpers}")
: "${AFFINE_BOOT_TIMEOUT:=${boot_timeout:-900}}"
export AFFINE_BOOT_TIMEOUT
# shellcheck source=../../tests/system/lib.sh
. "$here/../tests/system/lib.sh"
