#!/bin/bash
# System test of `affine xen`: one boot of a real Xen 4.17 under QEMU with 2 NUMA
# nodes; in dom0 the real affine binary runs the sequence of xen-sequence.sh
# (a test-only helper, xen_domain, creates the second domain and moves a CPU out of
# cpupool 0). The outputs come back as a blob; the same sequence then runs on the
# simulated host here, and compare-xen.py checks real Xen's results and the
# simulation against them field by field.
#
# usage: test-xen.sh AFFINE_BINARY   (the helper: $AFFINE_XEN_HELPER, default
#        <dir of the binary>/tests/xen_domain)
set -euo pipefail

affine=$(readlink -f "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=/dev/null
source "$here/lib.sh"
helper=$(readlink -f "${AFFINE_XEN_HELPER:-$(dirname "$affine")/tests/xen_domain}")
[ -x "$helper" ] || { echo "test-xen: no helper $helper (built when libxenctrl is installed)" >&2; exit 1; }
command -v python3 > /dev/null || { echo "test-xen: python3 is needed to compare the outputs" >&2; exit 1; }

work=$AFFINE_SYSTEM_WORK/xen
rm -rf "$work"
mkdir -p "$work"

# affine dlopens libxenctrl: put the library and what it needs into the guest.
xenctrl=$(ldconfig -p | awk '/libxenctrl\.so\.4\./ && !found { print $NF; found = 1 }')
[ -n "$xenctrl" ] || { echo "test-xen: libxenctrl.so.4.* not installed here" >&2; exit 1; }
libs=(--file "$(readlink -f "$xenctrl"):/lib/x86_64-linux-gnu/$(basename "$xenctrl")")
while read -r name _ path _; do
    [ -n "${path:-}" ] && [ -e "$path" ] && libs+=(--file "$(readlink -f "$path"):/lib/x86_64-linux-gnu/$name")
done < <(ldd "$xenctrl" | grep ' => /')

cat > "$work/scenario.sh" <<'SCENARIO'
. /lib/xen-sequence.sh
aff() { /bin/affine "$@"; }
seq_create() { /bin/xen_domain create "$1" "$2" ${3:+$(printf '%x' $((1 << $3)))}; }
seq_create_allocated() { /bin/xen_domain create-allocated "$1" "$2" ${3:+$(printf '%x' $((1 << $3)))}; }
seq_destroy() { /bin/xen_domain destroy "$1"; }
seq_pool_remove() { /bin/xen_domain pool-remove-cpu "$1"; }
seq_pool_add() { /bin/xen_domain pool-add-cpu "$1"; }

check_contains version-says-xen "$(/bin/affine --version)" "libxenctrl: libxenctrl.so.4."
run_xen_sequence /tmp/xen-out
for f in /tmp/xen-out/*.rc; do
    n=$(basename "$f" .rc)
    case $n in
    *refuse*) [ "$(cat "$f")" = 1 ] && pass "step-$n" || fail "step-$n" "exit $(cat "$f"): $(cat /tmp/xen-out/$n.err)" ;;
    *) [ "$(cat "$f")" = 0 ] && pass "step-$n" || fail "step-$n" "exit $(cat "$f"): $(cat /tmp/xen-out/$n.err)" ;;
    esac
done
# No xenstored in this dom0: a name cannot be read, a domid still works.
check_contains name-without-xenstore "$(/bin/affine xen show Domain-0 2>&1)" "domain names need xenstore"
check_cmd domid-without-xenstore /bin/affine xen show 0
check_contains refusal-one-line "$(cat /tmp/xen-out/13-refuse-offline-node.err)" "nodes 2 are not online"
(cd /tmp && tar cf xen-out.tar xen-out)
emit_blob xen-out /tmp/xen-out.tar
SCENARIO

# dom0 unpacks the initramfs into memory (dom0_mem=256M): the guest gets the
# binary without its debug information.
strip -o "$work/affine" "$affine"
run_xen_scenario xen "$work/scenario.sh" --bin "$work/affine" --bin "$helper" \
    --file "$here/xen-sequence.sh:/lib/xen-sequence.sh" "${libs[@]}"
log=$AFFINE_SYSTEM_WORK/xen.log
echo "step times in the guest (ms):"
tr -d '\r' < "$log" | grep -a '^STEP ' | sed 's/^/  /'

extract_blob "$log" xen-out "$work/real.tar"
mkdir -p "$work/real"
tar xf "$work/real.tar" -C "$work/real"

# The same sequence on the simulated host, made from the host real Xen reported.
state=$work/sim-state.json
dom0_vcpus=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["vcpus"]))' \
    "$work/real/xen-out/02-show-initial.out")
"$affine" xen sim-init "$state" --from "$work/real/xen-out/01-topo.out" --dom0-vcpus "$dom0_vcpus"
aff() { "$affine" "$@" --host "sim:$state"; }
seq_create() { "$affine" xen --host "sim:$state" sim-create-domain --vcpus "$1" --memory "${2}M" ${3:+--node-affinity "$3"}; }
seq_create_allocated() {
    "$affine" xen --host "sim:$state" sim-create-domain --vcpus "$1" --allocated "$1" --memory "${2}M" \
        ${3:+--node-affinity "$3"}
}
seq_destroy() { "$affine" xen --host "sim:$state" sim-destroy-domain "$1"; }
seq_pool_remove() { "$affine" xen --host "sim:$state" sim-pool-cpus "all,^$1"; }
seq_pool_add() { "$affine" xen --host "sim:$state" sim-pool-cpus all; }
# shellcheck source=xen-sequence.sh
source "$here/xen-sequence.sh"
echo "step times on the simulated host (ms):"
run_xen_sequence "$work/sim" | sed 's/^/  /'

python3 "$here/compare-xen.py" "$work/real/xen-out" "$work/sim"
