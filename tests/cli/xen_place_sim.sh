#!/bin/bash
# affine xen place on the simulated host: the masks it sets are read back with
# `xen show`, node affinity follows in auto mode, --follow-memory, other domains'
# load, policies, dry run, rollback and refusals.
# usage: xen_place_sim.sh AFFINE_BINARY
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
set +e
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
state=$dir/host.json
x() { "$AFFINE" xen --host "sim:$state" "$@"; }
# jf EXPRESSION JSON: a Python expression on the JSON document as j.
jf() { python3 -c "import json,sys; j=json.loads(sys.argv[2]); print($1)" "$1" "$2"; }
# The stored and effective masks of every vCPU of a domain, one line.
masks() {
    python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(";".join(
        "%d:h%s:s%s:e%s" % (v["id"], v["hard"], v["soft"], v["effective_soft"]) for v in j["vcpus"]).replace(" ", ""))' \
        "$(x show "$1" --json)"
}
node_affinity() { jf '"%s %s" % (j["node_affinity"], j["node_affinity_auto"])' "$(x show "$1" --json)" | tr -d ' '; }

# 2 nodes x 2 CPUs, 1G each; dom0: 4 unpinned vCPUs (load 2 + 2), 256M spread.
"$AFFINE" xen sim-init "$state" --from nodes=2,cores=2,mem=1G --dom0-memory 256M > /dev/null
# A domain with 2 vCPUs whose 128M were placed on node 1 (explicit node affinity).
dom=$(x sim-create-domain --vcpus 2 --allocated 2 --memory 128M --node-affinity 1)

# Load and free memory tie: node 0 (lowest id). Soft affinity to node 0's CPUs on
# every vCPU, hard all; the explicit node affinity goes back to auto and follows.
expect_status place-best-effort 0 x place "$dom"
expect_contains place-prints-plan "nodes       0" "$out"
expect_contains place-prints-effective "domain $dom vCPU 1: hard 0-3 effective soft 0-1" "$out"
expect_contains place-prints-node-affinity "node affinity: 0 (auto)" "$out"
expect_contains place-warns-memory "memory already allocated does not move in Xen" "$err"
expect_contains place-warning-names-nodes "only 0B of its 128M memory is on the plan's nodes 0" "$err"
expect_eq place-masks-read-back "0:h[0,1,2,3]:s[0,1]:e[0,1];1:h[0,1,2,3]:s[0,1]:e[0,1]" "$(masks "$dom")"
expect_eq place-node-affinity-follows "[0]True" "$(node_affinity "$dom")"

# --follow-memory: the node holding the memory wins; no warning.
expect_status follow-memory 0 x place "$dom" --follow-memory --json
expect_eq follow-memory-plan "[1]" "$(jf 'j["plan"]["nodes"]' "$out" | tr -d ' ')"
expect_eq follow-memory-applied "[[0,1,2,3],[2,3]]" \
    "$(jf '[j["applied"][0]["effective_hard"], j["applied"][0]["effective_soft"]]' "$out" | tr -d ' ')"
expect_eq follow-memory-json-memory "{'0':0,'1':134217728}" "$(jf 'j["memory_bytes_per_node"]' "$out" | tr -d ' ')"
expect_eq follow-memory-no-warning "" "$err"
expect_eq follow-memory-masks "0:h[0,1,2,3]:s[2,3]:e[2,3];1:h[0,1,2,3]:s[2,3]:e[2,3]" "$(masks "$dom")"
expect_eq follow-memory-node-affinity "[1]True" "$(node_affinity "$dom")"

# best-effort-hard: hard affinity to the plan's CPUs, soft all.
expect_status best-effort-hard 0 x place "$dom" --policy best-effort-hard --follow-memory
expect_eq best-effort-hard-masks "0:h[2,3]:s[0,1,2,3]:e[2,3];1:h[2,3]:s[0,1,2,3]:e[2,3]" "$(masks "$dom")"
expect_eq best-effort-hard-node-affinity "[1]True" "$(node_affinity "$dom")"

# prio-mem-only: explicit node affinity, vCPU masks untouched.
before=$(masks "$dom")
expect_status prio-mem-only 0 x place "$dom" --policy prio-mem-only
expect_eq prio-mem-only-masks-kept "$before" "$(masks "$dom")"
expect_eq prio-mem-only-explicit "[0]False" "$(node_affinity "$dom")"

# any: nothing to apply.
expect_status any 0 x place "$dom" --policy any
expect_contains any-nothing "nothing to apply" "$out"
expect_eq any-masks-kept "$before" "$(masks "$dom")"
x vcpu-pin "$dom" all all all > /dev/null
x node-affinity "$dom" all > /dev/null

# Other domains' load steers the choice: a second domain, memory spread 64M + 64M.
dom2=$(x sim-create-domain --vcpus 2 --allocated 2 --memory 128M)
x vcpu-pin 0 all all node:0 > /dev/null  # dom0's 4 vCPUs now load node 0
expect_status load-node0-busy 0 x place "$dom2" --dry-run --json
expect_eq load-node0-busy-plan "[1]" "$(jf 'j["plan"]["nodes"]' "$out" | tr -d ' ')"
x vcpu-pin 0 all all node:1 > /dev/null
expect_status load-node1-busy 0 x place "$dom2" --dry-run --json
expect_eq load-node1-busy-plan "[0]" "$(jf 'j["plan"]["nodes"]' "$out" | tr -d ' ')"
expect_eq dry-run-applies-nothing "[]" "$(jf 'j["applied"]' "$out")"
expect_eq dry-run-masks-kept "0:h[0,1,2,3]:s[0,1,2,3]:e[0,1,2,3];1:h[0,1,2,3]:s[0,1,2,3]:e[0,1,2,3]" \
    "$(masks "$dom2")"

# --exclude: reserved CPUs are never chosen and kept out of hard affinity.
expect_status exclude 0 x place "$dom2" --exclude 0
expect_eq exclude-masks "0:h[1,2,3]:s[2,3]:e[2,3];1:h[1,2,3]:s[2,3]:e[2,3]" "$(masks "$dom2")"

# A vCPU refusing (temporarily pinned): the vCPUs changed before it get their
# previous masks back, and the command says so.
before=$(x show "$dom2" --json)
x sim-temporary-pin "$dom2" 1 on
expect_status rollback 1 x place "$dom2" --follow-memory
expect_contains rollback-ebusy "(EBUSY)" "$err"
expect_contains rollback-restored "vCPUs 0 restored to their previous masks" "$err"
expect_eq rollback-state "$before" "$(x show "$dom2" --json)"
x sim-temporary-pin "$dom2" 1 off

# Refusals.
expect_status no-such-domain 1 x place 42
expect_contains no-such-domain-message "domain 42 does not exist" "$err"
expect_status bad-policy 2 x place "$dom" --policy fastest
expect_contains bad-policy-message "unknown placement policy \"fastest\"" "$err"
expect_status bad-exclude 2 x place "$dom" --exclude 7
expect_contains bad-exclude-message "--exclude" "$err"
expect_status unknown-name 1 x place dom1
expect_contains unknown-name-says "no domain is named \"dom1\"" "$err"
expect_status bad-domid 2 x place 40000
empty=$(x sim-create-domain --vcpus 2 --memory 64M)
expect_status no-vcpus 1 x place "$empty"
expect_contains no-vcpus-message "no allocated vCPU" "$err"
# Every CPU reserved: nothing can be planned (usage error from the planner).
expect_status exclude-all 2 x place "$dom" --exclude all

finish
