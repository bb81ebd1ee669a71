# affine's Linux commands in a 4-node guest: nodes 0-2 have CPUs 0-1, 2-3, 4-5;
# node 3 has memory only; asymmetric distances. Sourced by the guest's /init.
. /lib/linux-common.sh

check_contains topo-four-nodes "$(affine topo)" "4 NUMA nodes"

# --- pin: the kernel's view matches, and the thread moved there
start_ticker
check_status pin-runs 0 affine pin 2-3 "$ticker"
check_contains pin-prints "$out" "-> 2-3"
check_eq pin-status-list 2-3 "$(cpus_allowed "$ticker")"
usleep 300000
c=$(last_cpu "$ticker")
if in_set "$c" 2-3; then pass pin-last-cpu-inside; else fail pin-last-cpu-inside "last ran on CPU $c"; fi
check_status show-json 0 affine show "$ticker" --json
check_contains show-json-affinity "$(echo "$out" | tr -d ' \n')" '"affinity":[2,3]'
check_status pin-node-term 0 affine pin node:2 "$ticker"
check_eq pin-node-term-status 4-5 "$(cpus_allowed "$ticker")"
kill "$ticker"

# --- pin --all-threads against a process that keeps creating and ending threads
thread_churn 24 > /dev/null &
churn=$!
usleep 500000
for round in 1 2 3 4 5 6 7 8 9; do
    case $((round % 3)) in 0) want=0-1 ;; 1) want=2-3 ;; 2) want=4-5 ;; esac
    check_status "churn-pin-$round" 0 affine pin --all-threads "$want" "$churn"
    check_eq "churn-no-old-mask-$round" "" "$(stale_threads "$churn" "$want")"
done
kill "$churn"

# --- run --nodes 2 --mem-policy bind: the pages are on node 2
start_touch 32 --nodes 2 --mem-policy bind
check_contains run-bind-policy "$(big_mapping "$toucher")" "bind:2"
check_pages run-bind-pages-on-node2 "$toucher" 2 8192
check_status show-memory-node2 0 affine show "$toucher" --json
check_contains show-memory-node2-json "$(echo "$out" | tr -d ' \n')" '"memory_bytes_per_node":{'
kill "$toucher"

# --- run --cpus of node 1: new memory lands on node 1 (memory follows the CPUs)
start_touch 32 --cpus 2-3
check_eq run-cpus-affinity 2-3 "$(cpus_allowed "$toucher")"
check_pages run-cpus-pages-on-node1 "$toucher" 1 8192
kill "$toucher"

# --- a node without CPUs still has memory: bind there works
start_touch 16 --nodes 3 --mem-policy bind
check_pages run-bind-cpuless-node3 "$toucher" 3 4096
kill "$toucher"

# --- preferred over several nodes uses MPOL_PREFERRED_MANY on this kernel
start_touch 16 --nodes 1-2 --mem-policy preferred
check_contains run-preferred-many "$(big_mapping "$toucher")" "1-2"
kill "$toucher"

# --- interleave spreads pages over the nodes
start_touch 16 --nodes 0,2 --mem-policy interleave
a=$(mapping_pages_on "$toucher" 0)
b=$(mapping_pages_on "$toucher" 2)
if [ "$a" -ge 1024 ] && [ "$b" -ge 1024 ] && [ $((a + b)) -ge 4096 ]; then pass run-interleave; else fail run-interleave "node 0: $a, node 2: $b pages"; fi
kill "$toucher"

