#!/bin/bash
# affine xen on the simulated host, and its one-line refusal without Xen.
# usage: xen_sim.sh AFFINE_BINARY
set -uo pipefail
affine=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
state=$dir/host.json
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
x() { "$affine" xen --host "sim:$state" "$@"; }

"$affine" xen sim-init "$state" --from nodes=2,cores=2,mem=1G --dom0-memory 256M > /dev/null || fail "sim-init"

# Soft affinity node 1 with hard all: effective masks and auto node affinity node 1.
out=$(x vcpu-pin 0 all all node:1) || fail "vcpu-pin all"
grep -q "domain 0 vCPU 3: hard 0-3 effective soft 2-3" <<< "$out" || fail "effective masks: $out"
grep -q "node affinity: 1 (auto)" <<< "$out" || fail "auto node affinity: $out"

# Empty effective soft: a warning, still done.
err=$(x vcpu-pin 0 1 0-1 2-3 2>&1 > /dev/null) || fail "disjoint soft refused"
grep -q "warning: domain 0 vCPU 1: soft affinity 2-3" <<< "$err" || fail "no warning: $err"

# `all` with one vCPU refusing: the others get their previous masks back.
before=$(x show 0 --json)
x sim-temporary-pin 0 2 on
err=$(x vcpu-pin 0 all 0 2>&1)
[ $? = 1 ] || fail "temporary pin not refused"
grep -q "(EBUSY)" <<< "$err" || fail "not EBUSY: $err"
grep -q "vCPUs 0-1 restored" <<< "$err" || fail "no restore reported: $err"
[ "$(x show 0 --json)" = "$before" ] || fail "masks not restored"
x vcpu-pin 0 2 0 --force > /dev/null || fail "--force refused"
x sim-temporary-pin 0 2 off

# Node affinity: explicit, then all -> auto.
x node-affinity 0 0 | grep -q "0 (explicit)" || fail "explicit"
x node-affinity 0 all | grep -q "(auto)" || fail "all -> auto"
x node-affinity 0 2 2> /dev/null; [ $? = 1 ] || fail "offline node not refused"
x node-affinity 0 64 2> /dev/null; [ $? = 2 ] || fail "node past the map not a usage error"
x vcpu-pin 0 0 9 2> /dev/null; [ $? = 2 ] || fail "CPU that does not exist not a usage error"
x vcpu-pin 0 0 - - 2> /dev/null; [ $? = 2 ] || fail "nothing to change not a usage error"

# A domain with node affinity node 1 gets its memory there.
dom=$(x sim-create-domain --vcpus 2 --memory 128M --node-affinity 1) || fail "sim-create-domain"
x numastat "$dom" --json | grep -q '"1":134217728' || fail "memory not on node 1"
x sim-destroy-domain "$dom" || fail "sim-destroy-domain"
x show "$dom" 2> /dev/null; [ $? = 1 ] || fail "destroyed domain still shown"

# Sim-only commands refuse the real host; without Xen, one line.
if [ ! -e /dev/xen/privcmd ]; then
    err=$("$affine" xen domains 2>&1)
    [ $? = 1 ] || fail "xen without Xen did not fail"
    [ "$(wc -l <<< "$err")" = 1 ] || fail "more than one line: $err"
    grep -q "needs dom0 of a Xen host" <<< "$err" || fail "unclear: $err"
fi
"$affine" --version | grep -q "^libxenctrl: " || fail "--version has no libxenctrl line"
# --version names the one libxenctrl this build loads (the release of its headers).
if [ -e /usr/include/xenctrl.h ] && pkg-config --exists xencontrol 2>/dev/null; then
    release=$(pkg-config --modversion xencontrol | cut -d. -f1,2)
    "$affine" --version | grep -q "libxenctrl.so.$release" || fail "--version does not name libxenctrl.so.$release"
fi

# Simulation commands on a real hypervisor: a usage error that says what they are.
err=$("$affine" xen sim-create-domain --vcpus 1 2>&1)
rc=$?
[ $rc = 2 ] || fail "sim-create-domain on a real host: exit $rc, not 2"
grep -q "is a simulation command" <<< "$err" || fail "sim-create-domain on a real host: $err"

[ "$failures" = 0 ] && echo "xen_sim: all checks passed"
exit $((failures > 0))
