#!/bin/bash
# The daemon's placement rules with memory_tier, on this machine, with a private
# state directory, managing only a process this test starts (a copy of the memory
# toucher under a name of its own, which the rule names): the rule's tier choice and
# the workload's memory per kernel tier in `daemon status`, checked against
# numa_maps and the kernel's memory_tierN/nodelist. A bad memory_tier is refused
# with its line. ~5 s.
set -u
. "$(dirname "$0")/linux_lib.bash" "$@"

state=$(mktemp -d)
export AFFINE_STATE_DIR=$state/run   # never the host's /run/affine
daemon_pid=
stop_daemon() {
    if [ -n "$daemon_pid" ]; then kill -TERM "$daemon_pid" 2> /dev/null || true; wait "$daemon_pid" 2> /dev/null || true; fi
    daemon_pid=
}
trap 'stop_daemon; cleanup; rm -rf "$state"' EXIT

printf '[[rule]]\nname = "t"\ncomm = "x"\nmemory_tier = "fastest"\n' > "$state/bad.conf"
check_status daemon-bad-memory-tier 2 "$affine" daemon --config "$state/bad.conf"
check_has daemon-bad-memory-tier-line "$out" "bad.conf:4: memory_tier: unknown memory tier choice \"fastest\""

# A name no other process of this machine has: the rule names this one only.
name=aftier$$
name=${name:0:15}
cp "$helpers/touch_memory" "$state/$name"
conf=$state/daemon.conf
printf 'interval = "200ms"\n[[rule]]\nname = "tiered"\ncomm = "%s"\nmemory_tier = "top"\n' "$name" > "$conf"
"$affine" daemon --config "$conf" > "$state/daemon.log" 2>&1 &
daemon_pid=$!
wait_until daemon-socket 20 test -S "$AFFINE_STATE_DIR/daemon.sock" || exit 1

start_until touched "$state/$name" 32 120
placed() {
    "$affine" daemon status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
sys.exit(0 if any(p["pid"] == int(sys.argv[1]) and p["rule"] == "tiered" and p["nodes"] and p["memory_bytes_per_node"]
                  for p in s["placements"]) else 1)
' "$pid"
}
wait_until rule-placed-it 20 placed
status=$("$affine" daemon status --json)
entry=$(python3 -c '
import json, sys
s = json.load(sys.stdin)
for p in s["placements"]:
    if p["pid"] == int(sys.argv[1]):
        print(json.dumps(p))
' "$pid" <<< "$status")
check_has status-memory-tier "$entry" '"memory_tier": "top"'

# The memory per tier is the kernel's tiers over the workload's numa_maps.
expected=$(python3 - "$pid" "$entry" <<'PY'
import glob, json, re, sys
pid, entry = sys.argv[1], json.loads(sys.argv[2])
tier_of = {}
for path in glob.glob("/sys/devices/virtual/memory_tiering/memory_tier*/nodelist"):
    tier = int(re.search(r"memory_tier(\d+)", path).group(1))
    for part in open(path).read().strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        for node in range(int(lo), int(hi or lo) + 1):
            tier_of[node] = tier
per_tier = {}
for node, bytes_ in entry["memory_bytes_per_node"].items():
    if int(node) in tier_of:
        per_tier[str(tier_of[int(node)])] = per_tier.get(str(tier_of[int(node)]), 0) + bytes_
print(json.dumps(per_tier, sort_keys=True))
print(json.dumps(dict(sorted(entry["memory_bytes_per_tier"].items()))))
PY
)
check_eq status-memory-per-tier "$(sed -n 1p <<< "$expected")" "$(sed -n 2p <<< "$expected")"
if [ -d /sys/devices/virtual/memory_tiering ]; then
    # 32 MiB touched: at least that much on the tiers (numa_maps pages, with its stack and text).
    total=$(python3 -c 'import json,sys; print(sum(json.loads(sys.argv[1]).values()))' "$(sed -n 2p <<< "$expected")")
    [ "$total" -ge $((32 << 20)) ] && ok "status-tier-bytes-cover-the-touched-memory" ||
        bad status-tier-bytes-cover-the-touched-memory "$total bytes"
    text=$("$affine" daemon status)
    check_has status-text-tiers "$text" "memory per tier: memory_tier"
    check_has status-text-tier-choice "$text" "(memory_tier top: the fastest tier only)"
fi
# Its soft CPUs are the CPUs of its homes (never a CPU-less node: it has none).
nodes=$(python3 -c 'import json,sys; print(",".join(map(str, json.loads(sys.argv[1])["nodes"])))' "$entry")
for n in ${nodes//,/ }; do
    [ -n "$(cat /sys/devices/system/node/node"$n"/cpulist)" ] && ok "home-node-$n-has-cpus" || bad "home-node-$n-has-cpus" "node $n has none"
done

finish