# --- run --place: the kernel's view matches the plan run printed (its CPUs, its
# nodes' pages, its memory policy), for a one-node and a two-node plan.
place_touch() {
    _mb=$1
    shift
    _log=/tmp/place.$$.$_mb.$RANDOM
    affine run --place -v --memory "${_mb}M" "$@" -- touch_memory "$_mb" > "$_log" 2>&1 &
    toucher=$!
    wait_for "$_log" touched || fail "place-touch-start" "run --place did not start: $(cat "$_log")"
    placed_nodes=$(sed -n 's/^affine: placed .* on nodes* \([0-9,-]*\)$/\1/p' "$_log")
    placed_cpus=$(sed -n 's/^affine: CPUs \([0-9,-]*\), memory policy.*/\1/p' "$_log")
}
pages_on_nodes() {
    _sum=0
    for _n in $(affine calc "nodes:$2" --nodes --to json | tr -d '[]' | tr ',' ' '); do
        _sum=$((_sum + $(mapping_pages_on "$1" "$_n")))
    done
    echo "$_sum"
}
check_placed() {
    _name=$1 _want_nodes=$2 _mode=$3
    check_eq "$_name-node-count" "$_want_nodes" "$(affine calc "nodes:$placed_nodes" --nodes --to json | tr ',' '\n' | wc -l)"
    check_eq "$_name-cpus-are-the-plan" "$placed_cpus" "$(cpus_allowed "$toucher")"
    check_eq "$_name-cpus-on-planned-nodes" "$placed_nodes" "$(affine calc "$placed_cpus" --nodes)"
    _on=$(pages_on_nodes "$toucher" "$placed_nodes")
    if [ "$_on" -ge 8192 ]; then pass "$_name-pages-on-planned-nodes"; else fail "$_name-pages-on-planned-nodes" "$_on pages on nodes $placed_nodes: $(big_mapping "$toucher")"; fi
    check_contains "$_name-policy" "$(big_mapping "$toucher")" "$_mode"
}
place_touch 32 --vcpus 2
check_placed run-place-one-node 1 prefer
kill "$toucher"
place_touch 32 --vcpus 4
check_placed run-place-two-nodes 2 prefer
kill "$toucher"
place_touch 32 --vcpus 2 --policy best-effort-hard
check_placed run-place-hard 1 "bind:$placed_nodes"
kill "$toucher"
check_status run-place-needs-memory 2 affine run --place -- true
check_contains run-place-needs-memory-message "$out" "missing --memory SIZE"
check_status run-place-excludes-manual 2 affine run --place --memory 1M --cpus 0 -- true
check_status run-place-too-big 1 affine run --place --memory 64G -- true
check_contains run-place-too-big-message "$out" "not placed"

# --- numad -w through a link named numad (as libvirt runs /usr/bin/numad): the
# planner's nodes on the live host, in numad's list syntax; measured load moves it
ln -s "$(command -v affine)" /bin/numad
# "0-1,3" -> "0,1,3"
expand_list() { echo "$1" | tr ',' '\n' | while IFS=- read -r a b; do seq "$a" "${b:-$a}"; done | tr '\n' ',' | sed 's/,$//'; }
# the plan's own nodes: the first "nodes" of the JSON (the runners-up have theirs too)
planned_nodes() { affine place "$@" --json | grep -o '"nodes":\[[0-9,]*\]' | head -n 1 | sed 's/.*\[\(.*\)\]/\1/'; }
check_status numad-w-one-node 0 numad -w 2:128
idle_answer=$out
check_eq numad-w-is-the-plan "$(planned_nodes --vcpus 2 --memory 128M)" "$(expand_list "$idle_answer")"
check_status numad-w-two-nodes 0 numad -w 2:512
check_eq numad-w-two-nodes-is-the-plan "$(planned_nodes --vcpus 2 --memory 512M)" "$(expand_list "$out")"
check_contains numad-w-two-nodes-range "$out" "-"
check_status numad-w-more-than-host 0 numad -w 2:4096
check_eq numad-w-more-than-host-every-node 0-3 "$(numad -w 2:4096 2>/dev/null)"
hog_cpus=$(affine calc "node:$idle_answer")
affine run --cpus "$hog_cpus" -- sh -c 'while :; do :; done' &
hog1=$!
affine run --cpus "$hog_cpus" -- sh -c 'while :; do :; done' &
hog2=$!
usleep 500000
check_status numad-w-busy-node 0 numad -w 2:128
check_ne numad-w-avoids-busy-node "$idle_answer" "$out"
check_eq numad-w-busy-still-one-node 1 "$(expand_list "$out" | tr ',' '\n' | grep -c .)"
kill "$hog1" "$hog2"
check_status numad-p-refused 2 numad -p 1
check_contains numad-p-names-rule "$out" "[[rule]]"

