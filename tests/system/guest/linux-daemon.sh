# Guest scenario (busybox sh): the affine daemon gives a thread soft affinity on
# 2 nodes of 1 CPU each. Sourced by /init with affine-check.sh and linux-common.sh.
. /lib/linux-common.sh

at_least() { awk -v v="$2" -v m="$3" 'BEGIN { exit !(v >= m) }' && pass "$1" || fail "$1" "$2 < $3"; }
between() { awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v >= lo && v <= hi) }' && pass "$1" || fail "$1" "$2 not in $3..$4"; }
# The waits below poll gently: under TCG every process the test starts costs real
# CPU time, and a tight loop would itself be the load that keeps a CPU from being
# idle (the daemon widens only onto a CPU with room).
# wait_mask PID LIST [TENTHS]: until the task's Cpus_allowed_list is LIST.
wait_mask() {
    _i=0
    while [ "$(cpus_allowed "$1")" != "$2" ]; do
        _i=$((_i + 5))
        [ "$_i" -lt "${3:-100}" ] || return 1
        usleep 500000
    done
}
spin() { sh -c 'while :; do :; done' & }
# wait_status TEXT [TENTHS]: until `affine daemon status` shows TEXT.
wait_status() {
    _i=0
    until affine daemon status 2> /dev/null | grep -qF -- "$1"; do
        _i=$((_i + 10))
        [ "$_i" -lt "${2:-300}" ] || return 1
        sleep 1
    done
}
start_daemon() {
    affine daemon >> /tmp/daemon.log 2>&1 &
    daemon=$!
    _i=0
    until affine daemon status > /dev/null 2>&1; do
        _i=$((_i + 1)); [ "$_i" -lt 100 ] || { fail daemon-start "$(cat /tmp/daemon.log)"; return 1; }
        usleep 100000
    done
}
sock=/run/affine/daemon.sock
mkdir -p /run
chmod 755 /   # the initramfs root is 0700: let the unprivileged user reach /bin

# --- without a daemon: soft affinity is refused, run --place says it is hard
check_status no-daemon-pin-soft 1 affine pin --soft 0 $$
check_contains no-daemon-says-how "$out" "no affine daemon runs"
out=$(affine run --place --memory 16M -- true 2>&1)
check_contains no-daemon-place-is-hard "$out" "the affinity is hard"

start_daemon

# --- soft affinity under contention: a hog pinned to CPU 0, a job preferring node 0
spin; hog=$!
affine pin 0 $hog > /dev/null
affine run --soft node:0 -- sh -c 'while :; do :; done' > /tmp/job.log 2>&1 &
job=$!
# affine run returns to the shell at once; the job is managed once it executed.
if wait_status "pid $job (sh)"; then pass job-managed; else fail job-managed "$(affine daemon status)"; fi
if wait_status "tid $job (sh): hard 0-1, soft 0, applied 0-1, widened since"; then pass soft-widened
else fail soft-widened "$(affine daemon status)"; fi
check_eq soft-widened-kernel 0-1 "$(cpus_allowed $job)"
check_contains soft-widened-why "$(cat /tmp/daemon.log)" "CPUs 0 -> 0-1: waited"
sleep 1
soft_share=$(share $job 4)
at_least soft-job-gets-most-of-a-cpu "$soft_share" 0.75
echo "AFFINE-INFO soft affinity under contention: job share $soft_share of a CPU"

# --- the hog exits: back on node 0 within seconds, and stays
kill $hog
if wait_mask $job 0 300; then pass soft-back-home; else fail soft-back-home "mask $(cpus_allowed $job): $(affine daemon status)"; fi
usleep 300000
check_eq soft-runs-at-home 0 "$(last_cpu $job)"
sleep 4
check_eq soft-stays-home 0 "$(cpus_allowed $job)"
check_eq soft-still-runs-at-home 0 "$(last_cpu $job)"
home_share=$(share $job 2)
echo "AFFINE-INFO uncontended: job share $home_share of a CPU, on CPU $(last_cpu $job)"
kill $job

# --- the same job pinned hard gets about half
spin; hog=$!
affine pin 0 $hog > /dev/null
spin; hard=$!
affine pin 0 $hard > /dev/null
sleep 1
hard_share=$(share $hard 4)
between hard-job-gets-half "$hard_share" 0.3 0.7
echo "AFFINE-INFO hard affinity under contention: job share $hard_share of a CPU (soft: $soft_share)"
kill $hard

