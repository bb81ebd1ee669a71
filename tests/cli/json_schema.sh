#!/usr/bin/env bash
# Every --json output of affine against one schema (docs/output.schema.json): one
# name per concept, sets as integer arrays, integer epoch seconds, null for absent.
# Each command's output is validated against the definition its x-commands name;
# documents that break the rules must be refused, so the check can fail.
source "$(dirname "$0")/lib.sh"
schema=$(cd "$(dirname "$0")/../../docs" && pwd)/output.schema.json
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || { fail "jsonschema" "python3-jsonschema not found (scripts/install-deps installs it)"; finish; }
fixtures=$(cd "$(dirname "$0")/../fixtures/sysfs" && pwd)
host=nodes=2,cores=2,smt=2,mem=1G
dir=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT
n=0
# record DEF NAME COMMAND...: runs COMMAND (exit 0), keeps its output to validate as
# DEF and its arguments, by which the schema's x-commands must pick DEF.
record() {
    local def=$1 name=$2; shift 2
    expect_status "$name" 0 "$@"
    n=$((n + 1))
    printf '%s\n' "$out" > "$dir/$n.$def.json"
    echo "$name" > "$dir/$n.name"
    printf '%s\0' "$@" > "$dir/$n.args"
}

record host "topo --json" "$AFFINE" topo --json
record host "topo --json synthetic" "$AFFINE" topo --json --host "$host"
record host "topo --json=pretty dies" "$AFFINE" topo --json=pretty --host "$fixtures/dies"
record host "topo --json memless" "$AFFINE" topo --json --host "$fixtures/memless"
record cpu_rows "topo --cpus --json" "$AFFINE" topo --cpus --json
record cpu_rows "topo --cpus --json dies" "$AFFINE" topo --cpus --json --host "$fixtures/dies"
record set "calc --to json" "$AFFINE" calc all --to json --host "$host"
record set "calc --nodes --to json" "$AFFINE" calc all --nodes --to json --host "$host"
sleep 60 & pids+=($!)
record process "show --json" "$AFFINE" show "${pids[0]}" --json
record processes "show --json two" "$AFFINE" show "${pids[0]}" $$ --json
record plan "place --json" "$AFFINE" place --vcpus 2 --memory 512M --json --host "$host"
printf '%s\n' '{"name": "web", "vcpus": 1, "memory": "256M"}' '{"name": "db", "vcpus": 2, "memory": "512M"}' > "$dir/requests"
record plans "place --requests --json" "$AFFINE" place --requests "$dir/requests" --json --host "$host"
state=$dir/sim.json
"$AFFINE" xen sim-init "$state" --from "$host" --dom0-vcpus 2 > /dev/null
record host "xen topo --json" "$AFFINE" xen --host "sim:$state" topo --json
x() { "$AFFINE" xen --host "sim:$state" "$@"; }
dom=$(x sim-create-domain --vcpus 2 --allocated 2 --memory 128M --node-affinity 1)
record xen_domains "xen domains --json" x domains --json
record xen_domain "xen show --json" x show "$dom" --json
record xen_numastat "xen numastat --json" x numastat --json
record xen_numastat "xen numastat DOM --json" x numastat "$dom" --json
record xen_vcpu_pin "xen vcpu-pin --json" x vcpu-pin "$dom" all 0-1 node:1 --json
record xen_node_affinity "xen node-affinity --json" x node-affinity "$dom" --json
record xen_node_affinity "xen node-affinity NODES --json" x node-affinity "$dom" 0 --json=pretty
record xen_place "xen place --dry-run --json" x place "$dom" --dry-run --json
record xen_place "xen place --json" x place "$dom" --pretty
# weights reads this kernel's weighted interleave (Linux 6.9+), as tiers.sh does.
unchecked=daemon_status   # linux_daemon.sh runs the daemon and checks its status
if [ -d /sys/kernel/mm/mempolicy/weighted_interleave ]; then
    record weights "weights --json" "$AFFINE" weights --json
else
    unchecked+=",weights"
    echo "NOTE weights --json not run: this kernel has no weighted interleave"
fi

