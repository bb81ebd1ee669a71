# Shared by the tests/cli/linux_*.sh scripts: checks with one line per result, and
# cleanup of the processes the test started (and only those).
# Usage in a script: . "$(dirname "$0")/linux_lib.bash" "$@"
affine=$1
helpers=${2:-$(dirname "$1")/tests/helpers}
failures=0
started=()

ok() { echo "ok   $1"; }
bad() { echo "FAIL $1: $2"; failures=$((failures + 1)); }
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "expected '$2', got '$3'"; fi; }
check_has() { case "$2" in *"$3"*) ok "$1" ;; *) bad "$1" "'$3' not in: $2" ;; esac; }
# check_status NAME EXPECTED COMMAND...: the command's exit status.
check_status() {
    local name=$1 want=$2 rc=0
    shift 2
    out=$("$@" 2>&1) || rc=$?
    if [ "$rc" = "$want" ]; then ok "$name"; else bad "$name" "exit $rc, expected $want: $out"; fi
}
# start COMMAND...: run it in the background, remember its pid in $pid and wait until
# it runs COMMAND (until then the pid is a copy of this shell, named bash).
start() {
    "$@" > /dev/null 2>&1 &
    pid=$!
    started+=("$pid")
    wait_until "$(basename "$1")-started" 10 runs "$pid" "$@"
}
# runs PID COMMAND...: PID's command line is COMMAND.
runs() { cmp -s <(printf '%s\0' "${@:2}") "/proc/$1/cmdline"; }
# wait_until WHAT SECONDS COMMAND...: polls COMMAND until it succeeds; when SECONDS pass
# first, the check WHAT fails (status 1). Tests wait on conditions, never for a time.
wait_until() {
    local what=$1 limit=$2
    local deadline=$((SECONDS + limit))
    shift 2
    until "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            bad "$what" "not within $limit s: $*"
            return 1
        fi
        sleep 0.02
    done
}
# start_until WORD COMMAND...: start COMMAND as start does, then wait until it has
# written WORD on its standard output (it has done its setup).
start_until() {
    local word=$1 log
    shift
    [ -n "${outputs:-}" ] || outputs=$(mktemp -d)
    log=$outputs/${#started[@]}
    "$@" > "$log" 2>&1 &
    pid=$!
    started+=("$pid")
    wait_until "$(basename "$1")-says-$word" 10 grep -q -- "$word" "$log"
}
cleanup() {
    local p
    for p in "${started[@]}"; do kill "$p" 2> /dev/null || true; done
    wait 2> /dev/null || true
    [ -z "${outputs:-}" ] || rm -rf "$outputs"
}
trap cleanup EXIT
finish() {
    if [ "$failures" -gt 0 ]; then
        echo "$failures check(s) failed"
        exit 1
    fi
    echo "all checks passed"
}
cpus_allowed() { awk '/^Cpus_allowed_list:/{print $2}' "/proc/$1/status"; }
last_cpu() { awk '{sub(/.*\) /, ""); print $37}' "/proc/$1/stat"; }
