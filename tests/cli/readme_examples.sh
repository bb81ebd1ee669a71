#!/usr/bin/env bash
# The README's examples run as written on any machine: every `$ affine ...` line in
# a code block is run, and it must exit as shown (an `affine: ...` line below it is
# an error, exit 1 or 2; anything else is success) and print what is shown (exactly,
# or the lines before a `...` line).
source "$(dirname "$0")/lib.sh"
readme="$(dirname "$0")/../../README.md"

# Each example as: the command line, a tab, then its shown output with \n escapes.
examples=$(python3 - "$readme" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
in_block = False
current = None
def emit():
    if current is not None:
        print(current[0] + "\t" + "\\n".join(current[1]))
for line in lines:
    if line.startswith("```"):
        emit(); current = None
        in_block = not in_block
        continue
    if not in_block:
        continue
    if line.startswith("$ affine"):
        emit()
        command = re.sub(r"\s+#.*$", "", line[2:])
        current = (command, [])
    elif current is not None:
        current[1].append(line)
emit()
PY
)
count=$(grep -c . <<<"$examples" || true)
if [ "$count" -ge 5 ]; then pass "the README has examples ($count)"; else fail "README examples" "found $count"; fi

# The examples run in a shell, as a reader pastes them, with this affine first on PATH.
bindir=$(mktemp -d)
trap 'rm -rf "$bindir"' EXIT
ln -s "$(realpath "$AFFINE")" "$bindir/affine"
while IFS=$'\t' read -r command shown; do
    shown=$(printf '%b' "$shown")
    got=0
    actual=$(PATH=$bindir:$PATH bash -c "$command" 2>&1) || got=$?
    if grep -q '^affine: ' <<<"$shown"; then
        if [ "$got" = 1 ] || [ "$got" = 2 ]; then pass "$command: fails as shown"; else
            fail "$command" "exit $got, the README shows an error"; fi
    else
        if [ "$got" = 0 ]; then pass "$command: exit 0"; else fail "$command" "exit $got: $actual"; fi
    fi
    if grep -qx '\.\.\.' <<<"$shown"; then
        # Compare the lines before the first "...".
        head_lines=$(sed '/^\.\.\.$/,$d' <<<"$shown")
        expect_eq "$command: prints what the README shows (up to ...)" "$head_lines" \
            "$(head -n "$(grep -c '' <<<"$head_lines")" <<<"$actual")"
    else
        expect_eq "$command: prints what the README shows" "$shown" "$actual"
    fi
done <<<"$examples"
finish
