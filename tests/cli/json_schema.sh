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
# record DEF NAME COMMAND...: runs COMMAND (exit 0), keeps its output to validate as DEF.
record() {
    local def=$1 name=$2; shift 2
    expect_status "$name" 0 "$@"
    n=$((n + 1))
    printf '%s\n' "$out" > "$dir/$n.$def.json"
    echo "$name" > "$dir/$n.name"
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

# One python run validates them all.
results=$(/usr/bin/python3 - "$schema" "$dir" <<'PY'
import glob, json, os, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
def check(doc, name):
    v = jsonschema.Draft202012Validator({"$ref": "#/$defs/" + name, "$defs": schema["$defs"]})
    errors = sorted(v.iter_errors(doc), key=str)
    return "ok" if not errors else errors[0].message
for path in sorted(glob.glob(os.path.join(sys.argv[2], "*.json"))):
    base = os.path.basename(path)
    if base == "sim.json":
        continue
    number, definition, _ = base.split(".")
    name = open(os.path.join(sys.argv[2], number + ".name")).read().strip()
    print(f"{name}\t{check(json.load(open(path)), definition)}")
# The rules bite: documents that break them are refused.
bad = {
    "daemon status with soft as a string": ("workload", {"pid": 1, "command": "x", "uid": 0, "soft": "0", "since": 1, "threads": []}),
    "a float time": ("workload", {"pid": 1, "command": "x", "uid": 0, "soft": [0], "since": 1.5, "threads": []}),
    "socket for package": ("cpu_rows", [{"cpu": 0, "online": True, "node": 0, "socket": 0, "die": None, "core": 0, "l3": 0}]),
    "a set as a list string": ("set", "0-3"),
}
for name, (definition, doc) in bad.items():
    print(f"refused: {name}\t{'ok' if check(doc, definition) != 'ok' else 'accepted'}")
PY
)
while IFS=$'\t' read -r name verdict; do
    expect_eq "schema: $name" ok "$verdict"
done <<<"$results"
finish
