# Scenario: `affine nri` places the containers of the real containerd 1.7 (runc,
# cgroup v2 with the cpuset controller) on 2 nodes (CPUs 0-1 and 2-3). Checked on
# /proc/PID/status of each container's process: its Cpus_allowed_list and
# Mems_allowed_list are what the plugin logged; a container on node 1 has node 1's
# shared CPUs and memory node 1 only; containers on different nodes have different
# mems; the exclusive container's CPU is in no other container's cpuset; a restart of
# the plugin (Synchronize) changes no placement, and a container created while it was
# down gets its node's CPUs and memory node in place when it is back.
. /lib/linux-common.sh
work=/run/nri
mkdir -p /run && mount -t tmpfs tmpfs /run
mkdir -p "$work/logs" "$work/plugins" "$work/nri-conf.d" "$work/opt"
echo "+cpuset +cpu +memory +pids" > /sys/fs/cgroup/cgroup.subtree_control
printf '127.0.0.1 localhost\n' > /etc/hosts
: > /etc/resolv.conf
export CRI_PY_DIR=/lib/nri/py CRI_LOG_DIR=$work/logs
cri() { python3 /lib/nri/cri_client.py "$work/containerd.sock" "$@"; }
t() { echo "nri: $* t=$(uptime_s)"; }

containerd --config /etc/nri/config.toml > "$work/containerd.log" 2>&1 &
i=0
until [ -S "$work/containerd.sock" ] && cri list > /dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -lt 300 ] || { fail containerd-start "$(tail -n 20 "$work/containerd.log")"; exit 1; }
    sleep 0.2
done
t "containerd up"
check_cmd image-import ctr -a "$work/containerd.sock" -n k8s.io images import --no-unpack=false /lib/nri/image.tar
affine nri --socket "$work/nri.sock" > "$work/plugin.log" 2>&1 &
plugin=$!
wait_for "$work/plugin.log" synchronized || { fail plugin-start "$(cat "$work/plugin.log")"; exit 1; }
check_contains plugin-registered "$(cat "$work/plugin.log")" "registered as 90-affine"
t "plugin up"

# A Guaranteed container of one whole CPU, a Burstable one of 2 CPUs (limit), a
# Burstable one of 1 CPU, a best-effort one.
run() {  # run NAME SHARES QUOTA MEMORY: the container's id and pid in $id and $pid
    # shellcheck disable=SC2046  # the two words of the answer
    set -- $(cri run "$@")
    id=$1 pid=$2
}
run guaranteed 1024 100000 67108864; g=$id; g_pid=$pid
run wide 512 200000 134217728; w=$id; w_pid=$pid
run narrow 512 0 67108864; n=$id; n_pid=$pid
run besteffort 2 0 0; b=$id; b_pid=$pid
t "4 containers running"

status_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# The plugin's last word on a container: "CPUS MEMS" (its creation line, or an update).
logged() {
    grep -E "container $1: |update container $2: " "$work/plugin.log" | tail -n 1 |
        sed -E 's/.*cpus ([^ ,]*)( exclusive)?, mems ([^ :]*).*/\1 \3/'
}
# The nodes the plugin chose for a container (its creation line).
nodes_of() { grep "container $1: nodes" "$work/plugin.log" | tail -n 1 | sed -E 's/.*: nodes ([^,]*),.*/\1/'; }
# A kernel list as sorted numbers, one a line; set operations over those.
expand() { echo "$1" | tr ',' '\n' | while IFS=- read -r a z; do [ -n "$a" ] && seq "$a" "${z:-$a}"; done | sort -n; }
as_list() { expand "$1" | tr '\n' ' ' | sed 's/ $//'; }
minus() { expand "$2" > /tmp/minus.b; expand "$1" | grep -vxF -f /tmp/minus.b | tr '\n' ' ' | sed 's/ $//'; }
node_cpus() { for _n in $(expand "$1"); do cat "/sys/devices/system/node/node$_n/cpulist"; done | tr '\n' ',' | sed 's/,$//'; }

