#!/usr/bin/env bash
# What a user of taskset, numactl and hwloc-calc trips on in the first hour: help
# that answers, "did you mean", numactl's options mapped, sizes in any case, and
# messages that name what was wrong. Each check: the command, its status, its message.
source "$(dirname "$0")/lib.sh"
host=nodes=2,cores=2,mem=1G

# expect_error NAME STATUS TEXT COMMAND...: exit STATUS, one "affine: ..." line with TEXT.
expect_error() {
    local name=$1 status=$2 text=$3; shift 3
    expect_status "$name" "$status" "$@"
    expect_contains "$name: message" "$text" "$err"
    expect_eq "$name: one line" 1 "$(wc -l <<<"$err")"
}

# ---- help that answers
expect_status "help numad" 0 "$AFFINE" help numad
expect_contains "help numad is numad's usage" "-w" "$out"
expect_status "help help" 0 "$AFFINE" help help
expect_contains "help help lists the commands" "commands:" "$out"
expect_error "help topo extra" 2 'help: topo has no commands: unexpected "extra"' "$AFFINE" help topo extra
expect_error "help xen plce" 2 'help: unknown xen command "plce" (did you mean place?)' "$AFFINE" help xen plce
expect_error "help tpoo" 2 'help: unknown command "tpoo" (did you mean topo?)' "$AFFINE" help tpoo
expect_status "help xen place" 0 "$AFFINE" help xen place
expect_contains "help xen place: its usage" "Usage: affine xen place" "$out"

# ---- did you mean
expect_error "tpoo" 2 'unknown command "tpoo" (did you mean topo?)' "$AFFINE" tpoo
expect_error "topo --jsno" 2 'topo: unknown option "--jsno" (did you mean --json?)' "$AFFINE" topo --jsno --host "$host"
expect_error "xen plcae" 2 'unknown xen command "plcae" (did you mean place?)' "$AFFINE" xen plcae
expect_error "frobnicate: no guess" 2 'unknown command "frobnicate" (commands:' "$AFFINE" frobnicate

# ---- an option of a command is taken after its subcommand
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
expect_error "daemon status --state-dir" 1 "no affine daemon" "$AFFINE" daemon status --state-dir "$dir"

# ---- usage lines a person would type, none of the parser's notation
for cmd in topo calc show pin bind run migrate shield place daemon "xen place" "xen show"; do
    # shellcheck disable=SC2086
    expect_status "$cmd --help" 0 "$AFFINE" $cmd --help
    for artefact in "Excludes:" "{compact" ":{" " TEXT" "REQUIRED"; do
        if grep -qF -- "$artefact" <<<"$out"; then fail "$cmd --help has no '$artefact'" "$out"; else pass "$cmd --help has no '$artefact'"; fi
    done
done
"$AFFINE" run --help > "$dir/run" 2>&1
expect_contains "run's usage has COMMAND" "[--] COMMAND [ARGS...]" "$(cat "$dir/run")"
"$AFFINE" pin --help > "$dir/pin" 2>&1
expect_contains "pin's usage: CPUS and PID required" "Usage: affine pin CPUS PID..." "$(cat "$dir/pin")"
"$AFFINE" shield --help > "$dir/shield" 2>&1
expect_contains "shield --exec shows its command" "--exec -- COMMAND..." "$(cat "$dir/shield")"
"$AFFINE" show --help > "$dir/show" 2>&1
expect_contains "show --json's values" "--json[=compact|pretty]" "$(cat "$dir/show")"
expect_contains "show --to's values" "--to list|hex|kernel" "$(cat "$dir/show")"

# ---- numactl's and taskset's options on run: the affine equivalent
expect_error "run --cpunodebind=0" 2 "numactl's --cpunodebind NODES is --cpus node:N" "$AFFINE" run --cpunodebind=0 true
expect_error "run -N 0" 2 "numactl's --cpunodebind NODES is --cpus node:N" "$AFFINE" run -N 0 true
expect_error "run --membind=0" 2 "numactl's --membind NODES is --nodes NODES" "$AFFINE" run --membind=0 true
expect_error "run -m 0" 2 "numactl's --membind NODES is --nodes NODES" "$AFFINE" run -m 0 true
expect_error "run --physcpubind=0" 2 "numactl's --physcpubind CPUS is --cpus CPUS" "$AFFINE" run --physcpubind=0 true
expect_error "run -C 0" 2 "numactl's --physcpubind CPUS is --cpus CPUS" "$AFFINE" run -C 0 true
expect_error "run --interleave=all" 2 "--mem-policy interleave" "$AFFINE" run --interleave=all true
expect_error "run --preferred=0" 2 "--mem-policy preferred" "$AFFINE" run --preferred=0 true
expect_error "run -c 0 (taskset)" 2 "taskset's -c CPUS is --cpus CPUS" "$AFFINE" run -c 0 true

