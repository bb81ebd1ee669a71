#!/bin/bash
# affine daemon on this machine, with a private state directory, managing only
# processes this test starts: systemd readiness, one instance, pin/run --soft,
# status and show, a release, bad requests, reload, SIGTERM and kill -9. ~10 s.
set -u
. "$(dirname "$0")/linux_lib.bash" "$@"

state=$(mktemp -d)
export AFFINE_STATE_DIR=$state/run   # never the host's /run/affine
conf=$state/daemon.conf
printf 'interval = "200ms"\n' > "$conf"
daemon_pid=
stop_daemon() {
    if [ -n "$daemon_pid" ]; then kill -TERM "$daemon_pid" 2> /dev/null || true; wait "$daemon_pid" 2> /dev/null || true; fi
    daemon_pid=
}
trap 'stop_daemon; cleanup; rm -rf "$state"' EXIT

# Without a daemon: exit 1 and how to start one.
start sleep 60
check_status pin-soft-without-daemon 1 "$affine" pin --soft 0 "$pid"
check_has pin-soft-without-daemon-says-how "$out" "no affine daemon runs"
check_has pin-soft-without-daemon-says-how "$out" "affine daemon --state-dir $AFFINE_STATE_DIR"
check_status run-soft-without-daemon 1 "$affine" run --soft 0 -- true
check_status daemon-status-without-daemon 1 "$affine" daemon status

# A bad configuration is refused with its line.
printf 'interval = "200ms"\non_stop = "sometimes"\n' > "$state/bad.conf"
check_status daemon-bad-config 2 "$affine" daemon --config "$state/bad.conf"
check_has daemon-bad-config-line "$out" "bad.conf:2: on_stop = \"sometimes\""

# READY=1 over $NOTIFY_SOCKET once it has reconciled (libsystemd's sd_notify).
notify=$state/notify.sock
python3 - "$notify" > "$state/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
try:
    while True:
        msg = s.recv(4096).decode()
        print(msg.replace("\n", " "), flush=True)
        if "READY=1" in msg:
            break
except socket.timeout:
    pass