g_cpus=$(status_of "$g_pid" Cpus_allowed_list)
check_eq guaranteed-one-cpu 1 "$(expand "$g_cpus" | wc -l)"
expand "$g_cpus" > /tmp/exclusive
placements=""
node1=0
for c in guaranteed:$g:$g_pid wide:$w:$w_pid narrow:$n:$n_pid besteffort:$b:$b_pid; do
    name=${c%%:*} rest=${c#*:}
    id=${rest%%:*} pid=${rest#*:}
    cpus=$(status_of "$pid" Cpus_allowed_list)
    mems=$(status_of "$pid" Mems_allowed_list)
    # shellcheck disable=SC2046  # CPUS MEMS
    set -- $(logged "$name" "$id")
    check_eq "$name-cpus-as-logged" "$(as_list "$1")" "$(as_list "$cpus")"
    check_eq "$name-mems-as-logged" "$(as_list "$2")" "$(as_list "$mems")"
    nodes=$(nodes_of "$name")
    check_eq "$name-mems-are-its-nodes" "$(as_list "$nodes")" "$(as_list "$mems")"
    if [ "$name" != guaranteed ]; then
        # A shared container: its nodes' CPUs but the exclusive one, never the exclusive one.
        check_eq "$name-cpus-are-its-nodes-shared-cpus" "$(minus "$(node_cpus "$nodes")" "$g_cpus")" "$(as_list "$cpus")"
        check_eq "$name-not-on-the-exclusive-cpu" "" "$(expand "$cpus" | grep -xF -f /tmp/exclusive || true)"
    else
        check_eq guaranteed-cpu-on-its-node "" "$(minus "$cpus" "$(node_cpus "$nodes")")"
    fi
    [ "$mems" = 1 ] && [ "$(as_list "$cpus")" = "$(minus "$(node_cpus 1)" "$g_cpus")" ] && node1=$((node1 + 1))
    placements="$placements $name=$cpus/$mems"
done
echo "nri: placements:$placements"
if [ "$node1" -ge 1 ]; then pass a-container-on-node-1
else fail a-container-on-node-1 "none with mems 1 and node 1's CPUs:$placements"; fi
check_eq containers-on-both-nodes 2 "$(for p in $placements; do echo "${p#*/}"; done | sort -u | wc -l)"
# The cgroup's own view: cpuset.mems.effective of a container on node 1.
for pid in $w_pid $n_pid $b_pid; do
    [ "$(status_of "$pid" Mems_allowed_list)" = 1 ] || continue
    cg=$(cut -d: -f3 "/proc/$pid/cgroup")
    check_file_eq node-1-cgroup-cpuset-mems "/sys/fs/cgroup$cg/cpuset.mems.effective" 1
    break
done

# The plugin down: a container created now gets every CPU and node. Back, the plugin
# keeps every placement (Synchronize) and places the new one, mems included, in place.
placements_now() { for p in $g_pid $w_pid $n_pid $b_pid; do echo "$(status_of "$p" Cpus_allowed_list)/$(status_of "$p" Mems_allowed_list)"; done | tr '\n' ' '; }
before=$(placements_now)
kill "$plugin"; wait "$plugin" 2>/dev/null
run late 512 0 67108864; l=$id; l_pid=$pid
check_eq late-unplaced-cpus "$(cat /sys/devices/system/cpu/online)" "$(status_of "$l_pid" Cpus_allowed_list)"
check_eq late-unplaced-mems 0-1 "$(status_of "$l_pid" Mems_allowed_list)"
affine nri --socket "$work/nri.sock" >> "$work/plugin.log" 2>&1 &
plugin=$!
i=0
until [ "$(grep -c synchronized "$work/plugin.log")" -ge 2 ]; do
    i=$((i + 1)); [ "$i" -lt 200 ] || break; sleep 0.1
done
check_eq plugin-resynchronized 2 "$(grep -c synchronized "$work/plugin.log")"
check_eq placement-after-plugin-restart "$before" "$(placements_now)"
sleep 1  # the runtime applies Synchronize's updates after the answer
late=$(status_of "$l_pid" Cpus_allowed_list)/$(status_of "$l_pid" Mems_allowed_list)
# shellcheck disable=SC2046  # CPUS MEMS
set -- $(logged late "$l")
check_eq late-placed-as-logged "$1/$2" "$late"
check_eq late-placed-on-one-node 1 "$(expand "$2" | wc -l)"
check_eq late-not-on-the-exclusive-cpu "" "$(expand "$1" | grep -xF -f /tmp/exclusive || true)"
t "checked"

kill "$plugin"; wait "$plugin" 2>/dev/null
cri remove-all > /dev/null 2>&1 || true
echo "--- plugin log"; cat "$work/plugin.log"
