#!/usr/bin/env bash
# affine place --requests: sequential placement fills the host.
set -u
affine=$1
fail=0
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
host=nodes=2,cores=4,mem=4G

cat > "$dir/requests" <<'REQ'
# four VMs of 2 vCPUs and 2G fill two 4G nodes; the fifth does not fit
{"name": "vm1", "vcpus": 2, "memory": "2G"}
{"name": "vm2", "vcpus": 2, "memory": 2147483648, "cores": false}
{"name": "vm3", "vcpus": 2, "memory": "2G", "policy": "best-effort-hard"}
{"vcpus": 2, "memory": "2G"}
{"name": "vm5", "vcpus": 1, "memory": "1G"}
REQ
out=$("$affine" place --requests "$dir/requests" --host "$host" --json)
status=$?
[ $status = 1 ] || { echo "FAIL batch: exit $status (a request was not placed: expected 1)"; fail=1; }
python3 - "$out" <<'PY' || fail=1
import json, sys
j = json.loads(sys.argv[1])
plans, host = j["plans"], j["host"]
assert [p["name"] for p in plans] == ["vm1", "vm2", "vm3", "request 5", "vm5"], [p["name"] for p in plans]
assert [p["nodes"] for p in plans[:4]] == [[0], [1], [0], [1]], [p["nodes"] for p in plans]
assert plans[2]["affinity"] == "hard"
assert plans[4]["outcome"] == "refused" and plans[4]["fits"] is False
assert [n["memory_free_bytes"] for n in host["nodes"]] == [0, 0], host
assert [n["vcpus"] for n in host["nodes"]] == [4, 4], host
PY

out=$("$affine" place --requests "$dir/requests" --host "$host")
case "$out" in *"host state after placement"*) ;; *) echo "FAIL batch: no host state in: $out"; fail=1 ;; esac

echo '{"name": "x", "vcpus": 1}' > "$dir/bad"
out=$("$affine" place --requests "$dir/bad" --host "$host" 2>&1)
status=$?
[ $status = 2 ] || { echo "FAIL bad line: exit $status"; fail=1; }
case "$out" in *"line 1"*"memory"*) ;; *) echo "FAIL bad line: $out"; fail=1 ;; esac

out=$("$affine" place --requests "$dir/requests" --vcpus 2 --host "$host" 2>&1)
[ $? = 2 ] || { echo "FAIL --vcpus with --requests accepted"; fail=1; }
out=$("$affine" place --requests "$dir/missing" --host "$host" 2>&1)
[ $? = 2 ] || { echo "FAIL missing file: $out"; fail=1; }
exit $fail
