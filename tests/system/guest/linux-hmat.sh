# affine and tiered memory in a 2-node guest with ACPI HMAT (lib.sh's hmat
# topology): node 0 has the CPUs (10 ns, 10 GB/s), node 1 none (40 ns, 2 GB/s,
# behind a 16M memory-side cache). Runs on Debian 12's 6.1 kernel (one memory
# tier, no weighted interleave) and on the 6.12 kernel of bookworm-backports
# (node 1 in a lower tier, weighted interleave). Sourced by the guest's /init.
. /lib/linux-common.sh

kernel=$(uname -r)
case $kernel in 6.1.*) newer=0 ;; *) newer=1 ;; esac
echo "AFFINE-INFO kernel $kernel"
nodes=/sys/devices/system/node

# --- topo --json holds exactly what sysfs shows, per node and access class
check_status topo-json 0 affine topo --json
json=$(echo "$out" | tr -d ' \n')
for n in 0 1; do
    for c in 0 1; do
        d=$nodes/node$n/access$c/initiators
        want="{\"class\":$c,\"initiators\":[0],\"read_bandwidth_mbps\":$(cat $d/read_bandwidth),"
        want="$want\"write_bandwidth_mbps\":$(cat $d/write_bandwidth),\"read_latency_ns\":$(cat $d/read_latency),"
        want="$want\"write_latency_ns\":$(cat $d/write_latency)}"
        check_contains "topo-access-node$n-class$c" "$json" "$want"
    done
done
# What QEMU was given, as Linux shows it: 10G/2G as MB/s, 10/40 ns.
check_contains topo-node0-figures "$json" '"read_bandwidth_mbps":10240,"write_bandwidth_mbps":10240,"read_latency_ns":10,'
check_contains topo-node1-figures "$json" '"read_bandwidth_mbps":2048,"write_bandwidth_mbps":2048,"read_latency_ns":40,'
c=$nodes/node1/memory_side_cache/index1
check_eq cache-indexing-direct 0 "$(cat $c/indexing)"
check_eq cache-policy-write-back 0 "$(cat $c/write_policy)"
check_contains topo-cache "$json" "\"memory_side_caches\":[{\"level\":1,\"size_bytes\":$(cat $c/size),\"line_bytes\":$(cat $c/line_size),\"indexing\":\"direct-mapped\",\"write_policy\":\"write-back\"}]"
check_eq cache-size-16M 16777216 "$(cat $c/size)"
check_contains topo-node0-no-cache "$json" '"memory_side_caches":[],"has_cpus":true'

# --- the tiers the kernel made, by their directory ids
tiers=$(ls -d /sys/devices/virtual/memory_tiering/memory_tier* | sed 's/.*memory_tier//' | sort -n)
echo "AFFINE-INFO memory tiers: $(for t in $tiers; do printf '%s=%s ' "$t" "$(cat /sys/devices/virtual/memory_tiering/memory_tier$t/nodelist)"; done)"
for t in $tiers; do
    list=$(cat /sys/devices/virtual/memory_tiering/memory_tier$t/nodelist)
    for n in 0 1; do
        if in_set "$n" "$list"; then
            # The tier sits before the node's access classes (its bandwidth tells the nodes apart).
            bw=$(cat $nodes/node$n/access0/initiators/read_bandwidth)
            check_contains "topo-node$n-in-tier$t" "$json" "\"memory_tier\":$t,\"access\":[{\"class\":0,\"initiators\":[0],\"read_bandwidth_mbps\":$bw,"
        fi
    done
done
if [ "$newer" = 1 ]; then
    check_eq tiers-two 2 "$(echo "$tiers" | wc -w)"
    check_contains topo-text-tiers "$(affine topo)" "memory_tier4: nodes 0  |  memory_tier90: nodes 1"
else
    check_eq tiers-one 1 "$(echo "$tiers" | wc -w)"
    check_contains topo-text-tiers "$(affine topo)" "memory tiers (fastest first): memory_tier4: nodes 0-1"