# --- migrate: pages move from node 0 to node 1
start_touch 32 --cpus 0-1
check_pages migrate-before-on-node0 "$toucher" 0 8192
check_status migrate-runs 0 affine migrate "$toucher" 1
check_contains migrate-reports "$out" "moved to node 1"
check_pages migrate-after-on-node1 "$toucher" 1 8192
check_eq migrate-after-none-on-node0 0 "$(mapping_pages_on "$toucher" 0)"
# pin --migrate: CPUs and pages to node 2 together
check_status pin-migrate 0 affine pin --all-threads --migrate 4-5 "$toucher"
check_eq pin-migrate-cpus 4-5 "$(cpus_allowed "$toucher")"
check_pages pin-migrate-pages-on-node2 "$toucher" 2 8192
kill "$toucher"

# --- bind, as in the article
sleep 600 &
s=$!
check_status bind-runs 0 affine bind "$s" 3
check_contains bind-old "$out" "pid $s (sleep): old affinity 0000003f"
check_contains bind-new "$out" "pid $s (sleep): new affinity 00000003"
check_eq bind-status 0-1 "$(cpus_allowed "$s")"
check_status bind-hex 0 affine bind "$s" 0x30
check_eq bind-hex-status 4-5 "$(cpus_allowed "$s")"
check_status bind-zero 1 affine bind "$s" 0
check_contains bind-zero-says "$out" "a zero mask always fails"
check_status bind-missing-only 2 affine bind "$s" 0xc0
check_contains bind-missing-only-says "$out" "names CPU 6-7, which this host does not have (CPUs: 0-5"
check_status bind-all-ones 2 affine bind "$s" 4294967295
check_eq bind-all-ones-unchanged 4-5 "$(cpus_allowed "$s")"
check_status bind-every-cpu 0 affine bind "$s" 63
check_eq bind-every-cpu-status 0-5 "$(cpus_allowed "$s")"

# --- refusals: no such task, no permission, kernel thread, cpuset
chmod 755 /   # the initramfs root is 0700: let the unprivileged user reach /bin
check_status refuse-no-such-task 1 affine pin 0 99999
check_contains refuse-no-such-task-says "$out" "no such task: 99999"
check_status refuse-eperm 1 run_as_uid 1000 affine pin 0 "$s"
check_contains refuse-eperm-says "$out" "belongs to uid 0"
check_contains refuse-eperm-cap "$out" "CAP_SYS_NICE"
check_status refuse-eperm-migrate 1 run_as_uid 1000 affine migrate "$s" 1
check_contains refuse-eperm-migrate-cap "$out" "CAP_SYS_NICE"
kt=$(grep -l '^ksoftirqd/1$' /proc/[0-9]*/comm | head -n1 | cut -d/ -f3)
check_status refuse-kthread 1 affine pin 0 "$kt"
check_contains refuse-kthread-says "$out" "PF_NO_SETAFFINITY"
echo +cpuset > /sys/fs/cgroup/cgroup.subtree_control
mkdir -p /sys/fs/cgroup/box
echo 0-1 > /sys/fs/cgroup/box/cpuset.cpus
sleep 600 &
boxed=$!
echo "$boxed" > /sys/fs/cgroup/box/cgroup.procs
check_status refuse-cpuset 1 affine pin 2 "$boxed"
check_contains refuse-cpuset-says "$out" "CPU 2 is outside its cpuset (cpuset /box allows CPUs 0-1)"
check_status refuse-cpu-missing 2 affine pin 6 "$s"
check_status refuse-node-missing 2 affine run --nodes 4 -- true
kill "$boxed" "$s"
check_status run-not-found 127 affine run --cpus 0 -- no-such-command
check_status run-exit-status 7 affine run --cpus 1 -- sh -c 'exit 7'

