#!/usr/bin/env bash
# numad -w answered on this machine, process start included: affine through a
# `numad` link, once answered by a running affine daemon (its live view; private
# state directory, it manages nothing here) and once with no daemon (a fresh
# reading of the host, the load sampled over 100 ms). Prints p50, p99 and the
# slowest run per case with the machine's load; checks nothing.
# Usage: bench/numad_native.sh [AFFINE] [RUNS] [REQUEST]
#   AFFINE   default build/affine
#   RUNS     per case, default 200 (the no-daemon case runs RUNS/10, at least 10)
#   REQUEST  numad -w argument, default 2:512
set -euo pipefail

affine=$(readlink -f "${1:-build/affine}")
runs=${2:-200}
request=${3:-2:512}

# shellcheck source=lib/private_daemon.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/private_daemon.sh"
ln -s "$affine" "$work/numad"

# time_runs N: N runs of `numad -w REQUEST`, one elapsed time (ms) per line in
# $work/times; the last answer in $work/answer.
time_runs() {
    : > "$work/times"
    for _ in $(seq "$1"); do
        local t0=$EPOCHREALTIME
        "$work/numad" -w "$request" > "$work/answer" 2> "$work/stderr"
        local t1=$EPOCHREALTIME
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", (b - a) * 1000 }' >> "$work/times"
    done
}
summary() {  # CASE
    sort -n "$work/times" | awk -v what="$1" -v answer="$(cat "$work/answer")" '
        { t[NR] = $1 }
        END {
            p50 = t[int((NR - 1) * 0.50) + 1]; p99 = t[int((NR - 1) * 0.99) + 1]
            printf "%-22s %5d %10.2f %10.2f %10.2f   %s\n", what, NR, p50, p99, t[NR], answer
        }'
}

echo "numad -w $request through a numad link to $affine, process start included;"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
printf '%-22s %5s %10s %10s %10s   %s\n' case runs "p50 ms" "p99 ms" "max ms" answer

start_daemon "$affine"
time_runs 5  # warm the page cache
time_runs "$runs"
summary "daemon running"
[ ! -s "$work/stderr" ] || { echo "the daemon did not answer:" >&2; cat "$work/stderr" >&2; exit 1; }
kill -TERM "$daemon"; wait "$daemon" 2> /dev/null || true; daemon=

fresh=$((runs / 10 < 10 ? 10 : runs / 10))
time_runs "$fresh"
summary "no daemon"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
