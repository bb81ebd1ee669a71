# Guest scenario (busybox sh): the affine daemon's placement rules on 4 nodes
# (CPUs 0-1/2-3/4-5, node 3 memory only; asymmetric distances). Sourced by /init
# with affine-check.sh and linux-common.sh. It polls a few times a second: under
# emulation every process it starts costs real CPU time.
. /lib/linux-common.sh

mkdir -p /run /etc/affine
echo "AFFINE-INFO numa_balancing $(cat /proc/sys/kernel/numa_balancing)"
# The workloads: copies of touch_memory under other command names.
for name in placed_mem excluded_mem; do cp /bin/touch_memory /bin/$name; done
# start_mem NAME MB [affine run options...]: NAME touches MB, its pages preferred on
# node 3 (no CPUs: no plan keeps them there); its pid in $mem.
start_mem() {
    _name=$1 _mb=$2
    shift 2
    _log=/tmp/$_name.$_mb.$RANDOM
    affine run --nodes 3 --mem-policy preferred "$@" -- "$_name" "$_mb" > "$_log" 2>&1 &
    mem=$!
    wait_for "$_log" touched || fail "$_name-start" "$_name did not start: $(cat "$_log")"
}
spin() { sh -c 'while :; do :; done' & }

# --- numad -w without a daemon: a fresh reading, honouring reserved_cpus of
# /etc/affine/daemon.conf (node 1's CPUs here)
check_status numad-no-daemon 0 affine numad -w 1:64
printf 'reserved_cpus = "2-3"\n' > /etc/affine/daemon.conf
answer=$(affine numad -w 1:64 2>&1)
if in_set 1 "$answer"; then fail numad-no-daemon-reserved "answer $answer includes node 1 (CPUs 2-3 reserved)"
else pass numad-no-daemon-reserved; fi
answer=$(affine numad -w 2:64 2>&1)
if in_set 1 "$answer"; then fail numad-no-daemon-reserved-2 "answer $answer includes node 1 (CPUs 2-3 reserved)"
else pass numad-no-daemon-reserved-2; fi
rm /etc/affine/daemon.conf

# --- workloads before the daemon starts: the first scan finds them
start_mem placed_mem 48; placed=$mem
start_mem touch_memory 40; other=$mem
start_mem excluded_mem 40; excluded=$mem
start_mem placed_mem 40 --cpus 4-5; pinned=$mem   # pinned by someone: never taken
check_eq placed-starts-unpinned 0-5 "$(cpus_allowed $placed)"
on3=$(pages $placed 3)
at_least_percent placed-starts-on-node3 "$on3" "$(pages $placed all)" 90

cat > /tmp/placement.conf << 'CONF'
interval = "250ms"
reserved_cpus = "0-1"
exclude_comm = ["excluded_mem"]

[[rule]]
name = "placed"
comm = ["placed_mem", "excluded_mem"]
min_memory = "32M"

[placement]
min_residency = "6s"
overload_after = "1s"
CONF
affine daemon --config /tmp/placement.conf >> /tmp/daemon.log 2>&1 &
daemon=$!

# --- the named workload is placed: its mask is the plan's CPUs (never the reserved
# node 0), and its pages follow to the plan's node
line=""
for i in $(seq 1 80); do
    line=$(affine daemon status 2> /dev/null | grep "^pid $placed (placed_mem), rule 'placed': node" || true)
    [ -n "$line" ] && break
    usleep 250000
done
if [ -n "$line" ]; then pass placed-by-rule; else fail placed-by-rule "$(affine daemon status 2>&1; cat /tmp/daemon.log)"; fi
plan_nodes=$(echo "$line" | sed -n "s/.*: node \([0-9,-]*\), soft CPUs.*/\1/p")
plan_cpus=$(echo "$line" | sed -n "s/.*, soft CPUs \([0-9,-]*\), since.*/\1/p")
echo "AFFINE-INFO placed_mem placed on node $plan_nodes, CPUs $plan_cpus"
check_eq plan-cpus-are-its-nodes "$plan_nodes" "$(affine calc "$plan_cpus" --nodes 2>&1)"
check_eq plan-not-on-reserved-node "" "$(echo "$plan_cpus" | tr ',' '\n' | grep -E '^(0|1)(-|$)' || true)"
check_eq placed-mask-is-the-plan "$plan_cpus" "$(cpus_allowed $placed)"
i=0
while [ $(($(pages $placed "$plan_nodes") * 100)) -lt $(($(pages $placed all) * 99)) ] && [ $i -lt 120 ]; do
    i=$((i + 1)); usleep 250000
done
sleep 2   # steady state: nothing moves back
at_least_percent placed-pages-on-plan-nodes "$(pages $placed "$plan_nodes")" "$(pages $placed all)" 99 ||
    { cat /proc/$placed/numa_maps; grep -v advice /tmp/daemon.log | tail -20; }
check_eq placed-mask-stays "$plan_cpus" "$(cpus_allowed $placed)"
status=$(affine daemon status)
check_contains status-names-rule "$status" "pid $placed (placed_mem), uid 0: soft CPUs $plan_cpus, every thread"
check_contains status-origin "$status" "(rule 'placed')"
check_contains status-memory-moved "$status" "on its nodes"
check_contains status-json-placements "$(affine daemon status --json)" "\"rule\":\"placed\""
check_contains log-place "$(cat /tmp/daemon.log)" "place pid $placed: rule 'placed' names placed_mem (pid $placed): placed on node $plan_nodes"
check_contains log-move-memory "$(cat /tmp/daemon.log)" "move-memory pid $placed"
check_contains log-events "$(cat /tmp/daemon.log)" "new processes seen through process events"