fi
check_contains topo-text-access "$(affine topo)" "memory access (HMAT"

# --- place never makes the CPU-less node a home; its memory is node 0's overflow
for policy in best-effort prio-mem-only best-effort-hard; do
    check_status "place-$policy" 0 affine place --vcpus 1 --memory 64M --policy "$policy" --json
    check_contains "place-$policy-home" "$(echo "$out" | tr -d ' \n')" '"nodes":[0],'
done
free0=$(awk '/MemFree/{print $4}' $nodes/node0/meminfo)
big=$(( (free0 + 65536) / 1024 ))M
check_status place-overflow 0 affine place --vcpus 1 --memory "$big" --json
p=$(echo "$out" | tr -d ' \n')
check_contains place-overflow-home "$p" '"nodes":[0],'
check_contains place-overflow-node1 "$p" '"memory_bytes_per_node":{"0":'
check_contains place-overflow-on-node1 "$p" ',"1":'
if [ "$newer" = 1 ]; then
    check_contains place-overflow-tiers "$p" '"memory_bytes_per_tier":{"4":'
    check_contains place-overflow-tier90 "$p" ',"90":'
    check_status place-top-only-refused 1 affine place --vcpus 1 --memory "$big" --memory-tier top
    check_contains place-top-only-says "$out" "fastest memory tier (nodes 0)"
fi

# --- the daemon's placement rules plan with the tiered planner: the CPU-less node
# is never a home; where node 1 is a lower tier (6.12), memory_tier "any" keeps
# pages on it (node 0's overflow) as home and "top" moves them to node 0; where
# both nodes are one tier (6.1), node 1 is only a farther node: "any" moves them
mkdir -p /run
rule_daemon() {
    printf 'interval = "250ms"\n[[rule]]\nname = "tiered"\ncomm = "touch_memory"\nmemory_tier = "%s"\n' "$1" > /tmp/tiers.conf
    affine daemon --config /tmp/tiers.conf > /tmp/daemon-$1.log 2>&1 &
    daemon=$!
    _i=0
    until affine daemon status --json 2> /dev/null | tr -d ' \n' | grep -q "\"pid\":$toucher,\"command\":\"touch_memory\",\"rule\":\"tiered\",\"nodes\":\[0\]"; do
        _i=$((_i + 1))
        if [ "$_i" -ge 200 ]; then fail "daemon-$1-placed" "$(affine daemon status 2>&1; cat /tmp/daemon-$1.log)"; break; fi
        sleep 0.1
    done
}
start_touch 32 --nodes 1
on1=$(mapping_pages_on "$toucher" 1)
rule_daemon any
st=$(affine daemon status --json | tr -d ' \n')
check_contains daemon-any-home-node0 "$st" '"nodes":[0],'
check_contains daemon-any-tier "$st" '"memory_tier":"any"'
if [ "$newer" = 1 ]; then
    check_contains daemon-any-memory-nodes "$st" '"memory_nodes":[0,1]'
    check_contains daemon-any-per-tier "$st" ',"90":'
    sleep 2   # eight intervals: nothing moves
    check_eq daemon-any-pages-stay "$on1" "$(mapping_pages_on "$toucher" 1)"
    if grep -q "move-memory pid $toucher" /tmp/daemon-any.log; then fail daemon-any-no-move "$(cat /tmp/daemon-any.log)"; else pass daemon-any-no-move; fi
else
    check_contains daemon-any-memory-nodes "$st" '"memory_nodes":[0]'
    _i=0
    while [ "$(mapping_pages_on "$toucher" 1)" -gt $((on1 / 10)) ] && [ "$_i" -lt 150 ]; do _i=$((_i + 1)); sleep 0.2; done
    check_pages daemon-any-one-tier-moved-to-node0 "$toucher" 0 $((on1 * 9 / 10))
    check_contains daemon-any-one-tier-logged "$(cat /tmp/daemon-any.log)" "move-memory pid $toucher"