PY
listener=$!
for _ in $(seq 50); do [ -S "$notify" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$notify "$affine" daemon --config "$conf" > "$state/daemon.log" 2>&1 &
daemon_pid=$!
wait "$listener"
check_has daemon-ready-notified "$(cat "$state/notify.log")" "READY=1"
check_has daemon-status-notified "$(cat "$state/notify.log")" "STATUS=managing 0 threads"
check_status daemon-one-instance 1 "$affine" daemon --config "$conf"
check_has daemon-one-instance-says "$out" "another affine daemon runs on this host (pid $daemon_pid"
check_eq state-dir-mode 755 "$(stat -c %a "$AFFINE_STATE_DIR")"
check_eq socket-mode 666 "$(stat -c %a "$AFFINE_STATE_DIR/daemon.sock")"

# pin --soft: home on CPU 0 (this machine's CPUs are one node: CPU 0 is the soft set).
before=$(cpus_allowed "$pid")
check_status pin-soft 0 "$affine" pin --soft 0 "$pid"
check_has pin-soft-output "$out" "soft CPUs 0"
check_eq pin-soft-applied 0 "$(cpus_allowed "$pid")"
check_eq journal-mode 600 "$(stat -c %a "$AFFINE_STATE_DIR/soft-affinity.json")"
check_status daemon-status 0 "$affine" daemon status
check_has daemon-status-lists "$out" "pid $pid (sleep)"
check_status daemon-status-json 0 "$affine" daemon status --json
check_eq daemon-status-json-applied '[0]' "$(python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["workloads"][0]["threads"][0]["applied"]))' <<< "$out")"
# The status follows the one JSON schema of every --json output (docs/output.schema.json).
schema=$(cd "$(dirname "$0")/../../docs" && pwd)/output.schema.json
# schema_verdict DEF: "ok" when $out is valid against the schema's definition DEF.
schema_verdict() {
    /usr/bin/python3 -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft202012Validator({"$ref": "#/$defs/" + sys.argv[2], "$defs": schema["$defs"]})
errors = list(v.iter_errors(json.load(sys.stdin)))
print("ok" if not errors else errors[0].message)' "$schema" "$1" <<< "$out" 2>&1
}
check_eq daemon-status-json-schema ok "$(schema_verdict daemon_status)"
check_status show-json-with-soft 0 "$affine" show "$pid" --json
check_eq show-json-with-soft-schema ok "$(schema_verdict process)"
check_status show-asks-daemon 0 "$affine" show "$pid"
check_has show-soft "$out" "soft affinity (managed by the affine daemon)"

# Someone else changes the mask: released, left as set.
taskset -p 2 "$pid" > /dev/null
# The daemon reads the masks of managed threads at rest every 10 s.
for _ in $(seq 1 150); do
    grep -q "release pid $pid" "$state/daemon.log" && break
    sleep 0.1
done
check_eq released-left-alone 1 "$(cpus_allowed "$pid")"
check_has released-logged "$(cat "$state/daemon.log")" "release pid $pid (sleep): its mask was changed to CPUs 1 by someone else"
check_status released-in-status 0 "$affine" daemon status
check_has released-in-status "$out" "recent releases:"

# Bad requests on the socket, straight.
sock=$AFFINE_STATE_DIR/daemon.sock
check_has socket-not-json "$("$helpers/unix_request" "$sock" '{"op":')" '"error":"request is not JSON"'
check_has socket-unknown-op "$("$helpers/unix_request" "$sock" '{"op":"kill"}')" 'unknown op'
check_has socket-oversized "$("$helpers/unix_request" "$sock" --bytes 200000)" 'request longer than 65536 bytes'
check_has socket-survives "$("$helpers/unix_request" "$sock" '{"op":"status"}')" '"ok":true'

# Reload: a bad file is refused and the running configuration stays.
printf 'interval = "1s"\nbogus = 1\n' > "$conf"
check_status reload-bad 1 "$affine" daemon reload
check_has reload-bad-line "$out" "daemon.conf:2: unknown key bogus"
printf 'interval = "250ms"\n' > "$conf"
check_status reload-good 0 "$affine" daemon reload
kill -HUP "$daemon_pid"
sleep 0.3
check_has reload-sighup "$(cat "$state/daemon.log")" "SIGHUP: reloading"

# run --soft: the command starts already managed (it waited for the daemon).
out=$("$affine" run --soft 1 -- grep Cpus_allowed_list /proc/self/status 2>&1)
check_has run-soft-mask "$out" "Cpus_allowed_list:	1"
check_has run-soft-says "$out" "soft CPUs 1 through the daemon"
# Hard and soft together: soft CPU 0 within hard CPUs 0-1.
out=$("$affine" run --soft 0 --cpus 0-1 -- grep Cpus_allowed_list /proc/self/status 2>&1)
check_has run-soft-in-hard-mask "$out" "Cpus_allowed_list:	0"
check_status run-soft-outside-hard 2 "$affine" run --soft 1 --cpus 0 -- true
check_has run-soft-outside-hard-says "$out" "lies outside --cpus 0"

# A hard pin of a thread with soft affinity ends the soft request, and says so.
start sleep 60
"$affine" pin --soft 0 "$pid" > /dev/null
check_status pin-ends-soft 0 "$affine" pin 1 "$pid"
check_has pin-ends-soft-says "$out" "pid $pid (sleep): its soft affinity (CPUs 0, through the daemon) ended: a hard pin replaces it"
check_eq pin-ends-soft-mask 1 "$(cpus_allowed "$pid")"
check_status pin-ends-soft-status 0 "$affine" daemon status
case "$out" in *"pid $pid (sleep)"*) bad pin-ends-soft-not-managed "$out" ;; *) ok pin-ends-soft-not-managed ;; esac
# No daemon for this state directory: the hint names it, not the system service.
check_status no-daemon-hint 1 env AFFINE_STATE_DIR="$state/none" "$affine" daemon status
check_has no-daemon-hint-says "$out" "affine daemon --state-dir $state/none"

