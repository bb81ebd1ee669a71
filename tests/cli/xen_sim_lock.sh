#!/usr/bin/env bash
# Commands on one simulated Xen host take turns (the state file's lock): parallel
# creates get distinct domids and none is lost; dom0 cannot be destroyed.
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
state=$tmp/sim.json
"$AFFINE" xen sim-init "$state" --from nodes=2,cores=2,mem=1G --dom0-vcpus 2 > /dev/null

for i in $(seq 8); do
    "$AFFINE" xen --host "sim:$state" sim-create-domain --vcpus 1 > "$tmp/domid.$i" &
done
wait
expect_eq "8 parallel creates got 8 domids" 8 "$(cat "$tmp"/domid.* | sort -u | wc -l)"
expect_status "state after the parallel creates" 0 "$AFFINE" xen --host "sim:$state" domains --json
expect_eq "9 domains (dom0 and 8)" 9 "$(grep -o '"domid"' <<<"$out" | wc -l)"
expect_status "the state file is private" 0 stat -c %a "$state"
expect_eq "mode 0600" 600 "$out"
expect_status "dom0 cannot be destroyed" 1 "$AFFINE" xen --host "sim:$state" sim-destroy-domain 0
expect_contains "dom0 refusal says why" "domain 0 is the control domain" "$err"
finish