# --- untouched: no rule names it, excluded, pinned by someone
check_eq other-mask-untouched 0-5 "$(cpus_allowed $other)"
at_least_percent other-pages-untouched "$(pages $other 3)" "$(pages $other all)" 90
check_eq excluded-mask-untouched 0-5 "$(cpus_allowed $excluded)"
at_least_percent excluded-pages-untouched "$(pages $excluded 3)" "$(pages $excluded all)" 90
check_eq pinned-mask-untouched 4-5 "$(cpus_allowed $pinned)"
at_least_percent pinned-pages-untouched "$(pages $pinned 3)" "$(pages $pinned all)" 90
check_not_contains untouched-not-in-status "$status" "pid $other "

# --- a workload started while the daemon runs: seen through the process events
start_mem placed_mem 40; late=$mem
line=""
for i in $(seq 1 40); do
    line=$(affine daemon status 2> /dev/null | grep "^pid $late (placed_mem), rule 'placed': node" || true)
    [ -n "$line" ] && break
    usleep 250000
done
if [ -n "$line" ]; then pass late-placed-by-rule; else fail late-placed-by-rule "$(affine daemon status 2>&1)"; fi
late_cpus=$(echo "$line" | sed -n "s/.*, soft CPUs \([0-9,-]*\), since.*/\1/p")
late_nodes=$(echo "$line" | sed -n "s/.*: node \([0-9,-]*\), soft CPUs.*/\1/p")
check_eq late-mask-is-the-plan "$late_cpus" "$(cpus_allowed $late)"
i=0
while [ $(($(pages $late "$late_nodes") * 100)) -lt $(($(pages $late all) * 99)) ] && [ $i -lt 120 ]; do
    i=$((i + 1)); usleep 250000
done
at_least_percent late-pages-on-plan-nodes "$(pages $late "$late_nodes")" "$(pages $late all)" 99

# --- numad -w with the daemon running: the daemon answers (its log says so), from
# its view (its reserved CPUs out)
answer=$(affine numad -w 1:64)
check_contains numad-daemon-answers "$(cat /tmp/daemon.log)" "advice for numad -w 1.00:64 (uid 0, pid "
check_contains numad-daemon-answer-logged "$(cat /tmp/daemon.log)" ": node $answer"
if in_set 0 "$answer"; then fail numad-daemon-reserved "answer $answer includes node 0 (CPUs 0-1 reserved)"; else pass numad-daemon-reserved; fi
check_status numad-daemon-bad-reserved 2 affine numad -w 1:64 -R 0-5

# --- a node overloaded by new work: the busy workload on it moves away, with its
# memory, and does not move again within its residency (6 s here)
affine run -- placed_mem 40 spin > /tmp/spinner.log 2>&1 &
spinner=$!
wait_for /tmp/spinner.log touched || fail spinner-start "$(cat /tmp/spinner.log)"
line=""
for i in $(seq 1 40); do
    line=$(affine daemon status 2> /dev/null | grep "^pid $spinner (placed_mem), rule 'placed': node" || true)
    [ -n "$line" ] && break
    usleep 250000
done
spin_nodes=$(echo "$line" | sed -n "s/.*: node \([0-9,-]*\), soft CPUs.*/\1/p")
spin_cpus=$(echo "$line" | sed -n "s/.*, soft CPUs \([0-9,-]*\), since.*/\1/p")
if [ -n "$spin_cpus" ]; then pass spinner-placed; else fail spinner-placed "$(affine daemon status 2>&1)"; fi
sleep 7   # past its residency
hogs=""
for c in $(echo "$spin_cpus" | tr ',-' '  ') $(echo "$spin_cpus" | tr ',-' '  '); do
    spin; affine pin "$c" $! > /dev/null; hogs="$hogs $!"
done
moved=""
for i in $(seq 1 60); do
    moved=$(affine daemon status 2> /dev/null | grep "^pid $spinner (placed_mem), rule 'placed': node" | grep -v ": node $spin_nodes," || true)
    [ -n "$moved" ] && break
    usleep 250000
done
if [ -n "$moved" ]; then pass overload-moves-spinner; else fail overload-moves-spinner "$(affine daemon status 2>&1)"; fi
new_nodes=$(echo "$moved" | sed -n "s/.*: node \([0-9,-]*\), soft CPUs.*/\1/p")
new_cpus=$(echo "$moved" | sed -n "s/.*, soft CPUs \([0-9,-]*\), since.*/\1/p")
echo "AFFINE-INFO overloaded node $spin_nodes: spinner moved to node $new_nodes (CPUs $new_cpus)"
check_contains overload-reason "$moved" "node $spin_nodes overloaded"
check_eq overload-mask-follows "$new_cpus" "$(cpus_allowed $spinner)"
# The hogs leave (under emulation they starve the daemon too); its memory follows.
kill $hogs
i=0
while [ $(($(pages $spinner "$new_nodes") * 100)) -lt $(($(pages $spinner all) * 99)) ] && [ $i -lt 120 ]; do
    i=$((i + 1)); usleep 250000
done
# Its pages NUMA balancing has marked (it runs) are hidden from move_pages on
# this kernel: the daemon moves them with migrate_pages.
at_least_percent overload-pages-follow "$(pages $spinner "$new_nodes")" "$(pages $spinner all)" 99 ||
    grep "pid $spinner" /tmp/daemon.log | tail -n 10
grep "move-memory pid $spinner" /tmp/daemon.log | tail -n 1 | sed 's/^/AFFINE-INFO /'
sleep 3
check_eq overload-one-move 1 "$(grep -c "^.*move pid $spinner: node" /tmp/daemon.log)"

# --- a clean stop gives the masks back
kill -TERM $daemon
wait $daemon
check_eq stop-restores-placed 0-5 "$(cpus_allowed $placed)"
kill $placed $other $excluded $pinned $late $spinner
