#!/bin/bash
# Benchmark: how fast the affine daemon's soft affinity reacts on this machine. A
# CPU-bound job prefers CPU 0 (`affine run --soft 0`); each round a hog pinned to
# CPU 0 starts (both started from this shell, so in one cgroup), and the time to
# the job's mask widening to every CPU is measured; two seconds later the hog
# stops, and the time to the job's mask being CPU 0 again is measured. The mask
# is read from /proc/PID/status every 5 ms. The daemon runs the shipped
# configuration (every key at its default) with a private state directory
# (AFFINE_STATE_DIR) and manages only the benchmark's own processes. Rounds are
# 35 s apart (past flap_window: no back-off). Prints one line per round.
# Run it when the machine is otherwise idle (see `uptime`): the job can widen
# only to a CPU that has room.
#
# Usage: bench/daemon_reaction.sh [AFFINE] [ROUNDS]   (default build/affine, 3)
set -euo pipefail

affine=$(readlink -f "${1:-build/affine}")
rounds=${2:-3}
command -v python3 > /dev/null || { echo "bench/daemon_reaction.sh: python3 is missing" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "bench/daemon_reaction.sh: needs 2 CPUs or more (the job widens to another)" >&2; exit 1; }

# shellcheck source=lib/private_daemon.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/private_daemon.sh"
job=
hog=
stop_own() { for p in $hog $job; do kill "$p" 2> /dev/null || true; done; }
start_daemon "$affine"

# until_mask PID LIST SINCE: seconds from SINCE (date +%s.%N) until the task's
# Cpus_allowed_list is LIST.
until_mask() {
    python3 - "$1" "$2" "$3" << 'PY'
import sys, time
pid, want, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
while time.time() - start < 60:
    with open(f"/proc/{pid}/status") as f:
        mask = next(l.split()[1] for l in f if l.startswith("Cpus_allowed_list:"))
    if mask == want:
        print(f"{time.time() - start:.3f}")
        sys.exit(0)
    time.sleep(0.005)
print("timeout")
PY
}

online=$(cat /sys/devices/system/cpu/online)
"$affine" run --soft 0 -- sh -c 'while :; do :; done' > /dev/null 2>&1 &
job=$!
sleep 2
echo "affine daemon pid $daemon, job pid $job (soft CPU 0), load: $(cut -d' ' -f1-3 /proc/loadavg), CPUs $online"
printf '%-6s %32s %32s\n' round "hog on CPU 0 to widened: s" "hog gone to home again: s"
for round in $(seq "$rounds"); do
    since=$(date +%s.%N)
    taskset -c 0 sh -c 'while :; do :; done' &
    hog=$!
    widen=$(until_mask "$job" "$online" "$since")
    sleep 2
    since=$(date +%s.%N)
    kill "$hog"
    wait "$hog" 2> /dev/null || true
    hog=
    home=$(until_mask "$job" 0 "$since")
    printf '%-6s %32s %32s\n' "$round" "$widen" "$home"
    [ "$round" = "$rounds" ] || sleep 35
done
