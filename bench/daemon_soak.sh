#!/bin/bash
# Soak: the daemon built with AddressSanitizer and UndefinedBehaviorSanitizer, on
# this machine with a private state directory, managing only processes this script
# starts (1,000 threads of one process, plus processes that come and go), asked
# for its status, sent garbage and half-sent requests, and given and relieved of
# requests, for DURATION seconds (default 600). Prints RSS and open descriptors of
# the daemon at start and end, the requests answered, the p99 latency of
# `status`; fails when a sanitizer reports, the daemon dies, or a mask is left
# changed after SIGTERM.
#
# Usage: bench/daemon_soak.sh [DURATION] [BUILD_ASAN_DIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(dirname "$here")
duration=${1:-600}
build=${2:-$src/build-asan}
if [ ! -f "$build/build.ninja" ]; then
    launcher=()
    command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAFFINE_SANITIZE=ON -DAFFINE_BENCH=OFF "${launcher[@]}" > /dev/null
fi
cmake --build "$build" --target affine_cli many_threads > /dev/null
affine=$build/affine
helpers=$build/tests/helpers

state=$(mktemp -d)
export AFFINE_STATE_DIR=$state/run   # never the host's /run/affine
printf 'interval = "200ms"\n' > "$state/daemon.conf"
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
    wait 2> /dev/null || true
    rm -rf "$state"
}
trap cleanup EXIT

ASAN_OPTIONS=detect_leaks=1:exitcode=86 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87 \
    "$affine" daemon --config "$state/daemon.conf" > "$state/daemon.log" 2>&1 &
daemon=$!
pids+=("$daemon")
for _ in $(seq 200); do "$affine" daemon status > /dev/null 2>&1 && break; sleep 0.1; done

"$helpers/many_threads" 1000 > "$state/threads.out" &
threads=$!
pids+=("$threads")
for _ in $(seq 200); do grep -q ready "$state/threads.out" 2> /dev/null && break; sleep 0.1; done
original=$(awk '/^Cpus_allowed_list:/{print $2}' "/proc/$threads/status")
"$affine" pin --soft 0 --all-threads "$threads" > /dev/null

measure() {  # RSS_KB FDS of the daemon
    echo "$(awk '/^VmRSS:/{print $2}' "/proc/$daemon/status") $(ls "/proc/$daemon/fd" | wc -l)"
}
read -r rss_start fds_start <<< "$(measure)"

python3 - "$AFFINE_STATE_DIR/daemon.sock" "$duration" "$affine" > "$state/soak.out" <<'PY'
import socket, subprocess, sys, time
sock, duration, affine = sys.argv[1], float(sys.argv[2]), sys.argv[3]

def ask(payload, timeout=10):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(sock)
    s.sendall(payload)
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        reply += chunk
    s.close()
    return reply

latencies, answered, refused, churn = [], 0, 0, []
end = time.monotonic() + duration
i = 0
while time.monotonic() < end:
    i += 1
    t = time.monotonic()
    if b'"ok":true' in ask(b'{"op":"status"}\n'):
        answered += 1
        latencies.append(time.monotonic() - t)
    if b'"ok":false' in ask(b'\xff\xfe garbage\n'):
        refused += 1
    if i % 10 == 0:  # a half-sent request, left behind
        s = socket.socket(socket.AF_UNIX); s.connect(sock); s.sendall(b'{"op":"sta'); churn.append(s)
        while len(churn) > 4:
            churn.pop(0).close()
    if i % 5 == 0:  # a process that comes, is managed, and goes
        p = subprocess.Popen(["sleep", "30"])
        subprocess.run([affine, "pin", "--soft", "0", str(p.pid)], capture_output=True)
        if i % 15 == 0:
            subprocess.run([affine, "pin", "--soft", "all", str(p.pid)], capture_output=True)
        p.kill(); p.wait()
    time.sleep(0.05)
latencies.sort()
p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
print(f"answered {answered} refused {refused} p99_ms {p99:.1f}")
PY
read -r rss_end fds_end <<< "$(measure)"
read -r _ answered _ refused _ p99 < "$state/soak.out"

kill -TERM "$daemon"
rc=0
wait "$daemon" || rc=$?
restored=$(awk '/^Cpus_allowed_list:/{print $2}' "/proc/$threads/status")
printf '%-40s %s\n' "duration_s" "$duration" \
    "managed_threads" "1000" \
    "daemon_rss_kb_start" "$rss_start" "daemon_rss_kb_end" "$rss_end" \
    "daemon_fds_start" "$fds_start" "daemon_fds_end" "$fds_end" \
    "status_answered" "$answered" "garbage_refused" "$refused" "status_p99_ms" "$p99" \
    "daemon_exit_status" "$rc"
fail=0
[ "$rc" = 0 ] || { echo "the daemon exited $rc (86: ASan, 87: UBSan):"; tail -n 40 "$state/daemon.log"; fail=1; }
[ "$restored" = "$original" ] || { echo "mask of the managed process left at $restored (was $original)"; fail=1; }
exit "$fail"
