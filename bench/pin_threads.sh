#!/bin/bash
# Benchmark: pin every thread of one 10,000-thread process, affine against
# `taskset -a -p` and `hwloc-bind --pid`, on the same process, in alternating
# runs. Prints the median wall time of each and the ratios. affine also reads every
# thread's mask back (the others do not); after each run the script checks the
# masks itself, outside the timing, so every tool is seen to have done the work.
#
# Usage: bench/pin_threads.sh [AFFINE] [HELPERS_DIR] [THREADS] [RUNS]
#   AFFINE       default build/affine
#   HELPERS_DIR  where many_threads is (default build/tests/helpers)
#   THREADS      default 10000;  RUNS  per tool, default 11
# Needs taskset (util-linux) and hwloc-bind (hwloc) on PATH.
set -euo pipefail

affine=${1:-build/affine}
helpers=${2:-build/tests/helpers}
threads=${3:-10000}
runs=${4:-11}
for tool in taskset hwloc-bind; do
    command -v "$tool" > /dev/null || { echo "pin_threads: $tool not found (apt-get install util-linux hwloc)" >&2; exit 1; }
done

online=$(cat /sys/devices/system/cpu/online)
first=${online%%[-,]*}
last=${online##*[-,]}
[ "$first" != "$last" ] || { echo "pin_threads: needs at least two online CPUs" >&2; exit 1; }

log=$(mktemp)
"$helpers/many_threads" "$threads" > "$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 600); do grep -q ready "$log" && break; sleep 0.1; done
grep -q ready "$log" || { echo "pin_threads: many_threads did not start" >&2; exit 1; }
count=$(ls "/proc/$pid/task" | wc -l)
echo "process $pid with $count threads; $runs runs per tool, alternating; CPUs $first and $last"

now_ns() { date +%s%N; }
# mask_hex CPU: taskset/hwloc-style hex mask of one CPU.
mask_hex() { printf '0x%x' $((1 << $1)); }

run_tool() {  # TOOL CPU
    case $1 in
    affine) "$affine" pin --all-threads "$2" "$pid" > /dev/null ;;
    taskset) taskset -a -p "$(mask_hex "$2")" "$pid" > /dev/null ;;
    hwloc) hwloc-bind --pid "$pid" "$(mask_hex "$2")" ;;
    esac
}

verify() {  # TOOL CPU: every thread must now hold exactly CPU
    local bad
    bad=$(awk -v want="$2" '/^Cpus_allowed_list:/ && $2 != want {n++} END {print n + 0}' /proc/$pid/task/*/status)
    [ "$bad" = 0 ] || echo "pin_threads: after $1, $bad threads do not hold CPU $2" >&2
}

declare -A times
tools=(affine taskset hwloc)
cpu=$first
for ((i = 0; i < runs; i++)); do
    # Rotate the order every run so no tool always follows the same one.
    for ((k = 0; k < ${#tools[@]}; k++)); do
        tool=${tools[$(((i + k) % ${#tools[@]}))]}
        cpu=$([ "$cpu" = "$first" ] && echo "$last" || echo "$first")
        start=$(now_ns)
        run_tool "$tool" "$cpu"
        end=$(now_ns)
        times[$tool]+="$(((end - start) / 1000)) "
        verify "$tool" "$cpu"
    done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
declare -A med
best=
for tool in "${tools[@]}"; do
    med[$tool]=$(echo "${times[$tool]}" | median)
    if [ -z "$best" ] || [ "${med[$tool]}" -lt "${med[$best]}" ]; then best=$tool; fi
done
printf '%-8s %12s %10s\n' tool "median ms" "vs affine"
for tool in "${tools[@]}"; do
    printf '%-8s %12.2f %9.2fx\n' "$tool" "$(echo "${med[$tool]}" | awk '{print $1 / 1000}')" \
        "$(echo "${med[$tool]} ${med[affine]}" | awk '{print $1 / $2}')"
done
echo "fastest: $best (affine verified every thread's mask by reading it back; the others did not)"
