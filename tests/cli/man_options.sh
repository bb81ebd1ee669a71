#!/usr/bin/env bash
# Every option `--help` lists, for every command and xen subcommand, is documented
# in that command's section of affine(1) (docs/man/affine.1.scd), so the two cannot
# drift; and the check itself fails when an option is missing.
source "$(dirname "$0")/lib.sh"
man_source="$(dirname "$0")/../../docs/man/affine.1.scd"

# The options in one `--help` text (long ones, and short ones without a long twin),
# without -h/--help, which affine(1) documents once.
options_of() {
    awk '/^(Options|OPTIONS):/ { on = 1; next } /^[A-Z][A-Za-z ]*:$/ { on = 0 } on && /^ +-/ { print $1 }' <<<"$1" |
        tr ',' '\n' | sed 's/[={].*//; s/\[.*//' | grep -E '^-' | grep -vxE -- '-h|--help' || true
}

# The lines of section "## affine NAME" of a man page source.
section_of() {
    awk -v want="## affine $2" '$0 == want { on = 1; next } /^#/ { on = 0 } on' "$1"
}

# check_page FILE: prints "COMMAND OPTION" for every option missing from FILE.
check_page() {
    local page=$1 cmd help opt
    local commands
    commands=$(awk '/^commands:/ { on = 1; next } /^$/ { on = 0 } on && $1 != "help" { print $1 }' <<<"$("$AFFINE" help)")
    [ -n "$commands" ] || { echo "no commands listed by affine help"; return; }
    local xen_subs
    xen_subs=$("$AFFINE" xen --help | awk '/^(Subcommands|SUBCOMMANDS):/ { on = 1; next } on && /^ +[a-z]/ { print $1 }')
    [ -n "$xen_subs" ] || echo "no xen subcommands listed by affine xen --help"
    while read -r cmd; do
        [ -n "$cmd" ] || continue
        help=$("$AFFINE" $cmd --help) || { echo "$cmd --help failed"; continue; }
        local section
        section=$(section_of "$page" "$cmd")
        [ -n "$section" ] || { echo "$cmd (no section \"## affine $cmd\")"; continue; }
        for opt in $(options_of "$help"); do
            grep -qF -- "*$opt*" <<<"$section" || echo "$cmd $opt"
        done
    done < <(echo "$commands"; sed 's/^/xen /' <<<"$xen_subs")
}

expect_status "affine help lists commands" 0 "$AFFINE" help
missing=$(check_page "$man_source")
expect_eq "every option of every command is in its section of affine(1)" "" "$missing"

# The check is not vacuous: options are found, and one taken out of the page is missed.
count=$(options_of "$("$AFFINE" place --help)" | wc -l)
if [ "$count" -ge 8 ]; then pass "place --help lists its options ($count)"; else fail "options found" "$count"; fi
broken=$(mktemp)
trap 'rm -f "$broken"' EXIT
awk '/^## affine pin$/ { on = 1 } /^## affine bind$/ { on = 0 } !(on && /\*--migrate\*/)' "$man_source" >"$broken"
missing=$(check_page "$broken")
expect_eq "a page without pin's --migrate fails the check" "pin --migrate" "$missing"
finish
