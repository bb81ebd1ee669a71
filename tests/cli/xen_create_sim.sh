#!/bin/bash
# affine xen create on the simulated host (which stands in for xl create: the
# domain is built in the model with the masks of its configuration and every
# override): the plan, the xl command line, where the memory goes, a hard cpus=
# as a limit, a cpus_soft= left alone, concurrent creations, refusals; and domain
# names in the other xen commands.
# usage: xen_create_sim.sh AFFINE_BINARY
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
set +e
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
state=$dir/host.json
x() { "$AFFINE" xen --host "sim:$state" "$@"; }
cfg() { # NAME [LINES...]
    local n=$1
    shift
    printf 'name = "%s"\nmemory = 256\nvcpus = 1\n' "$n" > "$dir/$n.cfg"
    printf '%s\n' "$@" >> "$dir/$n.cfg"
}
# A domain's memory per node, nodes without any left out: "1:256M".
memory_of() {
    x numastat "$1" | awk 'NR == 3 {for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+:/ && $i !~ /:0B$/) printf "%s%s", s++ ? " " : "", $i; print ""}'
}

# 4 nodes x 1 CPU, 1G each; dom0: 4 unpinned vCPUs (load 1 per node), 512M striped.
"$AFFINE" xen sim-init "$state" --from nodes=4,cores=1,mem=1G --dom0-memory 512M > /dev/null
expect_status name-dom0 0 x show Domain-0
expect_contains name-dom0-is-0 "domain 0:" "$out"

cfg web1
expect_status dry-run 0 x create "$dir/web1.cfg" --dry-run
expect_contains dry-run-plan "nodes       0" "$out"
expect_contains dry-run-command "xl command: xl create $dir/web1.cfg 'cpus_soft=\"0\"'" "$out"
expect_contains dry-run-nothing "dry run: nothing created" "$out"
expect_status dry-run-no-domain 1 x show web1

expect_status create 0 x create "$dir/web1.cfg"
expect_contains create-read-back "created domain web1: domid 1" "$out"
expect_contains create-where-planned "memory is where planned: 256M of 256M on nodes 0" "$out"
expect_eq create-memory "0:256M" "$(memory_of web1)"
expect_status show-by-name 0 x show web1
expect_contains show-by-name-soft "    0  0-3          0" "$out"

# The next domain goes elsewhere: web1's vCPU is load on node 0.
cfg web2
expect_status create-second 0 x create "$dir/web2.cfg"
expect_eq create-second-memory "1:256M" "$(memory_of web2)"
expect_status duplicate-name 1 x create "$dir/web2.cfg"
expect_contains duplicate-name-says "domain 2 already has that name" "$err"

# Overrides as xl takes them; a hard cpus= is a limit (node 3 only), kept as given.
cfg web3
expect_status hard-limit 0 x create "$dir/web3.cfg" 'cpus="3"' memory=128
expect_contains hard-limit-command "xl create $dir/web3.cfg 'cpus=\"3\"' memory=128 'cpus_soft=\"3\"'" "$out"
expect_eq hard-limit-memory "3:128M" "$(memory_of web3)"
# best-effort-hard: hard affinity = the plan's CPUs, soft the same.
cfg web4
expect_status best-effort-hard 0 x create "$dir/web4.cfg" --policy best-effort-hard
expect_contains best-effort-hard-command "'cpus=\"2\"' 'cpus_soft=\"2\"'" "$out"
expect_contains best-effort-hard-masks "    0  2            2" "$(x show web4)"
# cpus_soft given: no placement, as libxl.
cfg web5 'cpus_soft = "1"'
expect_status soft-given 0 x create "$dir/web5.cfg"
expect_contains soft-given-says "cpus_soft is given: no placement" "$out"
expect_contains soft-given-command "xl command: xl create $dir/web5.cfg"$'\n' "$out"
expect_eq soft-given-memory "1:256M" "$(memory_of web5)"

# Domains by name in every command.
expect_status pin-by-name 0 x vcpu-pin web1 all all node:1
expect_status node-affinity-by-name 0 x node-affinity web1
expect_contains node-affinity-by-name-out "node affinity: 1 (auto)" "$out"
expect_status numastat-by-name 0 x numastat web1
expect_status place-by-name 0 x place web1 --dry-run
expect_status unknown-name 1 x show web9
expect_contains unknown-name-says "no domain is named \"web9\" (domains: Domain-0, web1, web2, web3, web4, web5)" "$err"
expect_status bad-domid 2 x show 99999
expect_status destroy-by-name 0 x sim-destroy-domain web5

# Two creations at once plan one after the other (the lock): different nodes.
cfg c1
cfg c2
x create "$dir/c1.cfg" > "$dir/c1.out" 2>&1 &
x create "$dir/c2.cfg" > "$dir/c2.out" 2>&1 &
wait
n1=$(awk '$1 == "nodes" {print $2}' "$dir/c1.out")
n2=$(awk '$1 == "nodes" {print $2}' "$dir/c2.out")
if [ -n "$n1" ] && [ -n "$n2" ] && [ "$n1" != "$n2" ]; then pass concurrent-different-nodes
else fail concurrent-different-nodes "c1 on '$n1', c2 on '$n2': $(cat "$dir/c1.out" "$dir/c2.out")"; fi

