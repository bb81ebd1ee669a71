#!/usr/bin/env bash
# The affine daemon and numad's daemon side by side: Debian's numad and `affine
# daemon`, one after the other in the same 4-node TCG guest (768 MB a node: numad
# manages only processes of 300 MB and half a CPU or more), on the same workloads:
# two CPU-bound processes of 400 MB whose memory starts interleaved over the 4
# nodes. For each daemon: its CPU time per minute idle, while it places the
# workloads, and with 5,000 sleeping processes (from their second minute on); the
# time from the workloads' start to each one's mask on a subset of the nodes with
# >= 90% of its pages there; the share of its pages on its mask's nodes a minute
# later; the pages the kernel migrated meanwhile (/proc/vmstat pgmigrate_success,
# and how many of them NUMA balancing moved). The affine daemon runs its shipped
# configuration with the numad-like rule it ships commented out (300 MB resident
# and half a CPU, best-effort: numad's own threshold); numad its defaults. Prints
# a table; checks nothing.
#
# numad comes from Debian's package, downloaded here with `apt-get download numad`
# and unpacked, never installed on this machine (its package starts the daemon);
# it runs only inside the guest.
# Usage: bench/numad_daemon.sh [AFFINE] [HELPERS_DIR]   (the kit as for the system tests)
# Cost: one boot, about 15 minutes under TCG.
set -euo pipefail
boot_timeout=1500
# shellcheck source=lib/guest_bench.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/guest_bench.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download numad > /dev/null 2>&1 && dpkg-deb -x numad_*.deb numad) ||
    { echo "bench: cannot download Debian's numad package (apt-get download numad)" >&2; exit 1; }
run_linux_scenario bench-numad-daemon numa4big "$here/guest/numad-daemon.sh" \
    --bin "$affine" --bin "$helpers/touch_memory" --bin "$helpers/many_processes" \
    --bin "$work/numad/usr/bin/numad" \
    --file "$here/../tests/system/guest/linux-common.sh:/lib/linux-common.sh" > /dev/null ||
    { cat "$AFFINE_SYSTEM_WORK/bench-numad-daemon.log"; exit 1; }
log=$AFFINE_SYSTEM_WORK/bench-numad-daemon.log
echo "4-node TCG guest ($(topology_describe numa4big)), $(tr -d '\r' < "$log" | grep -a '^BENCH kernel' | sed 's/^BENCH kernel //')"
tr -d '\r' < "$log" | grep -a '^BENCH \(affine\|numad\) ' | sed 's/^BENCH //' | awk '
    { d = $1; k = $2; $1 = ""; $2 = ""; sub(/^  /, ""); v = $0
      if (k ~ /^reaction_s\./) { k = "reaction_s"; v = $1 }
      if (k ~ /^steady_locality\./) { k = "steady_locality"; v = $1 }
      if (!((k, d) in val)) { if (!(k in seen)) { seen[k] = 1; order[++n] = k }; val[k, d] = v }
      else val[k, d] = val[k, d] " / " v }
    END { printf "%-32s %-24s %-24s\n", "", "affine daemon", "numad"
          for (i = 1; i <= n; i++) printf "%-32s %-24s %-24s\n", order[i], val[order[i], "affine"], val[order[i], "numad"] }'
echo
tr -d '\r' < "$log" | grep -a '^BENCH \(affine\|numad\) \(reaction\|steady\)' | sed 's/^BENCH /  /'
