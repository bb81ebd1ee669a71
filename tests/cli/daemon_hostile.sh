#!/bin/bash
# The daemon (on this machine, private state directory, managing only processes
# this test starts) against what a local user can throw at it: process names that
# are not UTF-8, garbage, oversized and half-sent requests, 200 idle connections
# of one uid while another uid is answered, another uid's process asked about,
# per-user limits. Runs as root (the uids are switched with run_as_uid). ~15 s.
set -u
. "$(dirname "$0")/linux_lib.bash" "$@"
[ "$(id -u)" = 0 ] || { echo "skip: needs root to act as two users"; exit 77; }

state=$(mktemp -d)
chmod 755 "$state"   # other uids reach the socket below it
mkdir -m 1777 "$state/shared"   # where a test process of another uid leaves word
export AFFINE_STATE_DIR=$state/run   # never the host's /run/affine
conf=$state/daemon.conf
printf 'interval = "200ms"\nmax_workloads_per_user = 2\n' > "$conf"
sock=$AFFINE_STATE_DIR/daemon.sock
nobody=65534
as_nobody() { "$helpers/run_as_uid" "$nobody" "$@"; }
daemon_pid=
start_daemon() {
    # As under systemd: stderr is the journal, so each line carries its priority.
    JOURNAL_STREAM=0:0 "$affine" daemon --config "$conf" >> "$state/daemon.log" 2>&1 &
    daemon_pid=$!
    for _ in $(seq 100); do "$affine" daemon status > /dev/null 2>&1 && return; sleep 0.05; done
}
stop_daemon() {
    if [ -n "$daemon_pid" ]; then kill -TERM "$daemon_pid" 2> /dev/null || true; wait "$daemon_pid" 2> /dev/null || true; fi
    daemon_pid=
}
trap 'stop_daemon; cleanup; rm -rf "$state"' EXIT
alive() { if kill -0 "$daemon_pid" 2> /dev/null; then echo yes; else echo no; fi; }
start_daemon

# Processes that name themselves with bytes that are not UTF-8: the shell writes its
# own comm (a builtin's redirection), then waits for a child, keeping the name (the
# last ':' keeps bash from executing sleep in its place).
start bash -c 'printf "\xff\xfe" > /proc/self/comm; sleep 60; :'
bad_name=$pid
start bash -c 'printf "abcdefghijklmn\xc3\xa9" > /proc/self/comm; sleep 60; :'   # cut inside é at 15 bytes
cut_name=$pid
for _ in $(seq 50); do [ "$(head -c 2 "/proc/$bad_name/comm" | od -An -tx1 | tr -d ' ')" = fffe ] && break; sleep 0.05; done
check_eq comm-is-not-utf8 "fffe" "$(head -c 2 "/proc/$bad_name/comm" | od -An -tx1 | tr -d ' ')"
check_status pin-soft-bad-name 0 "$affine" pin --soft 0 "$bad_name"
check_status pin-soft-cut-name 0 "$affine" pin --soft 0 "$cut_name"
check_status status-with-bad-names 0 "$affine" daemon status
check_has status-escapes-bad-name "$out" "pid $bad_name (\\xff\\xfe)"
check_has status-escapes-cut-name "$out" "pid $cut_name (abcdefghijklmn\\xc3)"
check_status status-json-with-bad-names 0 "$affine" daemon status --json
check_eq status-json-parses "\\xff\\xfe" "$(python3 -c '
import json, sys
for w in json.load(sys.stdin)["workloads"]:
    if w["pid"] == int(sys.argv[1]): print(w["command"])' "$bad_name" <<< "$out")"
check_status show-bad-name 0 "$affine" show "$bad_name"
check_eq daemon-survives-bad-names yes "$(alive)"
check_has journal-holds-escaped-name "$(cat "$AFFINE_STATE_DIR/soft-affinity.json")" '"command": "\\xff\\xfe"'
# A restarted daemon reads that journal and takes both up again.
kill -KILL "$daemon_pid"; wait "$daemon_pid" 2> /dev/null
start_daemon
check_status restart-reads-bad-names 0 "$affine" daemon status
check_has restart-took-up-bad-name "$out" "pid $bad_name (\\xff\\xfe)"
check_eq restart-keeps-mask 0 "$(cpus_allowed "$bad_name")"

# Garbage, oversized and half-sent requests: refused, the daemon answers on.
garbage=$(python3 - "$sock" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(bytes(range(256)).replace(b"\n", b"") + b"\xff\xfe\n")
print(s.recv(65536).decode(errors="replace"))
PY
)
check_has garbage-refused "$garbage" '"error":"request is not JSON"'
check_has oversized-refused "$("$helpers/unix_request" "$sock" --bytes 200000)" 'request longer than 65536 bytes'
check_has bad-utf8-cpus "$("$helpers/unix_request" "$sock" "$(printf '{"op":"set-soft","ids":[1],"cpus":"\xff"}')")" '"ok":false'
half=$(python3 - "$sock" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'{"op":"sta')
t = time.monotonic()
s.settimeout(10)
reply = s.recv(4096).decode()
print(f"{reply.strip()} after {time.monotonic() - t:.1f} s")
PY
)
check_has half-sent-dropped "$half" 'no whole request line within 2000 ms'
check_eq daemon-survives-garbage yes "$(alive)"

