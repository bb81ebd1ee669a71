#!/usr/bin/env bash
# The zsh completion (completions/_affine) offers what the bash one does: commands,
# options from --help, process ids, CPU and node terms, policies. Run in zsh with
# compadd and compset standing in for the completion system's builtins (compadd
# prints the candidates; the prefix of a set, which compset strips, is not matched).
source "$(dirname "$0")/lib.sh"
ZFILE=$(cd "$(dirname "$0")/../../completions" && pwd)/_affine
command -v zsh >/dev/null || { fail "zsh" "zsh not found (scripts/install-deps installs it)"; finish; }

# complete_line WORDS...: the candidates with the cursor on the last word, one a line.
complete_line() {
    candidates=$(zsh -f -c '
        compadd() { while (( $# )) && [[ $1 != -- ]]; do shift; done; shift; print -rl -- "$@"; }
        compset() { return 1; }
        _files() { print -r -- "<files>"; }
        _normal() { print -r -- "<command ${words[1]}, word $CURRENT>"; }
        words=("$@")
        CURRENT=$#
        source "$ZFILE"
    ' zsh "$AFFINE" "$@")
}
export ZFILE
has() { expect_line "$1" "$2" "$candidates"; }
lacks() { expect_no_line "$1" "$2" "$candidates"; }

expect_eq "the file declares what it completes" "#compdef affine" "$(head -n 1 "$ZFILE")"

complete_line ""
has "commands" "topo"
has "commands include xen" "xen"
has "--version" "--version"
complete_line topo --
has "topo options from --help" "--host"
has "topo --json" "--json"
complete_line topo --json=
expect_eq "--json= values" "$(printf 'compact\npretty')" "$candidates"

complete_line show ""
has "show completes pids: our own" "$$"
complete_line pin ""
has "pin's first argument is a CPU term: all" "all"
has "pin's first argument: node:0" "node:0"
has "pin's first argument: socket:" "socket:"
has "pin's first argument: CPU 0" "0"
lacks "pin's first argument is not a pid" "$$"
complete_line pin "0-1,^no"
has "the last term of a set" "node:0"
complete_line pin 0 ""
has "pin's second argument is a pid" "$$"
complete_line migrate "$$" ""
has "migrate's second argument is a node" "0"
lacks "migrate's second argument is not a node: term" "node:0"

complete_line place --policy ""
expect_eq "policies" "$(printf 'best-effort\nbest-effort-hard\nprio-mem-only\nany')" "$candidates"
complete_line calc 0 --to ""
has "calc --to" "json"
complete_line show 1 --to ""
lacks "show --to has no json" "json"
complete_line place --requests ""
expect_eq "files for --requests" "<files>" "$candidates"
complete_line run --cpus 0 -- ""
expect_eq "after run's --, the command's own completion" "<command , word 1>" "$candidates"

complete_line xen ""
has "xen subcommands" "vcpu-pin"
complete_line xen vcpu-pin --
has "xen subcommand options" "--force"
complete_line xen --host ""
has "xen --host" "sim:"

complete_line daemon ""
expect_eq "daemon's subcommands" "$(printf 'status\nreload')" "$candidates"
complete_line help ""
has "help completes commands" "topo"
has "help completes numad" "numad"
complete_line help xen ""
has "help xen completes xen's commands" "vcpu-pin"
complete_line numad -
has "numad's options" "-w"
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
complete_line calc 0 -I ""
has "calc -I types" "core"
finish
