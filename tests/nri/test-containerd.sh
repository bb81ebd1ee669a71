#!/bin/bash
# End to end with the real container runtime, ON THIS MACHINE (not in a QEMU guest):
# containerd 1.7 from Debian 13 with NRI enabled, runc, a locally built busybox image,
# host-network pods driven through CRI as the kubelet drives them, and `affine nri`
# placing the containers. containerd runs in a private mount namespace with its own
# root, state, sockets and NRI socket, and starts only this test's containers (in the
# cgroup /affine-nri-test, removed at the end). Checks, read back from
# /proc/PID/status of the containers' processes:
#   - Cpus_allowed_list and Mems_allowed_list are those the plugin logged;
#   - an exclusive container's CPU is in no other container's cpuset;
#   - a restart of containerd, then of the plugin, changes no placement;
#   - a container created while the plugin is down is placed when it comes back;
#   - stopping the exclusive container gives its CPU back to the shared ones;
#   - a pod with affine/soft: the whole shared pool as cpuset, and its process handed
#     to the affine daemon (private state directory) for soft affinity;
#   - `affine daemon status` (text and JSON) shows each container's placement as its
#     process has it, and why; a stopped plugin takes its decisions with it;
#   - the plugin pre-registered in the runtime's plugin directory (NRI_PLUGIN_SOCKET).
# Usage: test-containerd.sh AFFINE_BINARY KIT_DIR
# Exit 77 (skipped) when not root or with fewer than 2 CPUs; 1 when the runtime cannot be fetched.
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
affine=$(readlink -f "$1")
kit=$(mkdir -p "$2" && cd "$2" && pwd)
[ "$(id -u)" = 0 ] || { echo "skip: needs root (containerd)"; exit 77; }
[ "$(nproc)" -ge 2 ] || { echo "skip: needs 2 CPUs"; exit 77; }
"$here/fetch-kit.sh" "$kit" >/dev/null || { echo "cannot fetch containerd (see above)"; exit 1; }

# The whole test in a private mount namespace: containerd's mounts (rootfs, shm)
# never reach the machine's.
if [ -z "${AFFINE_NRI_PRIVATE:-}" ]; then
    AFFINE_NRI_PRIVATE=1 exec unshare --mount --propagation private "$0" "$@"
fi
# containerd 1.7 keeps its shims' sockets and runc's state under /run/containerd
# whatever its configuration says: a /run of the test's own keeps them off the machine.
mount -t tmpfs -o mode=0755 affine-nri-run /run