# --- shield: other tasks leave CPUs 4-5; --undo restores every mask
sleep 600 &
s1=$!
sleep 600 &
s2=$!
affine bind "$s2" 4 > /dev/null   # CPU 2 only: unaffected by a shield of 4-5
before=$(user_masks)
check_status shield-runs 0 affine shield 4-5
check_eq shield-init 0-3 "$(cpus_allowed 1)"
check_eq shield-sleep 0-3 "$(cpus_allowed "$s1")"
check_eq shield-untouched 2 "$(cpus_allowed "$s2")"
check_exists shield-journal /run/affine/shield.json
on_shield=$(user_masks | awk '$2 ~ /4|5/' | grep -v "^$$ " || true)
check_eq shield-no-user-task-left "" "$on_shield"
check_status shield-twice-refused 1 affine shield 5
check_contains shield-twice-says "$out" "already active"
sh -c 'grep Cpus_allowed_list /proc/self/status' > /tmp/inherit
check_contains shield-new-tasks-inherit "$(cat /tmp/inherit)" "0-3"
check_status shield-undo 0 affine shield --undo
check_eq shield-undo-restores-all "" "$(changed_masks "$before")"
check_missing shield-undo-removes-journal /run/affine/shield.json
check_status shield-undo-again 0 affine shield --undo
check_contains shield-undo-again-says "$out" "no shield to undo"

# --kthreads moves kernel threads that may move (kthreadd), not per-CPU ones
check_status shield-kthreads 0 affine shield 5 --kthreads
check_eq shield-kthreadd-moved 0-4 "$(cpus_allowed 2)"
check_eq shield-ksoftirqd-stays 1 "$(cpus_allowed "$kt")"
check_status shield-kthreads-undo 0 affine shield --undo
check_eq shield-kthreadd-restored 0-5 "$(cpus_allowed 2)"

# --exec starts the command on the shielded CPUs
check_status shield-exec 0 affine shield 5 --exec -- sh -c 'grep Cpus_allowed_list /proc/self/status'
check_contains shield-exec-cpus "$out" "Cpus_allowed_list:	5"
check_status shield-exec-undo 0 affine shield --undo

# kill -9 of affine in the middle of a shield: --undo still restores everything
many_threads 3000 > /tmp/many &
many=$!
wait_for /tmp/many ready || fail many-threads-start "$(cat /tmp/many)"
before=$(user_masks)
affine shield 4-5 > /dev/null 2>&1 &
sh_pid=$!
# Kill it as soon as it changed the first thread of the test process: the others
# (3,000 of them, set in tid order) are then still to do. The poll uses shell
# builtins only, so it notices within a file read.
i=0
while [ "$i" -lt 200000 ]; do
    m=
    { while read -r k v; do [ "$k" = "Cpus_allowed_list:" ] && { m=$v; break; }; done < "/proc/$many/status"; } 2>/dev/null
    [ "$m" = 0-5 ] || break
    i=$((i + 1))
done
kill -9 "$sh_pid" 2>/dev/null
wait "$sh_pid" 2>/dev/null
moved=$(stale_threads "$many" 0-5 | wc -l)
echo "shield killed with $moved of 3001 threads of the test process moved"
if [ "$moved" -gt 0 ] && [ "$moved" -lt 3001 ]; then pass shield-killed-halfway; else fail shield-killed-halfway "$moved of 3001 threads moved when killed"; fi
check_status shield-killed-undo 0 affine shield --undo
check_eq shield-killed-undo-restores-all "" "$(changed_masks "$before")"
check_eq shield-killed-many-restored "" "$(stale_threads "$many" 0-5)"
kill "$many"
