#!/bin/bash
# Benchmark: the affine daemon's CPU time per minute on this machine, managing N
# idle threads of one process the benchmark starts (`affine pin --soft CPU
# --all-threads`), with the shipped configuration; then the same with a busy hog
# pinned to the threads' home CPU, started from the same shell (so in the threads'
# cgroup). The daemon runs with a private state directory (AFFINE_STATE_DIR) and
# manages only the benchmark's own processes. Prints one line per count.
# Run it when the machine is otherwise idle (see `uptime`): the figures are the
# daemon's own CPU time, but a loaded machine stretches every system call.
#
# Usage: bench/daemon_cost.sh [AFFINE] [HELPERS_DIR] [SECONDS] [COUNTS...]
#   AFFINE       default build/affine
#   HELPERS_DIR  where many_threads is (default build/tests/helpers)
#   SECONDS      measured per figure, default 30
#   COUNTS       managed idle threads, default 1000 3000 5000 10000
set -euo pipefail

affine=$(readlink -f "${1:-build/affine}")
helpers=$(readlink -f "${2:-build/tests/helpers}")
window=${3:-30}
shift $(($# < 3 ? $# : 3))
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000 3000 5000 10000)

# shellcheck source=lib/private_daemon.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/private_daemon.sh"
threads=
hog=
stop_own() { for p in $hog $threads; do kill "$p" 2> /dev/null || true; done; }
start_daemon "$affine"

ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }  # utime + stime
per_minute() {  # TICKS_BEFORE
    awk -v t="$(($(ticks "$daemon") - $1))" -v hz="$(getconf CLK_TCK)" -v w="$window" \
        'BEGIN { printf "%.3f", t / hz * 60 / w }'
}
managed() { "$affine" daemon status --json | grep -o '"tid"' | wc -l; }

online=$(cat /sys/devices/system/cpu/online)
home=${online%%[-,]*}
echo "affine daemon pid $daemon, load: $(cut -d' ' -f1-3 /proc/loadavg), ${window} s per figure, home CPU $home"
printf '%-16s %28s %28s\n' "managed threads" "idle: CPU-s per minute" "hog at home: CPU-s per minute"
for n in "${counts[@]}"; do
    "$helpers/many_threads" "$((n - 1))" > "$work/threads.log" &
    threads=$!
    for _ in $(seq 600); do grep -q ready "$work/threads.log" && break; sleep 0.1; done
    "$affine" pin --soft "$home" --all-threads "$threads" > /dev/null
    got=$(managed)
    sleep 3  # past the first readings of the new threads
    before=$(ticks "$daemon")
    sleep "$window"
    idle=$(per_minute "$before")
    sh -c 'while :; do :; done' &
    hog=$!
    taskset -p -c "$home" "$hog" > /dev/null
    sleep 3
    before=$(ticks "$daemon")
    sleep "$window"
    busy=$(per_minute "$before")
    kill "$hog" 2> /dev/null || true
    hog=
    kill "$threads" 2> /dev/null || true
    wait "$threads" 2> /dev/null || true
    threads=
    printf '%-16s %28s %28s\n' "$got" "$idle" "$busy"
    sleep 3  # the daemon notices the exit
done