bin=$kit/root/usr/bin
work=$(mktemp -d /tmp/affine-nri.XXXXXX)
cgroup=/affine-nri-test
containerd_pid=""
plugin_pid=""
daemon_pid=""
export AFFINE_STATE_DIR=$work/affine-state   # the daemon of this test, never /run/affine
failures=0
cleanup() {
    set +e
    [ -n "$plugin_pid" ] && kill "$plugin_pid" 2>/dev/null && wait "$plugin_pid" 2>/dev/null
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    [ -n "$containerd_pid" ] && cri remove-all 2>/dev/null
    [ -n "$containerd_pid" ] && kill "$containerd_pid" 2>/dev/null && wait "$containerd_pid" 2>/dev/null
    # What is left of the test's containers and their shims, by id: the processes in
    # the test's cgroup (a container's first process is the init of its pid namespace:
    # only SIGKILL reaches it), and the shims of the pid files under $work.
    local pids
    pids=$(cat /sys/fs/cgroup/cpuset$cgroup/*/cgroup.procs /sys/fs/cgroup$cgroup/*/cgroup.procs 2>/dev/null)
    pids+=" $(cat "$work"/state/io.containerd.runtime.v2.task/k8s.io/*/shim.pid 2>/dev/null)"
    for pid in $pids; do kill -9 "$pid" 2>/dev/null; done
    sleep 1
    for c in /sys/fs/cgroup/*$cgroup /sys/fs/cgroup$cgroup; do
        [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
    rm -rf "$work"
}
trap cleanup EXIT

check() {  # check WHAT EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then echo "ok: $1 ($3)"; else echo "FAIL: $1: expected '$2', got '$3'"; failures=$((failures + 1)); fi
}

# CRI's messages for the client, and containerd's configuration.
export CRI_PY_DIR=$work/py CRI_LOG_DIR=$work/logs CRI_CGROUP_PARENT=$cgroup
mkdir -p "$CRI_LOG_DIR" "$work/plugins" "$work/nri-conf.d" "$work/opt"
nri_cri_messages "$kit" "$CRI_PY_DIR"
cri() { /usr/bin/python3 "$here/cri_client.py" "$work/containerd.sock" "$@"; }
nri_containerd_config "$work" "$kit/root/usr/sbin/runc" > "$work/config.toml"

start_containerd() {
    PATH=$bin:$PATH "$bin/containerd" --config "$work/config.toml" >> "$work/containerd.log" 2>&1 &
    containerd_pid=$!
    for _ in $(seq 100); do [ -S "$work/containerd.sock" ] && cri list >/dev/null 2>&1 && return; sleep 0.2; done
    echo "containerd did not start:"; tail -n 30 "$work/containerd.log"; exit 1
}
stop_containerd() {
    kill "$containerd_pid"; wait "$containerd_pid" 2>/dev/null || true; containerd_pid=""
    rm -f "$work/containerd.sock"
}
start_plugin() {
    "$affine" nri --socket "$work/nri.sock" >> "$work/plugin.log" 2>&1 &
    plugin_pid=$!
    for _ in $(seq 100); do grep -q "synchronized" "$work/plugin.log" 2>/dev/null &&
        [ "$(grep -c synchronized "$work/plugin.log")" -ge "${1:-1}" ] && return; sleep 0.2; done
    echo "the plugin did not synchronize:"; cat "$work/plugin.log"; tail -n 20 "$work/containerd.log"; exit 1
}
stop_plugin() { kill "$plugin_pid"; wait "$plugin_pid" 2>/dev/null || true; plugin_pid=""; }

# The image: busybox-static as one layer, an OCI layout imported with ctr.
nri_make_image "$work/image" "$work/image.tar"

start_containerd
"$bin/ctr" -a "$work/containerd.sock" -n k8s.io images import --no-unpack=false "$work/image.tar" >/dev/null
start_plugin 1
grep -q "registered as 90-affine" "$work/plugin.log" && echo "ok: the plugin registered over $work/nri.sock"

minus() {  # minus LIST LIST: the first CPU list without the second, as the kernel prints lists
    /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
def ids(text):
    out = set()
    for part in filter(None, text.split(",")):
        a, _, b = part.partition("-")
        out |= set(range(int(a), int(b or a) + 1))
    return out
left = sorted(ids(sys.argv[1]) - ids(sys.argv[2]))
runs, i = [], 0
while i < len(left):
    j = i
    while j + 1 < len(left) and left[j + 1] == left[j] + 1:
        j += 1
    runs.append(str(left[i]) if i == j else f"{left[i]}-{left[j]}")
    i = j + 1
print(",".join(runs))
PY
}
status_of() { grep "^$2:" "/proc/$(cri pid "$1")/status" | awk '{print $2}'; }
planned() {  # the cpus the plugin's last line about container NAME gave it
    grep -E "container $1: |update container $2: " "$work/plugin.log" | tail -n 1 | sed -E 's/.*cpus ([^ ]*[^ ,])( exclusive)?, mems.*/\1/'
}
run() {  # run NAME SHARES QUOTA MEMORY [annotations]: prints the container id
    cri run "$@" | cut -d' ' -f1
}

# A Guaranteed container of one whole CPU, a best-effort one, a Burstable one.
g=$(run guaranteed 1024 100000 67108864)
b=$(run besteffort 2 0 0)
u=$(run burstable 512 0 134217728)
g_cpus=$(status_of "$g" Cpus_allowed_list)
check "the Guaranteed container has the CPU the plugin logged" "$(planned guaranteed "$g")" "$g_cpus"
check "the Guaranteed container has one CPU" 1 "$(echo "$g_cpus" | tr ',' '\n' | grep -vc -- -)"
online=$(cat /sys/devices/system/cpu/online)
pool=$(minus "$online" "$g_cpus")
for c in "$b" "$u"; do
    check "container ${c:0:12}: Cpus_allowed_list is the shared pool (online CPUs but the exclusive one)" \
        "$pool" "$(status_of "$c" Cpus_allowed_list)"
    check "container ${c:0:12}: Mems_allowed_list" "$(cat /sys/devices/system/node/online)" "$(status_of "$c" Mems_allowed_list)"
done
check "the best-effort container is on the CPUs the plugin logged" "$(planned besteffort "$b")" "$(status_of "$b" Cpus_allowed_list)"
before=$(for c in "$g" "$b" "$u"; do status_of "$c" Cpus_allowed_list; done | tr '\n' ' ')