# Every command whose --help offers JSON (--json, or calc's --to json) has a
# definition that names it, so none of their outputs goes unchecked.
json_commands() {
    local cmd sub
    for cmd in $("$AFFINE" help | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }'); do
        "$AFFINE" "$cmd" --help 2>/dev/null | grep -qE -- '^ +(-[a-z],)?--json|^ +--to .*json' && echo "$cmd"
        for sub in $("$AFFINE" "$cmd" --help 2>/dev/null | awk '/^(Subcommands|SUBCOMMANDS):/ { on = 1; next } on && /^ +[a-z]/ { print $1 }'); do
            "$AFFINE" "$cmd" "$sub" --help 2>/dev/null | grep -qE -- '^ +(-[a-z],)?--json' && echo "$cmd $sub"
        done
    done
}
named=$(/usr/bin/python3 "$(dirname "$0")/json_outputs.py" "$schema" | cut -f1 | sed 's/ *(.*)$//; s/ --.*//' | sort -u)
offered=$(json_commands | sort -u)
expect_contains "JSON found in --help (xen place)" "xen place" "$offered"
while read -r cmd; do
    expect_line "the schema names $cmd" "$cmd" "$named"
done <<<"$offered"

# One python run validates them all.
results=$(/usr/bin/python3 - "$schema" "$dir" "$(dirname "$0")" "$unchecked" <<'PY'
import glob, json, os, sys
import jsonschema
sys.path.insert(0, sys.argv[3])
import json_outputs
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
def check(doc, name):
    v = jsonschema.Draft202012Validator({"$ref": "#/$defs/" + name, "$defs": schema["$defs"]})
    errors = sorted(v.iter_errors(doc), key=str)
    return "ok" if not errors else errors[0].message
checked = set()
for path in sorted(glob.glob(os.path.join(sys.argv[2], "*.json"))):
    base = os.path.basename(path)
    if base == "sim.json":
        continue
    number, definition, _ = base.split(".")
    name = open(os.path.join(sys.argv[2], number + ".name")).read().strip()
    print(f"{name}\t{check(json.load(open(path)), definition)}")
    args = open(os.path.join(sys.argv[2], number + ".args"), "rb").read().decode().split("\0")[:-1]
    args = ["xen", "--host", "sim:state"] + args[1:] if args[0] == "x" else args[1:]
    picked = json_outputs.definitions_for(schema, args)
    print(f"x-commands pick {definition} for {name}\t{'ok' if definition in picked else picked}")
    checked.add(definition)
# Each definition a command prints is checked here on a real output, but those the
# script names as checked elsewhere or not on this kernel.
for _, _, definition, entry in json_outputs.entries(schema):
    if definition not in sys.argv[4].split(","):
        print(f"an output of {entry} checked\t{'ok' if definition in checked else 'none'}")
# The rules bite: documents that break them are refused.
bad = {
    "daemon status with soft as a string": ("workload", {"pid": 1, "command": "x", "uid": 0, "soft": "0", "since": 1, "threads": []}),
    "a float time": ("workload", {"pid": 1, "command": "x", "uid": 0, "soft": [0], "since": 1.5, "threads": []}),
    "socket for package": ("cpu_rows", [{"cpu": 0, "online": True, "node": 0, "socket": 0, "die": None, "core": 0, "l3": 0}]),
    "a set as a list string": ("set", "0-3"),
    "xen show with a mask as a list string": ("xen_domain", {"domid": 1, "vcpus": [{"id": 0, "hard": "0-3", "soft": [0],
        "effective_hard": [0], "effective_soft": [0]}], "node_affinity": [0], "node_affinity_auto": True,
        "node_affinity_auto_source": "hypervisor", "memory_bytes_per_node": {}}),
    "xen node-affinity with a second name for a field": ("xen_node_affinity", {"domid": 1, "node_affinity": [0],
        "node_affinity_auto": True, "node_affinity_auto_source": "hypervisor", "nodes": [0]}),
}
for name, (definition, doc) in bad.items():
    print(f"refused: {name}\t{'ok' if check(doc, definition) != 'ok' else 'accepted'}")
PY
)
while IFS=$'\t' read -r name verdict; do
    expect_eq "schema: $name" ok "$verdict"
done <<<"$results"
finish
