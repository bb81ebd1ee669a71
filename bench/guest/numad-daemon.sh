# Benchmark guest (busybox sh) for bench/numad_daemon.sh: the affine daemon and
# Debian's numad, one after the other in the same 4-node guest, on the same
# workloads: two CPU-bound processes of 400 MB whose memory starts interleaved over
# the 4 nodes (numad manages a process of 300 MB and half a CPU or more; the affine
# daemon, with its shipped numad-like rule enabled, the same). Prints "BENCH daemon
# key value" lines; figures, not assertions.
. /lib/linux-common.sh

mkdir -p /run /var/run /var/log /etc/affine
cp /bin/touch_memory /bin/busy_mem
window=60
per_min() { awk -v t="$(($(cpu_ticks "$1") - $2))" -v w="$3" 'BEGIN { printf "%.3f", t / 100 * 60 / w }'; }
vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
all_cpus=$(cat /sys/devices/system/cpu/online)

# phase NAME START_COMMAND STOP_COMMAND PID_COMMAND
phase() {
    name=$1
    eval "$2"
    sleep 3
    daemon=$(eval "$4")
    if [ -z "$daemon" ] || [ ! -d "/proc/$daemon" ]; then fail "$name-start" "no daemon: $(tail -5 "/tmp/$name.log" 2>&1)"; return; fi
    # Idle: the daemon's own cost with nothing to do.
    before=$(cpu_ticks "$daemon")
    sleep 30
    echo "BENCH $name idle_cpu_s_per_min $(per_min "$daemon" "$before" 30)"

    # Reaction: from the start of the workloads to each one's mask on a subset of the
    # nodes and at least 90% of its pages there.
    moved_before=$(vmstat pgmigrate_success)
    balancing_before=$(vmstat numa_pages_migrated)
    before=$(cpu_ticks "$daemon")
    t0=$(uptime_s)
    w=""
    for i in 1 2; do
        numactl --interleave=all busy_mem 400 spin > "/tmp/w$i.log" 2>&1 &
        w="$w $!"
    done
    for i in 1 2; do wait_for "/tmp/w$i.log" touched || fail "$name-workload" "$(cat "/tmp/w$i.log")"; done
    t_touched=$(uptime_s)
    echo "BENCH $name workload_start_s $(awk -v a="$t0" -v b="$t_touched" 'BEGIN { printf "%.1f", b - a }')"
    pending="$w"
    i=0
    while [ -n "$pending" ] && [ "$i" -lt 120 ]; do
        still=""
        for p in $pending; do
            # shellcheck disable=SC2046  # its three words
            # shellcheck disable=SC2046  # its three words
        set -- $(locality "$p")
            if [ "$3" != "$all_cpus" ] && [ "${2%.*}${2#*.}" -ge 0900 ]; then
                echo "BENCH $name reaction_s.$p $(awk -v a="$t_touched" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }') (node $1, CPUs $3)"
            else
                still="$still $p"
            fi
        done
        pending=$still
        i=$((i + 1))
        sleep 1
    done
    for p in $pending; do echo "BENCH $name reaction_s.$p none_in_120_readings ($(locality "$p"))"; done
    # Steady state, a minute later.
    sleep 60
    for p in $w; do
        # shellcheck disable=SC2046  # its three words
        set -- $(locality "$p")
        echo "BENCH $name steady_locality.$p $2 (node $1, CPUs $3)"
    done
    elapsed=$(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.0f", b - a }')
    echo "BENCH $name workload_cpu_s_per_min $(per_min "$daemon" "$before" "$elapsed")"
    echo "BENCH $name pages_migrated $(($(vmstat pgmigrate_success) - moved_before))"
    echo "BENCH $name of_which_numa_balancing $(($(vmstat numa_pages_migrated) - balancing_before))"
    kill $w
    wait $w 2> /dev/null

    # 5,000 sleeping processes (none of them significant to either daemon), from
    # their second minute on: what a host of long-lived processes costs.
    many_processes 5000 > /tmp/procs.log 2>&1 &
    procs=$!
    wait_for /tmp/procs.log ready || fail "$name-processes" "$(cat /tmp/procs.log)"
    echo "BENCH $name processes $(ls -d /proc/[0-9]* | wc -l)"
    sleep 75
    before=$(cpu_ticks "$daemon")
    sleep "$window"
    echo "BENCH $name 5000_processes_cpu_s_per_min $(per_min "$daemon" "$before" "$window")"
    kill $procs
    wait $procs 2> /dev/null
    eval "$3"
    sleep 2
}

echo "BENCH kernel numa_balancing $(cat /proc/sys/kernel/numa_balancing)"
# The affine daemon: the shipped configuration with its numad-like rule enabled
# (numad's defaults as a rule: 300 MB resident and half a CPU, best-effort).
cat > /tmp/affine.conf << 'CONF'
[[rule]]
name = "numad-like"
min_memory = "300M"
min_cpu = 0.5
policy = "best-effort"
CONF
phase affine 'affine daemon --config /tmp/affine.conf > /tmp/affine.log 2>&1 & affine_pid=$!' \
    'kill -TERM $affine_pid; wait $affine_pid' 'echo $affine_pid'
# What it decided (placements, rebalances, widenings), then its last memory steps.
grep -E "busy_mem|rule" /tmp/affine.log | grep -v -e advice -e move-memory | head -24 | sed 's/^/AFFINE-INFO affine: /'
grep -E "move-memory" /tmp/affine.log | tail -6 | sed 's/^/AFFINE-INFO affine: /'
# Debian's numad with its defaults (it daemonizes; -i 0 stops it).
phase numad 'numad' 'numad -i 0' 'pidof numad'
grep -iE "moving|bind|advis" /var/log/numad.log | tail -8 | sed 's/^/AFFINE-INFO numad: /'
pass bench-ran