# A restart of containerd: the plugin reconnects, Synchronize changes nothing.
stop_containerd
start_containerd
for _ in $(seq 50); do [ "$(grep -c synchronized "$work/plugin.log")" -ge 2 ] && break; sleep 0.2; done
check "the plugin reconnected after the runtime restarted" 2 "$(grep -c synchronized "$work/plugin.log")"
check "placement after a containerd restart" "$before" "$(for c in "$g" "$b" "$u"; do status_of "$c" Cpus_allowed_list; done | tr '\n' ' ')"

# The plugin down: a container created now has no placement; back, it is placed.
stop_plugin
l=$(run late 512 0 67108864)
check "created while the plugin is down: not placed" "$online" "$(status_of "$l" Cpus_allowed_list)"
start_plugin 3
check "placement after a plugin restart" "$before" "$(for c in "$g" "$b" "$u"; do status_of "$c" Cpus_allowed_list; done | tr '\n' ' ')"
late_cpus=$(status_of "$l" Cpus_allowed_list)
check "the late container placed on the shared pool when the plugin came back" "$pool" "$late_cpus"

# Stopping the exclusive container gives its CPU back to the shared ones.
cri stop "$g"
sleep 1
check "the shared containers get the freed CPU back" "$online" "$(status_of "$b" Cpus_allowed_list)"

# A soft pod: the whole shared pool as cpuset, its process handed to the daemon.
printf 'interval = "200ms"\n' > "$work/daemon.conf"
"$affine" daemon --config "$work/daemon.conf" > "$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 50); do "$affine" daemon status >/dev/null 2>&1 && break; sleep 0.2; done
s=$(run soft 512 0 67108864 affine/soft=true)
soft_pid=$(cri pid "$s")
check "the soft container has the whole shared pool" "$online" "$(status_of "$s" Cpus_allowed_list)"
for _ in $(seq 25); do grep -q "pid $soft_pid): the daemon keeps" "$work/plugin.log" && break; sleep 0.2; done
check "the plugin handed the soft container to the daemon" 1 "$(grep -c "pid $soft_pid): the daemon keeps its threads softly" "$work/plugin.log")"
check "the daemon manages the soft container's process" yes \
    "$("$affine" daemon status 2>&1 | grep -qw "$soft_pid" && echo yes || echo no)"
# The plugin's decisions in `affine daemon status`: each container where its process is, and why.
status_text=$("$affine" daemon status)
check "daemon status lists the plugin's containers" 1 \
    "$(grep -c "^containers placed by affine nri (pid $plugin_pid): 4$" <<< "$status_text")"
check "daemon status says why the soft container has the pool" 1 \
    "$(grep -c "^  default/soft container soft (${s:0:12}): nodes [0-9-]*, cpus $online, mems [0-9-]*: soft: " <<< "$status_text")"
status_json=$("$affine" daemon status --json)
for c in "$b" "$u" "$l" "$s"; do
    check "daemon status --json: container ${c:0:12} has the CPUs its process has" "$(status_of "$c" Cpus_allowed_list)" \
        "$(minus "$(/usr/bin/python3 -c 'import json, sys
print(",".join(str(i) for c in json.load(sys.stdin)["nri"]["containers"] if c["id"] == sys.argv[1] for i in c["cpus"]))' \
            "$c" <<< "$status_json")" "")"
done
kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true; daemon_pid=""

# Pre-registered: the runtime launches the plugin from its plugin directory.
stop_plugin
check "a stopped plugin leaves no decisions behind" no "$([ -e "$AFFINE_STATE_DIR/nri.json" ] && echo yes || echo no)"
stop_containerd
printf '#!/bin/sh\nexec %s nri 2>>%s\n' "$affine" "$work/preregistered.log" > "$work/plugins/10-affine"
chmod +x "$work/plugins/10-affine"
start_containerd
for _ in $(seq 50); do grep -q synchronized "$work/preregistered.log" 2>/dev/null && break; sleep 0.2; done
check "the pre-registered plugin registered" 1 "$(grep -c 'registered as 10-affine' "$work/preregistered.log" 2>/dev/null || true)"
check "placement with the pre-registered plugin" "$online" "$(status_of "$l" Cpus_allowed_list)"

echo "--- plugin log"; cat "$work/plugin.log" "$work/preregistered.log" 2>/dev/null
[ "$failures" = 0 ] || { echo "$failures check(s) failed"; tail -n 40 "$work/containerd.log"; exit 1; }
echo "all checks passed"
