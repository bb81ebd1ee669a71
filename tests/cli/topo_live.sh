#!/usr/bin/env bash
# `affine topo --json` on this machine agrees with numactl -H and lscpu -p.
source "$(dirname "$0")/lib.sh"

expect_status "topo --json runs" 0 "$AFFINE" topo --json
json=$out

# Nodes, their CPUs and sizes as numactl prints them (sizes in MiB, rounded down).
ours=$(python3 -c '
import json, sys
t = json.loads(sys.argv[1])
for n in t["nodes"]:
    print("node", n["id"], "cpus:", " ".join(map(str, n["cpus"])) if n["cpus"] else "")
    print("node", n["id"], "size:", n["memory_total_bytes"] >> 20, "MB")
print("distances", " ".join(str(n["distances"][str(m["id"])]) for n in t["nodes"] for m in t["nodes"]))
' "$json")
theirs=$(numactl -H | awk '
    /^node [0-9]+ cpus:/ { sub(/ +$/, ""); print; next }
    /^node [0-9]+ size:/ { print }
    /^ *[0-9]+:/ { for (i = 2; i <= NF; i++) d = d (d == "" ? "" : " ") $i }
    END { print "distances", d }')
expect_eq "nodes, CPUs, sizes and distances agree with numactl -H" "$theirs" "$ours"

# CPU, core, socket, node per online CPU as lscpu -p prints them.
ours=$(python3 -c '
import json, sys
for c in json.loads(sys.argv[1])["cpus"]:
    if c["online"]: print(c["id"], c["core"], c["package"], c["node"])
' "$json")
theirs=$(lscpu -p=CPU,CORE,SOCKET,NODE | grep -v '^#' | tr ',' ' ' | sed 's/ $/ 0/')
expect_eq "CPU, core, socket and node agree with lscpu -p" "$theirs" "$ours"

allowed=$(grep Cpus_allowed_list /proc/self/status | awk '{print $2}')
ours=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["allowed_cpus"])' "$json")
expect_status "allowed CPUs resolve" 0 "$AFFINE" calc "$allowed" --to json
expect_eq "allowed CPUs are this process's Cpus_allowed_list" "$out" "$(tr -d ' ' <<<"$ours")"

expect_status "topo human view runs" 0 "$AFFINE" topo
expect_contains "human view has the distance table" "distances:" "$out"
finish
