#!/usr/bin/env bash
# What scripts rely on: empty values refused, run's options end at the command,
# write errors are failures, one `affine: ...` line per error with the right exit
# status, partial results reported, commands on one simulated host take turns.
source "$(dirname "$0")/lib.sh"
host=nodes=2,cores=2,mem=1G
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
state=$tmp/sim.json
"$AFFINE" xen sim-init "$state" --from "$host" --dom0-vcpus 2 > /dev/null

# expect_error NAME STATUS TEXT COMMAND...: exit STATUS and exactly one stderr line
# "affine: ..." that contains TEXT.
expect_error() {
    local name=$1 status=$2 text=$3; shift 3
    expect_status "$name" "$status" "$@"
    expect_contains "$name: message" "$text" "$err"
    expect_eq "$name: one line" 1 "$(wc -l <<<"$err")"
    expect_eq "$name: affine's prefix" "affine: " "${err:0:8}"
}

# ---- an empty value is an error everywhere
expect_error "run --cpus ''" 2 "run: --cpus is empty" "$AFFINE" run --cpus "" -- true
expect_error "run --nodes ''" 2 "run: --nodes is empty" "$AFFINE" run --nodes "" -- true
expect_error "run --place --exclude ''" 2 "--exclude is empty" "$AFFINE" run --place --memory 1M --exclude "" -- true
expect_error "place --exclude ''" 2 "place: --exclude is empty" \
    "$AFFINE" place --vcpus 1 --memory 1G --exclude "" --host "$host"
expect_error "xen place --exclude ''" 2 "xen place: --exclude is empty" \
    "$AFFINE" xen --host "sim:$state" place 0 --exclude ""
expect_error "xen node-affinity DOM ''" 2 "xen node-affinity: NODES is empty" \
    "$AFFINE" xen --host "sim:$state" node-affinity 0 ""
expect_error "topo --host ''" 2 "topo: --host is empty" "$AFFINE" topo --host ""
expect_error "xen --host ''" 2 "xen topo: --host is empty" "$AFFINE" xen --host "" topo
expect_error "calc ''" 2 "calc: SET is empty" "$AFFINE" calc "" --host "$host"
expect_error "pin '' PID" 2 "pin: CPUS is empty" "$AFFINE" pin "" $$
expect_error "migrate PID ''" 2 "migrate: NODES is empty" "$AFFINE" migrate $$ ""
expect_error "shield ''" 2 "shield: CPUS is empty" "$AFFINE" shield "" --state "$tmp/shield.json"
expect_error "shield --undo --state ''" 2 "shield: --state is empty" "$AFFINE" shield --undo --state ""
# The words of the command run belong to it, empty or not.
expect_status "run passes an empty argument on" 0 "$AFFINE" run --cpus 0 -- printf '[%s]' ""
expect_eq "empty argument kept" "[]" "$out"

# ---- run's own options end at the first word that is not one of them
expect_status "run --cpus 0 ls -d /tmp" 0 "$AFFINE" run --cpus 0 ls -d /tmp
expect_eq "ls got -d" "/tmp" "$out"
expect_status "run echo --help" 0 "$AFFINE" run echo --help
expect_contains "echo got --help (its own help)" "Usage: echo" "$out"
expect_status "run keeps words such as [a,b]" 0 "$AFFINE" run --cpus 0 printf '%s|' '[a,b]' "" --cpus
expect_eq "words kept as they are" "[a,b]||--cpus|" "$out"
expect_status "run -v --cpus 0 grep" 0 "$AFFINE" run --cpus 0 grep -c Cpus_allowed_list /proc/self/status
expect_eq "grep got -c" "1" "$out"
expect_status "run -- still accepted" 0 "$AFFINE" run --cpus 0 -- echo --cpus 1
expect_eq "after --" "--cpus 1" "$out"

# ---- write errors are failures, for every command
full() { "$AFFINE" "$@" > /dev/full; }
for cmd in "topo --host $host" "topo --json --host $host" "calc 0-1 --host $host" \
           "place --vcpus 1 --memory 1G --json --host $host" "place --vcpus 1 --memory 1G --host $host" \
           "help" "--version" "help topo" "show $$" "xen --host sim:$state topo" \
           "xen --host sim:$state domains --json" "xen --host sim:$state show 0"; do
    # shellcheck disable=SC2086
    expect_error "$cmd > /dev/full" 1 "write error: No space left on device" full $cmd
done
sleep 30 & pids+=($!)
expect_error "pin > /dev/full" 1 "write error: No space left on device" full pin 0 "${pids[-1]}"
expect_error "xen vcpu-pin > /dev/full" 1 "write error" full xen --host "sim:$state" vcpu-pin 0 0 all -

