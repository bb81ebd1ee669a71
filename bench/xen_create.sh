#!/bin/bash
# Benchmark: NUMA placement of new Xen domains, libxl's (plain `xl create`)
# against `affine xen create`, on a real Xen 4.17 with its toolstack under QEMU:
# 4 nodes of 1 pCPU with unequal memory (1280M, 512M, 768M, 512M; dom0 takes
# 512M). The same sequence of PV domains is created once by each (one with a
# hard cpus="0", one larger than any node's free memory), then per domain: the
# nodes its memory spans, the share of its memory on the nodes its vCPUs prefer
# (soft ∩ hard), and per node: free memory and vCPUs preferring it. Prints
# tables (figures, not a timed test). Then a domain larger than any node alone
# three ways: plain xl create, affine's node-set plan striped, and preferred
# node first. About 6 minutes under TCG.
#
# usage: bench/xen_create.sh [AFFINE]   (default build/affine; the kit from
#        tests/system/fetch-kit.sh in build/kit)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
affine=$(readlink -f "${1:-$here/../build/affine}")
# shellcheck source=/dev/null
source "$here/../tests/system/lib.sh"
work=$AFFINE_SYSTEM_WORK/bench-xen-create
rm -rf "$work"
mkdir -p "$work"
strip -o "$work/affine" "$affine"
make_guest_ramdisk "$work/guest-initrd.gz"
make_initramfs "$work/dom0.cpio.gz" "$here/xen_create/dom0.sh" --toolstack --bin "$work/affine" \
    --file "$AFFINE_KIT_DIR/guest-vmlinux.gz:/guest/vmlinux.gz" --file "$work/guest-initrd.gz:/guest/initrd.gz"
log=$work/console.log
AFFINE_XEN_BOOT_TIMEOUT=1500 AFFINE_XEN_LAYOUT=numa4u boot_xen "$work/dom0.cpio.gz" "$log" || true
check_results "$log" bench-xen-create > /dev/null || { cat "$log"; exit 1; }
text=$(tr -d '\r' < "$log")

echo "free memory per node (MiB) before: $(grep -a '^BENCH-START' <<< "$text" | cut -d' ' -f3-)"
echo
echo "| placer | domain | vCPUs | MiB | hard | soft | preferred nodes | nodes spanned | memory on preferred nodes | memory per node |"
echo "|---|---|---:|---:|---|---|---|---:|---:|---|"
grep -a '^BENCH-DOMAIN' <<< "$text" | while read -r _ placer name vcpus mib hard soft pref spanned share mem; do
    [ "$placer" = affine ] && placer="affine xen create" || placer="xl create (libxl)"
    echo "| $placer | $name | $vcpus | $mib | $hard | $soft | $pref | $spanned | $share% | $mem |"
done
echo
echo "| placer | node | free MiB after | vCPUs preferring it |"
echo "|---|---:|---:|---:|"
grep -a '^BENCH-NODE' <<< "$text" | while read -r _ placer node free vcpus; do
    [ "$placer" = affine ] && placer="affine xen create" || placer="xl create (libxl)"
    echo "| $placer | $node | $free | $vcpus |"
done
echo
grep -a '^BENCH-DOMAIN' <<< "$text" | awk '
    { n[$2]++; if ($9 > 1) multi[$2]++; share[$2] += $10 }
    END { for (p in n) printf "%s: %d domains, %d spanning more than one node, mean share on preferred nodes %.0f%%\n",
                             p == "xl" ? "xl create (libxl)" : "affine xen create", n[p], multi[p], share[p] / n[p] }'
grep -a '^BENCH-NODE' <<< "$text" | awk '
    { f = $4; v = $5; if (!($2 in maxv) || v > maxv[$2]) maxv[$2] = v; if (!($2 in minv) || v < minv[$2]) minv[$2] = v
      if (!($2 in minf) || f < minf[$2]) minf[$2] = f; if (!($2 in maxf) || f > maxf[$2]) maxf[$2] = f }
    END { for (p in maxv) printf "%s: vCPUs per node %.2f to %.2f, free memory per node %d to %d MiB\n",
                                p == "xl" ? "xl create (libxl)" : "affine xen create", minv[p], maxv[p], minf[p], maxf[p] }'
echo
echo "A domain larger than any node, alone on the host:"
echo
echo "| way | MiB | seconds until all its memory is in | vCPU's nodes | memory on them | mean distance from them | memory per node |"
echo "|---|---:|---:|---|---:|---:|---|"
grep -a '^BENCH-LARGE' <<< "$text" | while read -r _ way rc secs mib pref share dist mem; do
    case $way in
    xl) way="xl create (libxl)" ;;
    striped) way="affine xen create --striped" ;;
    *) way="affine xen create (preferred node first)" ;;
    esac
    [ "$rc" = rc=0 ] || way="$way ($rc)"
    echo "| $way | $mib | $secs | $pref | $share% | $dist | $mem |"
done
grep -a '^BENCH-CREATE' <<< "$text" | awk '$4 != "rc=0" {print "failed: " $0}'
