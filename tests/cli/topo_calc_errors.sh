#!/usr/bin/env bash
# Exit statuses and messages of topo and calc on described hosts.
source "$(dirname "$0")/lib.sh"
host=nodes=4,sockets=2,cores=2,smt=2,mem=1G

expect_status "calc node:1 as hex" 0 "$AFFINE" calc node:1 --to hex --host "$host"
expect_eq "node 1 is 0xf0" "0xf0" "$out"
expect_status "calc kernel form" 0 "$AFFINE" calc all --to kernel --host "$host"
expect_eq "kernel form of 16 CPUs" "ffff" "$out"
expect_status "calc joins sets" 0 "$AFFINE" calc 0 node:3 --host "$host"
expect_eq "joined list" "0,12-15" "$out"
expect_status "calc --nodes" 0 "$AFFINE" calc 3-5 --nodes --host "$host"
expect_eq "CPUs 3-5 touch nodes 0-1" "0-1" "$out"
expect_status "calc json" 0 "$AFFINE" calc 0-2 --to json --host "$host"
expect_eq "json array" "[0,1,2]" "$out"

expect_status "bad list exits 2" 2 "$AFFINE" calc 0-3,x --host "$host"
expect_contains "bad list names the column" 'expected a number, a range, "all", "node:N" or "nodes:A-B" at column 5' "$err"
expect_status "missing CPU exits 2" 2 "$AFFINE" calc 16 --host "$host"
expect_contains "missing CPU is named" "CPU 16 at column 1 does not exist (CPUs: 0-15)" "$err"
expect_status "bad --to exits 2" 2 "$AFFINE" calc 0 --to octal --host "$host"
expect_status "bad host spec exits 2" 2 "$AFFINE" topo --host nodes=3,sockets=2,cores=1
expect_status "missing host file exits 2" 2 "$AFFINE" topo --host ./no-such-host.json
expect_status "unknown command exits 2" 2 "$AFFINE" frobnicate
expect_status "no command exits 2" 2 "$AFFINE"
expect_status "help exits 0" 0 "$AFFINE" help
expect_contains "help lists topo" "topo" "$out"

# A host file is read back unchanged.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$AFFINE" topo --json --host "$host" > "$tmp/host.json"
expect_status "host file loads" 0 "$AFFINE" topo --json --host "$tmp/host.json"
expect_eq "host file round trip" "$(sed 's/"source":"[^"]*"/"source":""/' "$tmp/host.json")" \
    "$(sed 's/"source":"[^"]*"/"source":""/' <<<"$out")"
expect_status "hwloc synthetic host" 0 "$AFFINE" topo --json --host "hwloc:pack:2 numa:1(memory=1GB) core:2 pu:1"
expect_contains "hwloc host has node 1" '"id":1' "$out"
finish