# ---- no exception escapes: state files with wrong types are parse errors
sed 's/"temporarily_pinned": false/"temporarily_pinned": "no"/' "$state" > "$tmp/bad-type.json"
expect_error "sim state field of the wrong type" 2 'temporarily_pinned: expected true or false' \
    "$AFFINE" xen --host "sim:$tmp/bad-type.json" domains
sed 's/"pages_per_node": {[^}]*}/"pages_per_node": {"x": 1}/' "$state" > "$tmp/bad-key.json"
expect_error "sim state node key not a number" 2 'key "x" is not an id' \
    "$AFFINE" xen --host "sim:$tmp/bad-key.json" domains

# ---- usage errors read like affine's
expect_error "unknown command" 2 'unknown command "frobnicate" (commands: topo, calc,' "$AFFINE" frobnicate
expect_error "unknown option" 2 'topo: unknown option "--bogus" (topo options: --json, --pretty, --cpus, --host' \
    "$AFFINE" topo --bogus
expect_error "unexpected argument" 2 'topo: unexpected argument "x"' "$AFFINE" topo x --host "$host"
expect_error "bad number" 2 'bad --vcpus "x": expected a whole number from 1 to' \
    "$AFFINE" place --vcpus x --memory 1G --host "$host"
expect_error "missing value" 2 "calc: --host needs a value" "$AFFINE" calc 0 --host
expect_error "repeated option" 2 "run: --cpus is given 2 times; give it once" "$AFFINE" run --cpus 0 --cpus 1 -- true
expect_error "missing argument" 2 "show: missing PID" "$AFFINE" show
expect_error "bad process id" 2 'bad process id "12x": expected a whole number from 1 to' "$AFFINE" show 12x
expect_error "xen bogus" 2 'unknown xen command "bogus" (xen commands: topo, domains,' "$AFFINE" xen bogus
expect_error "xen alone" 2 'xen needs a command (xen commands: topo,' "$AFFINE" xen
expect_error "help bogus" 2 'help: unknown command "bogus"' "$AFFINE" help bogus
expect_error "calc --to octal" 2 'bad output form "octal": expected list, hex, kernel, json or hwloc' \
    "$AFFINE" calc 0 --to octal --host "$host"
expect_status "help topo" 0 "$AFFINE" help topo
expect_contains "help topo prints topo's options" "affine topo [OPTIONS]" "$out"
expect_contains "help topo lists --json" "--json" "$out"
expect_status "topo --help" 0 "$AFFINE" topo --help
expect_contains "usage line says affine" "affine topo [OPTIONS]" "$out"
expect_status "help xen place" 0 "$AFFINE" help xen place
expect_contains "help of a xen command" "affine xen place" "$out"

# ---- partial results are reported
true & gone=$!
wait "$gone"
expect_status "show P1 GONE" 1 "$AFFINE" show $$ "$gone"
expect_contains "show P1 GONE: P1 printed" "pid $$ " "$out"
expect_contains "show P1 GONE: the error line" "affine: no such task: $gone" "$err"
expect_status "show --json P1 GONE" 1 "$AFFINE" show --json $$ "$gone"
expect_contains "show --json P1 GONE: P1 printed" "\"pid\":$$," "$out"
# A zombie: sleep 0 exits, and its parent (now sleep 30) never reaps it.
(sleep 0 & exec sleep 30) & pids+=($!)
zombie=
for _ in $(seq 50); do
    zombie=$(ps -o pid= --ppid "${pids[-1]}" | tr -d ' ')
    [ -n "$zombie" ] && [ "$(ps -o stat= -p "$zombie")" = Z ] && break
    sleep 0.1
done
expect_error "migrate an exited process" 1 "pid $zombie has exited" "$AFFINE" migrate "$zombie" 0

# ---- the right words
expect_error "bind a task that never existed" 1 "no such task: 999999 (no /proc/999999)" "$AFFINE" bind 999999 1
expect_error "sim command without a sim host" 2 "xen sim-create-domain is a simulation command" \
    "$AFFINE" xen sim-create-domain --vcpus 1
expect_error "sim-create-domain too much memory" 1 "of memory wanted" \
    "$AFFINE" xen --host "sim:$state" sim-create-domain --vcpus 1 --memory 5G
expect_contains "sizes in units people read" "5G of memory wanted" "$err"
expect_status "a captured root as --host" 0 "$AFFINE" topo --host "$(dirname "$0")/../fixtures/sysfs/numa2"
expect_error "a directory that holds no sys/" 2 "--host $tmp" "$AFFINE" topo --host "$tmp"

finish
