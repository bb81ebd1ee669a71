#!/usr/bin/env bash
# One JSON rule for every command (--json compact on one line, --json=pretty and
# --pretty indented, the same document), and `show --mask` for scripts.
source "$(dirname "$0")/lib.sh"
host=nodes=2,cores=2
state=$(mktemp)
sleep 600 &
sleeper=$!
trap 'rm -f "$state"; kill $sleeper' EXIT
"$AFFINE" xen --host "sim:$state" sim-init "$state" --from "$host" >/dev/null

# check_json NAME ARGS...: compact is one line, pretty is several, both the same JSON.
check_json() {
    local name=$1; shift
    expect_status "$name --json" 0 "$@" --json
    local compact=$out
    expect_eq "$name --json is one line" 1 "$(grep -c '' <<<"$compact")"
    expect_status "$name --json=pretty" 0 "$@" --json=pretty
    local pretty=$out
    if [ "$(grep -c '' <<<"$pretty")" -gt 1 ]; then pass "$name --json=pretty is indented"; else
        fail "$name --json=pretty is indented" "one line"; fi
    expect_status "$name --pretty" 0 "$@" --pretty
    expect_eq "$name --pretty is --json=pretty" "$pretty" "$out"
    expect_eq "$name: the same document" "$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])))' "$compact")" \
        "$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])))' "$pretty")"
}
check_json "topo" "$AFFINE" topo --host "$host"
check_json "place" "$AFFINE" place --vcpus 1 --memory 1G --host "$host"
check_json "show" "$AFFINE" show $sleeper
check_json "xen topo" "$AFFINE" xen --host "sim:$state" topo
check_json "xen domains" "$AFFINE" xen --host "sim:$state" domains
check_json "xen show" "$AFFINE" xen --host "sim:$state" show 0
check_json "xen numastat" "$AFFINE" xen --host "sim:$state" numastat

expect_status "--json=yaml is refused" 2 "$AFFINE" topo --json=yaml
expect_contains "the error is one line naming the option" "affine: topo: --json: yaml" "$err"
expect_status "show --json PID: the PID is not taken for a style" 0 "$AFFINE" show --json $$
expect_contains "show --json PID prints the PID" "\"pid\":$$" "$out"

# show --mask: the affinity list alone, as taskset -c -p prints it after the colon.
taskset_list=$(taskset -c -p $$ | sed 's/.*: //')
expect_status "show --mask" 0 "$AFFINE" show $$ --mask
expect_eq "show --mask is taskset's list" "$("$AFFINE" calc "$taskset_list")" "$out"
expect_status "show --to hex" 0 "$AFFINE" show $$ --to hex
expect_eq "show --to hex is taskset's mask" "0x$(taskset -p $$ | sed 's/.*: //')" "$out"
expect_status "show --mask --to kernel" 0 "$AFFINE" show $$ --mask --to kernel
expect_eq "show --to kernel is Cpus_allowed" "$(awk '/^Cpus_allowed:/ { print $2 }' /proc/$$/status)" "$out"
expect_status "show --mask for two pids" 0 "$AFFINE" show $$ 1 --mask
expect_eq "one line each" 2 "$(grep -c '' <<<"$out")"
expect_status "show --mask --json is refused" 2 "$AFFINE" show $$ --mask --json
expect_status "show --to json is refused" 2 "$AFFINE" show $$ --to json
gone=$(($(cat /proc/sys/kernel/pid_max) - 1))
while [ -e "/proc/$gone" ]; do gone=$((gone - 1)); done
expect_status "show --mask of no such pid fails" 1 "$AFFINE" show $$ "$gone" --mask
expect_eq "and prints nothing, not even the good pid" "" "$out"
finish
