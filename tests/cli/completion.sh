#!/usr/bin/env bash
# The bash completion (completions/affine.bash) offers commands, options from
# --help, process ids, CPU and node terms, and policies: simulated as bash calls it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../../completions/affine.bash"

# complete_line WORDS...: runs the completion function with the cursor on the last
# word (bash's COMP_WORDS, with "=" split off as COMP_WORDBREAKS does); the
# candidates are in $candidates, one a line.
complete_line() {
    COMP_WORDS=("$AFFINE" "$@")
    COMP_CWORD=$(($# ))
    COMPREPLY=()
    _affine
    candidates=$(printf '%s\n' "${COMPREPLY[@]}")
}
has() { expect_line "$1" "$2" "$candidates"; }
lacks() { expect_no_line "$1" "$2" "$candidates"; }

expect_eq "complete -F _affine affine is registered" "complete -F _affine affine" "$(complete -p affine)"

complete_line ""
has "commands" "topo"
has "commands include xen" "xen"
complete_line "pl"
expect_eq "a prefix completes to the one command" "place" "$candidates"

complete_line topo --
has "topo options from --help" "--host"
has "topo --json" "--json"
has "topo --pretty" "--pretty"
complete_line show 1 --m
expect_eq "show --mask" "--mask" "$candidates"

complete_line topo --json "=" ""
expect_eq "--json= values" "$(printf 'compact\npretty')" "$candidates"

complete_line show ""
has "show completes pids: our own" "$$"
has "show completes pids: pid 1" "1"

complete_line pin ""
has "pin's first argument is a CPU term: all" "all"
has "pin's first argument: node:0" "node:0"
has "pin's first argument: CPU 0" "0"
lacks "pin's first argument is not a pid" "$$"
complete_line pin "0-1,no"
has "the last term of a set completes" "0-1,node:0"
complete_line pin "all,^no"
has "a negated term completes" "all,^node:0"
complete_line pin "all,^so"
has "location terms complete" "all,^socket:"
complete_line pin "co"
has "core: completes" "core:"
complete_line pin 0 ""
has "pin's second argument is a pid" "$$"

complete_line migrate "$$" ""
has "migrate's second argument is a node" "0"
lacks "migrate's second argument is not a node: term" "node:0"

complete_line place --policy ""
expect_eq "policies" "$(printf 'best-effort\nbest-effort-hard\nprio-mem-only\nany')" "$candidates"
complete_line run --mem-policy i
expect_eq "memory policies" "interleave" "$candidates"
complete_line calc 0 --to ""
has "calc --to" "json"
complete_line show 1 --to ""
lacks "show --to has no json" "json"

complete_line xen ""
has "xen subcommands" "vcpu-pin"
complete_line xen vcpu-pin --
has "xen subcommand options" "--force"
complete_line xen --host ""
has "xen --host" "sim:"

complete_line daemon ""
expect_eq "daemon's subcommands" "$(printf 'status\nreload')" "$candidates"
complete_line daemon status --
has "daemon status options" "--json"
complete_line help ""
has "help completes commands" "topo"
has "help completes numad" "numad"
complete_line help xen ""
has "help xen completes xen's commands" "vcpu-pin"
complete_line numad -
has "numad's options" "-w"
has "numad's -R" "-R"
complete_line topo "--json="
expect_eq "--json= in one word" "$(printf -- '--json=compact\n--json=pretty')" "$candidates"
fixtures=$(cd "$(dirname "$0")/../fixtures/sysfs" && pwd)
complete_line calc --host "$fixtures/numa4" "node:"
has "node: honours --host: node:2" "node:2"
lacks "node: honours --host: no node:4" "node:4"
# CPU-less nodes are nodes too: memory goes there (node:N joins other terms).
tiered=nodes=2,cores=1,slow=1G
complete_line calc --host "$tiered" "node:"
has "node: offers a CPU-less node: node:2" "node:2"
has "node: offers a CPU-less node: node:3" "node:3"
lacks "node: only the host's nodes: no node:4" "node:4"
complete_line calc --host="$tiered" "node:"
has "node: honours --host=SPEC" "node:3"
state=$(mktemp)
"$AFFINE" xen sim-init "$state" --from "$tiered" --dom0-vcpus 1 >/dev/null
complete_line xen --host "sim:$state" sim-create-domain --node-affinity ""
has "xen --node-affinity on a simulated host offers its CPU-less node" "3"
lacks "xen --node-affinity: only the simulated host's nodes" "4"
rm -f "$state"
complete_line calc "pu"
has "pu: completes" "pu:"
complete_line calc 0 -I ""
has "calc -I types" "core"
complete_line calc 0 --to ""
has "calc --to hwloc" "hwloc"
finish