# --- a thread changed by someone else is released and left as set
affine run --soft 0 -- sh -c 'while :; do :; done' > /dev/null 2>&1 &
other=$!
wait_status "tid $other (sh): hard 0-1, soft 0, applied 0-1, widened" || fail released-setup "$(affine daemon status)"
taskset -p 2 $other > /dev/null
# The daemon reads a managed thread's mask every 2 s; give it a few rounds.
wait_for /tmp/daemon.log "release pid $other " || true
check_eq released-left-as-set 1 "$(cpus_allowed $other)"
check_contains released-logged "$(cat /tmp/daemon.log)" "release pid $other (sh): its mask was changed to CPUs 1 by someone else"
check_contains released-in-status "$(affine daemon status)" "recent releases:"
kill $other

# --- kill -9 while a thread is widened, then a new start
affine run --soft 0 -- sh -c 'while :; do :; done' > /dev/null 2>&1 &
wide=$!
sleep 300 &
idle=$!
affine pin --soft 0 $idle > /dev/null
if wait_status "tid $wide (sh): hard 0-1, soft 0, applied 0-1, widened"; then pass crash-widened-before
else fail crash-widened-before "$(affine daemon status)"; fi
kill -9 $daemon
wait $daemon 2> /dev/null
check_eq crash-journal-mode 600 "$(stat -c %a /run/affine/soft-affinity.json)"
start_daemon
status=$(affine daemon status)
for p in $wide $idle; do
    case "$status" in
    *"pid $p ("*) pass "crash-managed-again-$p" ;;
    *) check_eq "crash-restored-$p" 0-1 "$(cpus_allowed $p)" ;;
    esac
done
kill $hog
if wait_mask $wide 0 150; then pass crash-owner-brings-home
else fail crash-owner-brings-home "mask $(cpus_allowed $wide); hog $hog: $(head -3 /proc/$hog/status 2>&1); $(affine daemon status); $(tail -3 /tmp/daemon.log)"; fi

# --- SIGTERM restores every original mask
kill -TERM $daemon
rc=0; wait $daemon || rc=$?
check_eq sigterm-exit 0 "$rc"
check_eq sigterm-restores-job 0-1 "$(cpus_allowed $wide)"
check_eq sigterm-restores-idle 0-1 "$(cpus_allowed $idle)"
check_contains sigterm-logged "$(cat /tmp/daemon.log)" "stopping: 2 threads restored"
check_contains sigterm-keeps-requests "$(cat /tmp/daemon.log)" "2 requests kept in the journal"
kill $wide $idle

# --- run --soft of a program that touches memory: its pages on the soft node
start_daemon
start_touch 64 --soft 1
on1=$(mapping_pages_on $toucher 1)
on0=$(mapping_pages_on $toucher 0)
at_least run-soft-memory-on-soft-node "$(awk -v a="$on1" -v b="$on0" 'BEGIN { printf "%.3f", a / (a + b) }')" 0.9
check_eq run-soft-mask 1 "$(cpus_allowed $toucher)"
check_contains run-soft-policy "$(cat /proc/$toucher/numa_maps)" "prefer:1"
out=$(affine run --place -v --memory 16M -- true 2>&1)
check_contains daemon-place-is-soft "$out" "through the daemon"

# --- the socket: bad requests, and a non-root peer asking to change root's thread
check_contains socket-not-json "$(unix_request $sock '{"op":')" '"error":"request is not JSON"'
check_contains socket-oversized "$(unix_request $sock --bytes 100000)" 'request longer than 65536 bytes'
check_contains socket-bad-ids "$(unix_request $sock '{"op":"set-soft","ids":[0],"cpus":"0"}')" 'request: ids[0]: must be at least 1'
check_status non-root-refused 1 run_as_uid 1000 affine pin --soft 0 $toucher
check_contains non-root-refused-why "$out" "uid 1000 may not change the affinity of tid $toucher"
check_contains non-root-raw-refused "$(run_as_uid 1000 unix_request $sock "{\"op\":\"set-soft\",\"ids\":[$toucher],\"cpus\":\"0\"}")" '"errno":1'
check_eq non-root-left-alone 1 "$(cpus_allowed $toucher)"
kill -TERM $daemon
wait $daemon
check_eq last-stop-restores 0-1 "$(cpus_allowed $toucher)"
kill $toucher

# --- crash consistency: rounds of requests, removals, exits, masks set by someone
# else and widenings next to a hog, each ended by kill -9 of the daemon and a
# restart, then a SIGTERM (the loop is the one tests/cli/daemon_crash.sh runs).
loop_start=$(uptime_s)
sh /lib/daemon-crash-loop.sh "$(command -v affine)" /bin 22 22 4 > /tmp/crash-loop.out 2>&1
rc=$?
echo "AFFINE-INFO crash loop: $(awk -v a="$loop_start" -v b="$(uptime_s)" 'BEGIN { printf "%.0f", b - a }') s"
sed -e 's/^ok   /AFFINE-PASS /' -e 's/^FAIL /AFFINE-FAIL /' -e 's/^info /AFFINE-INFO /' /tmp/crash-loop.out
check_eq crash-loop-exit 0 "$rc"