# ---- sizes: any case of the units; less than a page is a missing unit
for size in 64m 64M 64MB 64mb 64MiB 64mib; do
    expect_status "place --memory $size" 0 "$AFFINE" place --vcpus 1 --memory "$size" --host "$host"
done
expect_error "place --memory 4" 2 "place --memory 4: 4 bytes is less than a page" \
    "$AFFINE" place --vcpus 1 --memory 4 --host "$host"
expect_contains "place --memory 4: the hint" "a unit is missing?" "$err"
expect_error "place --memory 4GiBs" 2 "bad size" "$AFFINE" place --vcpus 1 --memory 4GiBs --host "$host"

# ---- one JSON schema: a host without dies says null for the die everywhere, as the
# text says "dies none" (Linux's die_id files say 0 there); real dies stay.
fixtures=$(cd "$(dirname "$0")/../fixtures/sysfs" && pwd)
dies_of() { grep -o '"die":[^,}]*' <<<"$1" | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' '; }
expect_status "topo --json numa2" 0 "$AFFINE" topo --json --host "$fixtures/numa2"
expect_eq "topo --json: no die on a host without dies" '"die":nullx4 ' "$(dies_of "$out")"
expect_status "topo --cpus --json numa2" 0 "$AFFINE" topo --cpus --json --host "$fixtures/numa2"
expect_eq "topo --cpus --json: the same null" '"die":nullx4 ' "$(dies_of "$out")"
expect_status "topo numa2" 0 "$AFFINE" topo --host "$fixtures/numa2"
expect_contains "topo: dies none" "dies    none" "$out"
expect_status "xen topo --json from numa2" 0 bash -c '"$1" xen sim-init "$2/sim.json" --from "$3" >/dev/null &&
    "$1" xen --host "sim:$2/sim.json" topo --json' bash "$AFFINE" "$dir" "$fixtures/numa2"
expect_eq "xen topo --json: the same null" '"die":nullx4 ' "$(dies_of "$out")"
expect_status "topo --json dies" 0 "$AFFINE" topo --json --host "$fixtures/dies"
expect_eq "topo --json: real dies stay" '"die":0x4 "die":1x4 ' "$(dies_of "$out")"
expect_status "calc die:1 dies" 0 "$AFFINE" calc die:1 --host "$fixtures/dies"
expect_eq "die:1 is the second die" "2-3" "$out"

# ---- messages that name what was wrong
expect_error "--host memory=8G" 2 'unknown key "memory" (memory is mem=SIZE)' \
    "$AFFINE" topo --host nodes=4,cores=2,memory=8G
expect_error "place alone" 2 "place: missing --memory SIZE" "$AFFINE" place --host "$host"

# ---- a closed pipe: SIGPIPE, quietly, as taskset and numactl (more than a pipe's buffer)
big=nodes=64,cores=64
status=$(set +e +o pipefail; "$AFFINE" topo --cpus --host "$big" 2>"$dir/pipe-err" | head -1 >/dev/null; echo "${PIPESTATUS[0]}")
expect_eq "topo | head -1 ends by SIGPIPE" 141 "$status"
expect_eq "topo | head -1 prints no error" "" "$(cat "$dir/pipe-err")"
status=$(set +e +o pipefail; trap '' PIPE; "$AFFINE" topo --cpus --host "$big" 2>"$dir/pipe-err" | head -1 >/dev/null; echo "${PIPESTATUS[0]}")
expect_eq "SIGPIPE ignored: exit 1" 1 "$status"
expect_contains "SIGPIPE ignored: write error" "affine: write error: Broken pipe" "$(cat "$dir/pipe-err")"
finish
