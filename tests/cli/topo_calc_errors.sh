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
expect_contains "bad list names the column" 'expected a number, a range, "all", or node:N, core:N, socket:N, die:N, l3:N, pu:N, numa:N at column 5' "$err"
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
# Ids are checked where they enter: an offline CPU of unknown node (-1) is in no node,
# and a node id of 10^9 is refused at once instead of sizing tables by it.
cat > "$tmp/offline.json" <<'JSON'
{"cpus": [{"id": 0, "online": true, "node": 0, "core": 0, "package": 0},
          {"id": 1, "online": false, "node": -1, "core": -1, "package": -1}],
 "nodes": [{"id": 0, "cpus": [0], "memory_total_bytes": 1073741824, "memory_free_bytes": 1073741824,
            "distances": {"0": 10}}]}
JSON
expect_status "calc all --nodes with an offline CPU of unknown node" 0 "$AFFINE" calc all --nodes --host "$tmp/offline.json"
expect_eq "only node 0" "0" "$out"
cat > "$tmp/huge.json" <<'JSON'
{"cpus": [{"id": 0, "online": true, "node": 1000000000, "core": 0, "package": 0}],
 "nodes": [{"id": 1000000000, "cpus": [0], "memory_total_bytes": 1073741824, "memory_free_bytes": 1073741824,
            "distances": {"1000000000": 10}}]}
JSON
expect_status "node id 10^9 is refused" 2 "$AFFINE" place --vcpus 1 --memory 1G --host "$tmp/huge.json"
expect_eq "node id 10^9 is named" "affine: host file $tmp/huge.json: node 1000000000: id out of range (ids are 0 to 1048575)" "$err"

# Location terms and the per-CPU table.
expect_status "calc core:1" 0 "$AFFINE" calc core:1 --host "$host"
expect_eq "core 1 is CPUs 2-3" "2-3" "$out"
expect_status "calc socket:1,^l3:2" 0 "$AFFINE" calc socket:1,^l3:2 --host "$host"
expect_eq "socket 1 without node 2's L3" "12-15" "$out"
expect_status "calc die:0 without dies" 2 "$AFFINE" calc die:0 --host "$host"
expect_contains "no dies said" "this host shows no dies" "$err"
expect_status "topo --cpus" 0 "$AFFINE" topo --cpus --host "$host"
expect_eq "topo --cpus header" "  cpu online node socket  die  core   l3" "$(head -n 1 <<<"$out")"
expect_eq "topo --cpus CPU 13" "   13    yes    3      1    -     6    3" "$(sed -n 15p <<<"$out")"
expect_status "topo --cpus --json" 0 "$AFFINE" topo --cpus --json --host "$host"
expect_contains "CPU 13 as JSON" '"cpu":13,' "$out"
expect_status "topo shows cores with SMT siblings" 0 "$AFFINE" topo --host "$host"
expect_contains "cores line" "cores   0: 0-1  1: 2-3" "$out"
expect_contains "SMT note" "(2 threads per core: SMT siblings)" "$out"
expect_contains "L3 line" "L3      0: 0-3  1: 4-7  2: 8-11  3: 12-15" "$out"

# Sizes: one rule for every input; GB is decimal in hwloc's description and in affine's.
expect_status "hwloc memory=64GB" 0 "$AFFINE" topo --json --host "hwloc:numa:1(memory=64GB) core:1 pu:1"
expect_contains "64GB is 64e9 bytes" '"memory_total_bytes":64000000000' "$out"
expect_status "synthetic mem=64GB" 0 "$AFFINE" topo --json --host "nodes=1,cores=1,mem=64GB"
expect_contains "64GB is 64e9 bytes in a spec too" '"memory_total_bytes":64000000000' "$out"
expect_status "4Gb is any case of 4GB" 0 "$AFFINE" topo --host "nodes=1,cores=1,mem=4Gb"
expect_status "4GiBs is refused" 2 "$AFFINE" topo --host "nodes=1,cores=1,mem=4GiBs"

expect_status "hwloc synthetic host" 0 "$AFFINE" topo --json --host "hwloc:pack:2 numa:1(memory=1GB) core:2 pu:1"
expect_contains "hwloc host has node 1" '"id":1' "$out"
finish