fi
kill -TERM "$daemon"; wait "$daemon"
if [ "$newer" = 1 ]; then
    rule_daemon top
    st=$(affine daemon status --json | tr -d ' \n')
    check_contains daemon-top-home-node0 "$st" '"nodes":[0],'
    check_contains daemon-top-memory-nodes "$st" '"memory_nodes":[0]'
    _i=0
    while [ "$(mapping_pages_on "$toucher" 1)" -gt $((on1 / 10)) ] && [ "$_i" -lt 150 ]; do _i=$((_i + 1)); sleep 0.2; done
    check_pages daemon-top-pages-moved-to-node0 "$toucher" 0 $((on1 * 9 / 10))
    check_contains daemon-top-logged "$(cat /tmp/daemon-top.log)" "move-memory pid $toucher"
    kill -TERM "$daemon"; wait "$daemon"
fi
kill "$toucher"

# --- weighted interleave (base pages: a transparent huge page would be one
# interleave step of 512 pages, too coarse for 2 % over 64 MiB)
[ -w /sys/kernel/mm/transparent_hugepage/enabled ] && echo never > /sys/kernel/mm/transparent_hugepage/enabled
if [ "$newer" = 1 ]; then
    check_status weights-show 0 affine weights --json
    check_contains weights-show-json "$out" '"weights":{"0":1,"1":1}'
    check_status weights-from-hmat 0 affine weights --from-hmat
    w0=$(cat /sys/kernel/mm/mempolicy/weighted_interleave/node0)
    w1=$(cat /sys/kernel/mm/mempolicy/weighted_interleave/node1)
    # 10240:2048 MB/s = 5:1
    check_eq weights-node0-from-hmat 5 "$w0"
    check_eq weights-node1-from-hmat 1 "$w1"
    start_touch 64 --mem-policy weighted-interleave --nodes 0-1
    check_contains wi-policy "$(big_mapping "$toucher")" "weighted interleave:0-1"
    p0=$(mapping_pages_on "$toucher" 0)
    p1=$(mapping_pages_on "$toucher" 1)
    echo "AFFINE-INFO weighted interleave 5:1 over 64 MiB: node 0 $p0 pages, node 1 $p1 pages"
    # Within 2 % of the weights' ratio.
    if awk -v a="$p0" -v b="$p1" -v w0="$w0" -v w1="$w1" \
        'BEGIN { r = (b > 0 ? a / b : 0); want = w0 / w1; d = (r - want) / want; exit !(b > 0 && d < 0.02 && d > -0.02) }'; then
        pass wi-pages-follow-weights
    else
        fail wi-pages-follow-weights "node 0 $p0 pages, node 1 $p1 pages; weights $w0:$w1"
    fi
    check_status wi-show 0 affine show "$toucher"
    check_contains wi-show-policy "$out" "weighted interleave:0-1"
    check_contains wi-show-share "$out" "node 1 "
    check_contains wi-show-weight "$out" "(weight 1: 16.7%)"
    kill "$toucher"
    check_status weights-by-hand 0 affine weights 0:3,1:1 --json
    check_contains weights-by-hand-json "$out" '"weights":{"0":3,"1":1}'
    check_eq weights-by-hand-sysfs 3 "$(cat /sys/kernel/mm/mempolicy/weighted_interleave/node0)"
    check_status weights-bad-node 2 affine weights 7:1
    check_status weights-bad-weight 2 affine weights 0:0
else
    check_status wi-refused 1 affine run --mem-policy weighted-interleave --nodes 0-1 -- true
    check_contains wi-refused-says "$out" "needs MPOL_WEIGHTED_INTERLEAVE, which kernel $kernel does not have (Linux 6.9+)"
    check_status weights-absent 1 affine weights
    check_contains weights-absent-says "$out" "has no weighted interleave"
fi
