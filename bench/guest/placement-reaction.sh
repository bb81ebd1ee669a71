# Benchmark guest (busybox sh) for bench/placement_reaction.sh: the affine daemon's
# placement reaction in the 4-node guest. The daemon runs the shipped configuration
# (/etc/affine/shipped.conf) plus one rule naming the workload by its command; each
# round starts a fresh CPU-bound workload of 135 MB whose pages are interleaved over
# nodes 0-2 (in the first three rounds it then returns to the default policy, so
# NUMA balancing scans it as any process; in the last three it keeps its policy),
# and polls every 100 ms (one awk over its status and numa_maps, one over
# /proc/vmstat) until its mask is the plan's CPUs and >= 90 % of its pages are on the
# plan's node. Prints "BENCH round.N key value" lines; figures, not assertions.
. /lib/linux-common.sh

mkdir -p /run /etc/affine
rounds=6
mb=135
cp /bin/touch_memory /bin/placed_mem
all_cpus=$(cat /sys/devices/system/cpu/online)
vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "BENCH kernel numa_balancing $(cat /proc/sys/kernel/numa_balancing)"
{ cat /etc/affine/shipped.conf; printf '\n[[rule]]\nname = "reaction"\ncomm = ["placed_mem"]\nmin_memory = "100M"\n'; } \
    > /tmp/reaction.conf
affine daemon --config /tmp/reaction.conf > /tmp/daemon.log 2>&1 &
daemon=$!
i=0
until affine daemon status > /dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || { fail daemon-start "$(cat /tmp/daemon.log)"; break; }
    usleep 100000
done
budget=$(sed -n 's/^move_budget *= *"\(.*\)"/\1/p' /tmp/reaction.conf)
burst=$(sed -n 's/^move_burst *= *"\(.*\)"/\1/p' /tmp/reaction.conf)
chunk=$(sed -n 's/^move_chunk *= *"\(.*\)"/\1/p' /tmp/reaction.conf)
echo "BENCH config move_chunk=$chunk move_budget=$budget/s move_burst=$burst"

round=1
while [ "$round" -le "$rounds" ]; do
    log=/tmp/w$round.log
    moved0=$(vmstat pgmigrate_success)
    balancing0=$(vmstat numa_pages_migrated)
    # Rounds 1-3: back to the default policy once touched (NUMA balancing scans it
    # and marks its pages); the rest keep the interleave policy (NUMA balancing
    # leaves a process with its own policy alone).
    if [ "$round" -le 3 ]; then after=default-policy; else after=""; fi
    echo "BENCH round.$round workload ${mb} MB, interleaved over nodes 0-2, then ${after:-its interleave policy kept}"
    # shellcheck disable=SC2086  # no word when empty
    affine run --nodes 0-2 --mem-policy interleave -- placed_mem "$mb" spin $after > "$log" 2>&1 &
    w=$!
    i=0
    until grep -q touched "$log" 2> /dev/null; do
        i=$((i + 1))
        [ "$i" -lt 2000 ] || break
        usleep 10000
    done
    t0=$(uptime_s)
    # Where its pages were at the start, read at once (counted after the polling).
    cp "/proc/$w/numa_maps" /tmp/start.$round
    start_mask=$(mask_of_status "/proc/$w/status")
    # Samples "seconds pgmigrate_success" for the rate of moving.
    : > /tmp/rate.$round
    t_mask="" t_mem="" plan="" last=""
    i=0
    while [ "$i" -lt 600 ] && [ -d "/proc/$w" ]; do
        now=$(uptime_s)
        # shellcheck disable=SC2046  # its three words
        set -- $(locality "$w")
        echo "$now $(vmstat pgmigrate_success)" >> /tmp/rate.$round
        last="$*"
        if [ "$3" != "$all_cpus" ] && [ "$1" != "-" ]; then
            [ -n "$t_mask" ] || { t_mask=$(since "$t0" "$now"); plan="node $1, CPUs $3"; }
            if [ -z "$t_mem" ] && [ "${2%.*}${2#*.}" -ge 0900 ]; then t_mem=$(since "$t0" "$now"); break; fi
        fi
        i=$((i + 1))
        usleep 100000
    done
    echo "BENCH round.$round start $(awk '/ file=/ && / mapmax=/ { next }
        { for (i = 1; i <= NF; i++) if ($i ~ /^N[0-9]+=/) { split(substr($i, 2), kv, "="); n[kv[1]] += kv[2] } }
        END { printf "%d,%d,%d,%d", n[0], n[1], n[2], n[3] }' /tmp/start.$round) pages on nodes 0,1,2,3; mask $start_mask"
    echo "BENCH round.$round mask_s ${t_mask:-none_in_60s} ($plan)"
    echo "BENCH round.$round memory_90_s ${t_mem:-none_in_60s} (node, share, mask: $last)"
    echo "BENCH round.$round pages_migrated $(($(vmstat pgmigrate_success) - moved0)) (NUMA balancing $(($(vmstat numa_pages_migrated) - balancing0)))"
    # The most pages moved over any second: from each sample to the first one at
    # least a second later.
    echo "BENCH round.$round max_rate_MB_per_s $(awk '{ t[NR] = $1; m[NR] = $2 }
        END { j = 1; for (i = 1; i <= NR; i++) { while (j <= NR && t[j] < t[i] + 1) j++; if (j > NR) break
                  r = (m[j] - m[i]) * 4096 / 1048576 / (t[j] - t[i]); if (r > best) best = r }
              printf "%.0f", best }' /tmp/rate.$round)"
    if affine daemon status 2> /dev/null | grep -q "^pid $w (placed_mem), rule 'reaction': node"; then
        pass "round-$round-placed-by-rule"
    else
        fail "round-$round-placed-by-rule" "$(affine daemon status 2>&1)"
    fi
    grep -E "pid ${w}[ :]" /tmp/daemon.log | sed "s/^/BENCH-LOG round.$round /"
    kill "$w"
    wait "$w" 2> /dev/null
    sleep 3
    round=$((round + 1))
done
kill -TERM "$daemon"
wait "$daemon"
pass bench-ran
