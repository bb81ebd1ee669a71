#!/usr/bin/env bash
# affine place on synthetic hosts: plans, JSON contract, exit codes and errors.
set -u
affine=$1
fail=0
check() {  # check NAME EXPECTED_STATUS COMMAND...
    local name=$1 want=$2
    shift 2
    out=$("$@" 2>&1)
    local got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL $name: exit $got, expected $want: $out"
        fail=1
    fi
}
contains() {  # contains NAME TEXT (in $out)
    case "$out" in
    *"$2"*) ;;
    *) echo "FAIL $1: no \"$2\" in: $out"; fail=1 ;;
    esac
}
json_field() {  # json_field EXPRESSION: evaluates a Python expression on the JSON in $out as j
    python3 -c "import json,sys; j=json.loads(sys.argv[1]); print($1)" "$out"
}

host=nodes=4,sockets=2,cores=4,smt=2,mem=4G

check one-node 0 "$affine" place --vcpus 4 --memory 2G --host "$host" --json
[ "$(json_field 'j["nodes"]')" = "[0]" ] || { echo "FAIL one-node: nodes $(json_field 'j["nodes"]')"; fail=1; }
[ "$(json_field 'j["fits"]')" = "True" ] || { echo "FAIL one-node: fits"; fail=1; }
[ "$(json_field 'j["affinity"]')" = "soft" ] || { echo "FAIL one-node: affinity"; fail=1; }
[ "$(json_field 'j["cpus"]')" = "[0, 1, 2, 3, 4, 5, 6, 7]" ] || { echo "FAIL one-node: cpus"; fail=1; }
[ "$(json_field 'j["memory_bytes_per_node"]')" = "{'0': 2147483648}" ] || { echo "FAIL one-node: memory"; fail=1; }

# 6G needs two nodes: the pair on one socket (distance 16), not across (21).
check two-nodes 0 "$affine" place --vcpus 2 --memory 6G --host "$host" --json
[ "$(json_field 'j["nodes"]')" = "[0, 1]" ] || { echo "FAIL two-nodes: $(json_field 'j["nodes"]')"; fail=1; }
[ "$(json_field 'sum(j["memory_bytes_per_node"].values())')" = "6442450944" ] || { echo "FAIL two-nodes: memory"; fail=1; }
[ "$(json_field 'j["score"]["worst_distance"]')" = "16" ] || { echo "FAIL two-nodes: distance"; fail=1; }

check human 0 "$affine" place --vcpus 2 --memory 6G --host "$host"
contains human "nodes       0-1"
contains human "runners-up:"
contains human "no single node fits"

check hard 0 "$affine" place --vcpus 2 --memory 1G --policy best-effort-hard --host "$host" --json
[ "$(json_field 'j["affinity"]')" = "hard" ] || { echo "FAIL hard: affinity"; fail=1; }

# --exclude: reserved CPUs are never chosen.
check exclude 0 "$affine" place --vcpus 2 --memory 1G --exclude node:0,8-11 --host "$host" --json
[ "$(json_field 'j["nodes"]')" = "[2]" ] || { echo "FAIL exclude: $(json_field 'j["nodes"]')"; fail=1; }
[ "$(json_field 'j["hard_cpus"]')" = "[12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31]" ] ||
    { echo "FAIL exclude: hard_cpus"; fail=1; }

# Nothing fits: fallback (exit 1, plan printed); not enough memory: refused (exit 1).
check fallback 1 "$affine" place --vcpus 64 --memory 1G --host "$host" --json
[ "$(json_field 'j["outcome"]')" = "fallback" ] || { echo "FAIL fallback: outcome"; fail=1; }
[ "$(json_field 'j["affinity"]')" = "none" ] || { echo "FAIL fallback: affinity"; fail=1; }
check refused 1 "$affine" place --vcpus 1 --memory 17G --host "$host"
contains refused "NOT PLACED"

# Usage errors: exit 2 with a message naming the problem.
check vcpus-zero 2 "$affine" place --vcpus 0 --memory 1G --host "$host"
contains vcpus-zero "bad --vcpus \"0\": expected a whole number from 1 to"
check bad-size 2 "$affine" place --vcpus 1 --memory 12Q --host "$host"
contains bad-size "--memory"
check bad-policy 2 "$affine" place --vcpus 1 --memory 1G --policy fastest --host "$host"
contains bad-policy "unknown placement policy \"fastest\""
check exclude-all 2 "$affine" place --vcpus 1 --memory 1G --exclude all --host "$host"
contains exclude-all "no usable CPU"
check exclude-bad 2 "$affine" place --vcpus 1 --memory 1G --exclude 99 --host "$host"
check no-memory 2 "$affine" place --vcpus 1 --host "$host"
contains no-memory "missing --memory SIZE"

exit $fail