# 200 idle connections of one uid (each sends half a request): that uid gets its
# slots and no more, and another uid is answered at once.
# (the script runs as nobody: run_as_uid starts python3 on a file)
cat > "$state/idle.py" <<'PY'
import os, socket, sys, time
conns, refused = [], 0
for _ in range(200):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    conns.append(s)
time.sleep(0.3)
for s in conns:
    s.setblocking(False)
    try:
        if b"connections to the daemon open already" in s.recv(4096):
            refused += 1
            continue
    except BlockingIOError:
        pass
    try:
        s.send(b'{"op":')   # half a request, and silence
    except OSError:
        pass
print(f"refused {refused}", flush=True)
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]): time.sleep(0.05)
PY
as_nobody python3 "$state/idle.py" "$sock" "$state/shared/idle.ready" "$state/shared/idle.release" > "$state/idle.out" &
idle=$!
for _ in $(seq 200); do [ -e "$state/shared/idle.ready" ] && break; sleep 0.05; done
check_eq idle-uid-refused-past-its-slots "refused 192" "$(cat "$state/idle.out")"
timed=$(python3 - "$sock" <<'PY'
import socket, sys, time
t = time.monotonic()
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'{"op":"status"}\n')
reply = b""
while not reply.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk: break
    reply += chunk
ms = (time.monotonic() - t) * 1000
print("answered" if b'"ok":true' in reply else "not answered", "within 100 ms" if ms < 100 else f"in {ms:.0f} ms")
PY
)
check_eq other-uid-answered-at-once "answered within 100 ms" "$timed"
touch "$state/shared/idle.release"; wait "$idle"

# Another uid's process: nobody may not change it, nor see it; status counts it.
check_status nobody-pin-root-process 1 as_nobody "$affine" pin --soft 0 "$bad_name"
check_has nobody-pin-refused "$out" "may not change the affinity"
check_has nobody-show-refused "$(as_nobody "$helpers/unix_request" "$sock" "{\"op\":\"show\",\"ids\":[$bad_name]}")" "may not see pid $bad_name"
nobody_status=$(as_nobody "$helpers/unix_request" "$sock" '{"op":"status"}')
check_eq nobody-status-filtered "0 2" "$(python3 -c '
import json, sys
s = json.loads(sys.stdin.read())["status"]; print(len(s["workloads"]), s["other_users_workloads"])' <<< "$nobody_status")"
check_status root-status-lists-all 0 "$affine" daemon status --json
check_eq root-status-lists-all 2 "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["workloads"]))' <<< "$out")"

# Per-user limits: nobody's own processes, two at most (max_workloads_per_user = 2).
owned=()
for _ in 1 2 3; do
    "$helpers/run_as_uid" "$nobody" sleep 60 > /dev/null 2>&1 &   # (not through a function: $! is sleep)
    started+=("$!"); owned+=("$!")
done
for p in "${owned[@]}"; do
    for _ in $(seq 50); do grep -q "^Uid:[[:space:]]*$nobody[[:space:]]" "/proc/$p/status" && break; sleep 0.05; done
done
check_status nobody-pin-own-1 0 as_nobody "$affine" pin --soft 0 "${owned[0]}"
check_status nobody-pin-own-2 0 as_nobody "$affine" pin --soft 0 "${owned[1]}"
check_status nobody-pin-own-3-refused 1 as_nobody "$affine" pin --soft 0 "${owned[2]}"
check_has per-user-limit-says "$out" "would pass the limit of 2 per user (max_workloads_per_user)"
check_eq per-user-limit-nothing-changed "$(cpus_allowed $$)" "$(cpus_allowed "${owned[2]}")"
nobody_status=$(as_nobody "$helpers/unix_request" "$sock" '{"op":"status"}')
check_eq nobody-status-own-only "2 2" "$(python3 -c '
import json, sys
s = json.loads(sys.stdin.read())["status"]; print(len(s["workloads"]), s["other_users_workloads"])' <<< "$nobody_status")"
check_eq daemon-survives-everything yes "$(alive)"

# A journal that cannot be written: the request is refused, nothing changes, and
# the log says why, as an error (priority 3).
rm -f "$AFFINE_STATE_DIR/soft-affinity.json.lock"
mkdir "$AFFINE_STATE_DIR/soft-affinity.json.lock"   # the journal's lock cannot be opened now
start sleep 60
check_status journal-unwritable-refused 1 "$affine" pin --soft 0 "$pid"
check_has journal-unwritable-says "$out" "nothing changed"
check_eq journal-unwritable-nothing-changed "$(cpus_allowed $$)" "$(cpus_allowed "$pid")"
check_has journal-unwritable-logged-as-error "$(cat "$state/daemon.log")" "<3>error: cannot write the journal"
rmdir "$AFFINE_STATE_DIR/soft-affinity.json.lock"
check_status journal-writable-again 0 "$affine" pin --soft 0 "$pid"
check_has log-priorities-info "$(cat "$state/daemon.log")" "<6>ready: state $AFFINE_STATE_DIR"

stop_daemon
check_eq sigterm-restores "$(cpus_allowed $$)" "$(cpus_allowed "$bad_name")"
finish