# The containers affine nri recorded (its nri.json): shown with the daemon's status;
# a plugin that is gone is said; a file that is not such a status is warned about and
# the rest of the status still printed.
nri_json() {  # PLUGIN_PID [PLUGIN_START_TIME]
    printf '{"plugin_pid": %s,%s "containers": [{"id": "0123456789abcdef", "pod": "default/web", "name": "app", "mode": "aligned", "nodes": [0], "cpus": [0], "mems": [0], "why": "test"}]}\n' \
        "$1" "${2:+ \"plugin_start_time\": $2,}" > "$AFFINE_STATE_DIR/nri.json"
}
start_time() { awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$1/stat"; }  # field 22
nri_json "$daemon_pid" "$(start_time "$daemon_pid")"   # that process: running
check_status nri-status-start 0 "$affine" daemon status
check_has nri-status-start-says "$out" "containers placed by affine nri (pid $daemon_pid): 1"
# The pid of a plugin that is gone, reused by another process (even an affine one):
# its start time is not the plugin's.
nri_json "$daemon_pid" "$(($(start_time "$daemon_pid") + 1))"
check_status nri-status-reused 0 "$affine" daemon status
check_has nri-status-reused-says "$out" "containers placed by affine nri (pid $daemon_pid, not running: as it last recorded them): 1"
nri_json "$daemon_pid"   # no start time (an earlier affine's file): an affine process, running
check_status nri-status 0 "$affine" daemon status
check_has nri-status-says "$out" "containers placed by affine nri (pid $daemon_pid): 1"
check_has nri-status-container "$out" "default/web container app (0123456789ab): nodes 0, cpus 0, mems 0: test"
check_status nri-status-json 0 "$affine" daemon status --json=compact
check_has nri-status-json-running "$out" '"plugin_running":true'
start sleep 60
dead=$pid; kill -KILL "$dead"; wait "$dead" 2> /dev/null
nri_json "$dead"
check_status nri-status-gone 0 "$affine" daemon status
check_has nri-status-gone-says "$out" "containers placed by affine nri (pid $dead, not running: as it last recorded them): 1"
check_status nri-status-gone-json 0 "$affine" daemon status --json=compact
check_has nri-status-gone-json-says "$out" '"plugin_running":false'
# A user may not read root's file (the plugin's is root's, mode 0600): no containers,
# and no warning either.
chmod 600 "$AFFINE_STATE_DIR/nri.json"
chmod 755 "$state"   # mktemp's 0700 would keep that user from the socket
check_status nri-status-other-user 0 "$helpers/run_as_uid" 65534 "$affine" daemon status
case "$out" in *"containers placed"* | *warning*) bad nri-status-other-user-sees-none "$out" ;; *) ok nri-status-other-user-sees-none ;; esac
printf '{"plugin_pid": "x"' > "$AFFINE_STATE_DIR/nri.json"
check_status nri-status-bad 0 "$affine" daemon status
check_has nri-status-bad-warns "$out" "affine: warning: containers placed by affine nri not shown: $AFFINE_STATE_DIR/nri.json"
check_has nri-status-bad-rest "$out" "affine daemon pid $daemon_pid"
rm -f "$AFFINE_STATE_DIR/nri.json"

# kill -9 and a new start: the request is taken up again.
start sleep 60
"$affine" pin --soft 1 "$pid" > /dev/null
kill -KILL "$daemon_pid"; wait "$daemon_pid" 2> /dev/null
"$affine" daemon --config "$conf" >> "$state/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 50); do "$affine" daemon status > /dev/null 2>&1 && break; sleep 0.1; done
check_status restart-takes-up 0 "$affine" daemon status
check_has restart-takes-up "$out" "pid $pid (sleep)"
check_eq restart-keeps-mask 1 "$(cpus_allowed "$pid")"

# SIGTERM restores what it changed.
kill -TERM "$daemon_pid"
rc=0; wait "$daemon_pid" || rc=$?
daemon_pid=
check_eq sigterm-exit 0 "$rc"
check_eq sigterm-restores "$before" "$(cpus_allowed "$pid")"
check_has sigterm-logged "$(cat "$state/daemon.log")" "stopping: 1 thread restored"
finish