# Refusals: nothing is created.
cfg big
expect_status refused 1 x create "$dir/big.cfg" memory=8192
expect_contains refused-says "xen create big: not created: the host has not the free memory" "$err"
expect_status refused-no-domain 1 x show big
cfg hbig 'cpus = "node:1"'
expect_status refused-hard-limit 1 x create "$dir/hbig.cfg" memory=1000
expect_contains refused-hard-limit-says "not created" "$err"
printf 'name = "p"\ncpupool = "other"\n' > "$dir/p.cfg"
expect_status other-cpupool 2 x create "$dir/p.cfg"
printf 'name = "q"\nmemory = lots\n' > "$dir/q.cfg"
expect_status bad-syntax 2 x create "$dir/q.cfg"
expect_contains bad-syntax-says "$dir/q.cfg:2: expected a value" "$err"
expect_status bad-override 2 x create "$dir/web1.cfg" memory
expect_status prio-mem-only 2 x create "$dir/c1.cfg" --policy prio-mem-only name='"c9"'
expect_status no-file 1 x create "$dir/none.cfg"
expect_contains no-file-says "cannot read $dir/none.cfg" "$err"

# A domain larger than any node: preferred node first. 4 nodes of 1 CPU, free
# memory 600M, 1000M, 400M, 300M, asymmetric distances (row N: from node N).
node_json() { printf '{"id":%d,"cpus":[%d],"memory_total_bytes":1073741824,"memory_free_bytes":%d,"distances":{%s}}' \
    "$1" "$1" $(($2 << 20)) "$3"; }
cpu_json() { printf '{"id":%d,"online":true,"node":%d,"core":%d,"package":%d}' "$1" "$1" "$1" "$1"; }
{
    printf '{"cpus":[%s,%s,%s,%s],"nodes":[' "$(cpu_json 0)" "$(cpu_json 1)" "$(cpu_json 2)" "$(cpu_json 3)"
    node_json 0 600 '"0":10,"1":16,"2":31,"3":31'
    printf ,
    node_json 1 1000 '"0":31,"1":10,"2":16,"3":21'
    printf ,
    node_json 2 400 '"0":31,"1":21,"2":10,"3":16'
    printf ,
    node_json 3 300 '"0":31,"1":31,"2":21,"3":10'
    printf ']}\n'
} > "$dir/uneven.json"
state=$dir/uneven-host.json
"$AFFINE" xen sim-init "$state" --from "$dir/uneven.json" > /dev/null
printf 'name = "large"\nmemory = 1300\nvcpus = 1\n' > "$dir/large.cfg"
# Node 1 has the most free memory of the plan's nodes (1,2): it gives all but
# 4M, node 2 (16 from node 1; 21 the other way) the rest; nodes 0 and 3 nothing.
expect_status preferred-dry-run 0 x create "$dir/large.cfg" --dry-run
expect_contains preferred-dry-run-node "preferred node first: node 1, then the nearest nodes" "$out"
expect_contains preferred-dry-run-share-p "  node 1       996M  distance 10 (the vCPUs' node)" "$out"
expect_contains preferred-dry-run-share-n "  node 2       304M  distance 16" "$out"
expect_contains preferred-dry-run-mean "mean distance from node 1, weighted by memory: 11.40" "$out"
expect_contains preferred-dry-run-xl "1. xl create $dir/large.cfg 'cpus_soft=\"1\"' memory=996 maxmem=1300" "$out"
expect_contains preferred-dry-run-step "2. node affinity 2; target 1300M (+304M); wait until the guest has populated it" "$out"
expect_contains preferred-dry-run-last "3. node affinity 1-2 (the nodes used)" "$out"
expect_status preferred-dry-run-no-domain 1 x show large
expect_status preferred-create 0 x create "$dir/large.cfg"
expect_contains preferred-create-step "node 2: +304M, target 1300M populated" "$out"
expect_contains preferred-create-where "memory is where planned: 1.3G of 1.3G on nodes 1-2" "$out"
expect_eq preferred-create-memory "1:996M 2:304M" "$(memory_of large)"
expect_contains preferred-create-soft "    0  0-3          1" "$(x show large)"
expect_contains preferred-create-node-affinity "node affinity: 1-2 (explicit)" "$(x node-affinity large)"
# --striped: as planned before, over the plan's nodes at once.
printf 'name = "wide"\nmemory = 800\nvcpus = 1\n' > "$dir/wide.cfg"
expect_status striped-dry-run 0 x create "$dir/wide.cfg" --striped --dry-run
expect_contains striped-says "memory striped over nodes" "$out"
expect_no_line striped-no-steps "steps:" "$out"
expect_status bad-timeout 2 x create "$dir/wide.cfg" --populate-timeout 0

finish
