# Helpers for command-line tests on this machine: run the binary, check status and output.
# Usage: source this file; "$AFFINE" is the binary under test (the script's first argument).
set -euo pipefail
AFFINE=${1:?usage: $0 path/to/affine}
failures=0
checks=0

pass() { checks=$((checks + 1)); echo "PASS $1"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $1: $2"; }

# expect_status NAME STATUS COMMAND...: runs COMMAND, keeps stdout in $out, stderr in $err.
expect_status() {
    local name=$1 want=$2; shift 2
    local got=0
    out=$("$@" 2>/tmp/affine-cli-err.$$) || got=$?
    err=$(cat /tmp/affine-cli-err.$$); rm -f /tmp/affine-cli-err.$$
    if [ "$got" = "$want" ]; then pass "$name"; else fail "$name" "exit $got, expected $want; stderr: $err"; fi
}

expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$3', expected '$2'"; fi; }
expect_contains() {
    if grep -qF -- "$2" <<<"$3"; then pass "$1"; else fail "$1" "'$3' does not contain '$2'"; fi
}

# expect_line NAME LINE TEXT / expect_no_line NAME LINE TEXT: LINE is (not) a whole
# line of TEXT (a completion's candidates, one a line).
expect_line() { if grep -qxF -- "$2" <<<"$3"; then pass "$1"; else fail "$1" "no '$2' in: $(tr '\n' ' ' <<<"$3")"; fi; }
expect_no_line() { if grep -qxF -- "$2" <<<"$3"; then fail "$1" "'$2' is there"; else pass "$1"; fi; }
finish() {
    echo "$((checks - failures)) passed, $failures failed"
    [ "$failures" = 0 ]
}
