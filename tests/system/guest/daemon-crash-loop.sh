#!/bin/sh
# Crash consistency of the affine daemon: rounds of requests, removals, process
# exits, masks someone else sets and widenings, with `kill -9` of the daemon at a
# random moment of each round (often while a request is in flight) and a restart.
# After every restart and after a final SIGTERM it reads each task's mask from
# /proc/PID/task/TID/status and the daemon's status, and checks that:
#   - no request answered "ok" is lost and no removed one comes back;
#   - every managed thread holds the mask the daemon's status says it applied
#     (its soft CPUs at home, wider only while the status says widened);
#   - every thread without a request holds the mask it started with (none is left
#     widened or narrowed), and a stop restores every one;
#   - a mask someone else set (taskset, before or during the loop, on a whole
#     process or one thread of a managed process) is never touched again.
#
# POSIX sh, so that one script serves both: the 2-node guest (busybox sh,
# tests/system/guest/linux-daemon.sh) and this machine (tests/cli/daemon_crash.sh,
# with a private AFFINE_STATE_DIR, managing only the processes it starts).
#
# Usage: daemon-crash-loop.sh AFFINE HELPERS_DIR ROUNDS SEED MIN_WIDENED
#   AFFINE       the affine binary
#   HELPERS_DIR  where many_threads is
#   ROUNDS       kill -9 rounds
#   SEED         seed of the random choices (a failure replays with the same seed)
#   MIN_WIDENED  restarts that must find a thread widened (0 where the other CPU
#                may never have room, as on a shared build machine)
# Needs CPUs 0 and 1. Prints "ok NAME", "FAIL NAME: DETAIL" and "info ..." lines;
# exits 1 when a check failed.
affine=$1
helpers=$2
rounds=$3
seed=$4
min_widened=$5

work=$(mktemp -d)
log=$work/daemon.log
conf=$work/daemon.conf
printf 'interval = "250ms"\n' > "$conf"
failures=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1: $2" | tr '\n' ' '; echo; failures=$((failures + 1)); }

# Random numbers of our own (dash has no $RANDOM): rand N sets r to 0..N-1.
rand() {
    seed=$(((seed * 1103515245 + 12345) % 2147483648))
    r=$(((seed / 65536) % $1))
}
mask_of() { awk '/^Cpus_allowed_list:/ { print $2 }' "$1" 2> /dev/null; }
cpus_allowed() { mask_of "/proc/$1/status"; }
all=$(cpus_allowed $$)   # what every task this script starts has
case $all in 0 | "") echo "info skip: needs CPUs 0 and 1"; exit 77 ;; esac

# Every process started, for the cleanup: "PID".
: > "$work/started"
# What each process should be, one line each: "PID WANT KIND", WANT is
#   -        no request: every thread on $all
#   CPUS     a request for soft CPUs CPUS
#   foreign  its mask was set by someone else: left as it is
# KIND is sleeper, spinner or threads (many_threads: several threads).
: > "$work/want"
# Threads whose mask someone else set: "TID MASK".
: > "$work/foreign"
started() { echo "$1" >> "$work/started"; }
set_want() {  # PID WANT KIND
    grep -v "^$1 " "$work/want" > "$work/want.new"
    [ "$2" = gone ] || echo "$1 $2 $3" >> "$work/want.new"
    mv "$work/want.new" "$work/want"
}
# The processes someone else set before the loop: "PID MASK KIND", checked as the
# threads of $work/foreign are.
: > "$work/foreign-procs"
want_of() { awk -v p="$1" '$1 == p { print $2 }' "$work/want" "$work/foreign-procs"; }
kind_of() { awk -v p="$1" '$1 == p { print $3 }' "$work/want"; }
# pick WANT_PATTERN: a random pid of the want list whose WANT matches (awk regex), in $victim.
pick() {
    awk -v w="$1" '$2 ~ w { print $1 }' "$work/want" > "$work/candidates"
    n=$(wc -l < "$work/candidates")
    victim=
    [ "$n" -gt 0 ] || return 1
    rand "$n"
    victim=$(sed -n "$((r + 1))p" "$work/candidates")
}

daemon=
start_daemon() {
    "$affine" daemon --config "$conf" >> "$log" 2>&1 &
    daemon=$!
    i=0
    until "$affine" daemon status > /dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -lt 200 ] || { bad daemon-start "$(tail -5 "$log")"; return 1; }
        sleep 0.1
    done
}
cleanup() {
    [ -z "$daemon" ] || { kill -TERM "$daemon" 2> /dev/null; wait "$daemon" 2> /dev/null; }
    while read -r p; do kill -KILL "$p" 2> /dev/null; done < "$work/started"
    wait 2> /dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# The daemon's view, from its status: "W PID SOFT" per workload, "T PID TID APPLIED
# STATE" per thread (lists hold no spaces; fields end with ", ").
daemon_view() {
    "$affine" daemon status > "$work/status" 2>&1 || { bad "daemon-status" "$(cat "$work/status")"; return 1; }
    awk '/^recent / { done = 1 }
         done { next }
         /^pid [0-9]+ \(/ { pid = $2; s = $0; sub(/.*: soft CPUs /, "", s); sub(/, .*/, "", s); print "W", pid, s; next }
         /^  tid [0-9]+ \(/ { a = $0; sub(/.*, applied /, "", a); st = a; sub(/, .*/, "", a)
                              sub(/^[^ ]* /, "", st); sub(/ since.*/, "", st); print "T", pid, $2, a, st }' \
        "$work/status" > "$work/view"
}

# masks PID...: "PID TID MASK" for every thread of the processes, in one grep (a
# process per thread is slow under TCG).
masks() {
    files=
    for p in "$@"; do files="$files /proc/$p/task/*/status"; done
    # shellcheck disable=SC2086  # the globs are meant to expand
    grep -H '^Cpus_allowed_list:' $files 2> /dev/null | awk -F'[/:\t ]+' '{ print $3, $5, $NF }'
}
# verdict [stopped]: what does not hold, one line each, from the files want,
# foreign, foreign-procs, the daemon's view (none once it stopped) and masks.
verdict() {
    { sed 's/^/WANT /' "$work/want"; sed 's/^/FOREIGN /' "$work/foreign" "$work/foreign-procs"
      [ -n "${1:-}" ] || cat "$work/view"; sed 's/^/MASK /' "$work/masks"; } |
    awk -v all="$all" -v stopped="${1:-}" '
        $1 == "WANT" { want[$2] = $3; kind[$2] = $4; next }
        $1 == "FOREIGN" { foreign[$2] = $3; next }
        $1 == "W" { listed[$2] = $3; next }
        $1 == "T" { applied[$3] = $4; state[$3] = $5; managed[$3] = 1; next }
        $1 == "MASK" { pid[$3] = $2; mask[$3] = $4; alive[$2] = 1; order[++n] = $3; next }
        END {
            for (p in want) {
                if (!(p in alive) || stopped) continue
                w = want[p]
                if (w == "-" && (p in listed)) print "pid " p ": no request, but the daemon lists soft CPUs " listed[p]
                if (w == "foreign" && (p in listed)) print "pid " p ": its mask was set by someone else, but the daemon lists soft CPUs " listed[p]
                if (w != "-" && w != "foreign" && listed[p] != w) print "pid " p " (" kind[p] "): asked for soft CPUs " w ", the daemon lists \"" listed[p] "\""
            }
            for (i = 1; i <= n; i++) {
                t = order[i]; m = mask[t]; p = pid[t]; w = want[p]
                if (t in foreign) {
                    if (m != foreign[t]) print "tid " t " of pid " p ": someone else set CPUs " foreign[t] ", now " m
                    if (t in managed) print "tid " t " of pid " p ": someone else set its mask, but the daemon manages it"
                } else if (stopped) {
                    if (m != all) print "tid " t " of pid " p ": CPUs " m " after the daemon stopped (it started on " all ")"
                } else if (!(t in managed)) {
                    if (m != all) print "tid " t " of pid " p ": not managed, but on CPUs " m " (it started on " all ")"
                    if (w != "-" && w != "foreign") print "tid " t " of pid " p ": asked for (soft CPUs " w "), not managed"
                } else {
                    if (m != applied[t]) print "tid " t " of pid " p ": the daemon says it applied " applied[t] " (" state[t] "), the kernel holds " m
                    if (state[t] == "home" && applied[t] != w) print "tid " t " of pid " p ": home on " applied[t] ", its soft CPUs are " w
                    if (state[t] == "widened" && applied[t] != all) print "tid " t " of pid " p ": widened to " applied[t]
                }
            }
        }'
}

# check_once: the kernel's masks agree with the daemon's view and with what was
# asked; what does not goes to $work/problems.
check_once() {
    : > "$work/problems"
    daemon_view || return 0
    # shellcheck disable=SC2046
    masks $(awk '{ print $1 }' "$work/want" "$work/foreign-procs") > "$work/masks"
    verdict > "$work/problems"
    [ ! -s "$work/problems" ]
}
# A change between two reads (a widening while the status is read) is not a fault:
# a fault is still there a moment later, and at every look for the next 3 s (a busy
# machine can widen and narrow a thread several times in a row).
check_round() {
    looks=0
    while [ "$looks" -lt 6 ]; do
        check_once && { ok "$1"; return; }
        looks=$((looks + 1))
        sleep 0.5
    done
    bad "$1" "$(cat "$work/problems") | status: $(cat "$work/status") | daemon log: $(tail -5 "$log")"
}

# A hog on CPU 0 and a sleeper on CPU 1, both set by someone else (taskset): never
# the daemon's. The hog keeps CPU 0 busy: threads at home there are widened.
taskset -c 0 sh -c 'while :; do :; done' &
hog=$!
started $hog
taskset -c 1 sleep 3600 &
pinned=$!
started $pinned
sleep 0.2
echo "$hog 0 foreign-hog" >> "$work/foreign-procs"
echo "$pinned 1 foreign-pinned" >> "$work/foreign-procs"

start_daemon || exit 1

# A process of several idle threads, every thread asked for: one of them is later
# set by someone else and must then stay as it was set, across every restart. Its
# request is left alone (a new request for the whole process would take that
# thread back, as asked).
"$helpers/many_threads" 3 > /dev/null 2>&1 &
threads=$!
started $threads
sleep 0.3
if "$affine" pin --soft 0 --all-threads "$threads" > /dev/null 2>&1; then set_want $threads 0 threads
else bad pin-threads "pin --soft 0 --all-threads $threads failed"; set_want $threads - threads; fi

# start_task KIND: a sleeper, or a spinner (CPU-bound: widened while its home is busy).
start_task() {
    case $1 in
    spinner) sh -c 'while :; do :; done' > /dev/null 2>&1 & ;;
    *) sleep 3600 > /dev/null 2>&1 & ;;
    esac
    task=$!
    started $task
    set_want $task - "$1"
}
# ask PID CPUS: pin --soft, "all" removes; the want follows.
ask() {
    if out=$("$affine" pin --soft "$2" "$1" 2>&1); then
        if [ "$2" = all ]; then set_want "$1" - "$(kind_of "$1")"; else set_want "$1" "$2" "$(kind_of "$1")"; fi
    else
        bad "round-$round-pin-soft-$2" "pid $1: $out"
    fi
}

# A CPU-bound process at home on CPU 0 with the hog: widened onto CPU 1 while the
# hog runs, back home while it pauses. (Its soft CPUs stay 0; only its request
# comes and goes.)
start_task spinner
ask "$task" 0

widened_restarts=0
inflight_answered=0
hog_stopped=0
round=1
while [ "$round" -le "$rounds" ]; do
    # Now and then the hog pauses for a round (home has room: a widened thread
    # comes back).
    if [ "$hog_stopped" = 1 ]; then kill -CONT "$hog"; hog_stopped=0; fi
    rand 4
    if [ "$r" = 0 ]; then kill -STOP "$hog"; hog_stopped=1; fi
    # A new process asked for (ten at most), and the spinner asked for again.
    if [ "$(wc -l < "$work/want")" -lt 10 ]; then
        start_task sleeper
        rand 2
        ask "$task" "$r"
    fi
    awk '$2 == "-" && $3 == "spinner" { print $1 }' "$work/want" | head -1 > "$work/idle"
    [ ! -s "$work/idle" ] || ask "$(cat "$work/idle")" 0
    # Something happens to one managed process: its request removed, its soft CPUs
    # changed, it exits, or someone else sets its mask (all CPUs, what a widening
    # would set too: the daemon must tell them apart by its journal).
    if pick '^[0-9]' && [ "$(kind_of "$victim")" != threads ]; then
        rand 4
        case $(kind_of "$victim"):$r in
        *:0) ask "$victim" all ;;
        sleeper:1) ask "$victim" $((1 - $(want_of "$victim"))) ;;
        sleeper:2) kill -KILL "$victim"; wait "$victim" 2> /dev/null; set_want "$victim" gone ;;
        sleeper:3)
            taskset -pc "$all" "$victim" > /dev/null
            set_want "$victim" foreign sleeper
            echo "$victim $all" >> "$work/foreign" ;;
        esac
    fi
    # Once: someone else sets one thread of the many-thread process.
    if [ "$round" = 3 ]; then
        for task_dir in /proc/"$threads"/task/*; do
            tid=${task_dir##*/}
            [ "$tid" = "$threads" ] || break
        done
        taskset -pc "$all" "$tid" > /dev/null
        echo "$tid $all" >> "$work/foreign"
    fi
    # Time for the hog to make the daemon widen (and narrow) its neighbours.
    rand 10
    sleep "0.$r"
    # A request in flight when the daemon is killed: a new one, a removal or a
    # change. Answered "ok", it holds; not answered, either outcome, but a whole one.
    rand 3
    inflight=
    case $r in
    0) start_task sleeper; inflight=$task; rand 2; cpus=$r ;;
    1) pick '^[0-9]' && [ "$(kind_of "$victim")" != threads ] && { inflight=$victim; cpus=all; } ;;
    2) pick '^[0-9]' && [ "$(kind_of "$victim")" = sleeper ] && { inflight=$victim; cpus=$((1 - $(want_of "$victim"))); } ;;
    esac
    [ -n "$inflight" ] || { start_task sleeper; inflight=$task; cpus=0; }
    ( "$affine" pin --soft "$cpus" "$inflight" > /dev/null 2>&1; echo $? > "$work/inflight.rc" ) &
    asker=$!
    rand 4
    sleep "0.$r"
    kill -KILL "$daemon"
    wait "$daemon" 2> /dev/null
    wait "$asker"
    start_daemon || break
    if [ "$(cat "$work/inflight.rc")" = 0 ]; then
        inflight_answered=$((inflight_answered + 1))
        if [ "$cpus" = all ]; then set_want "$inflight" - "$(kind_of "$inflight")"
        else set_want "$inflight" "$cpus" "$(kind_of "$inflight")"; fi
    else
        daemon_view
        listed=$(awk -v p="$inflight" '$1 == "W" && $2 == p { print $3 }' "$work/view")
        set_want "$inflight" "${listed:--}" "$(kind_of "$inflight")"
    fi
    check_round "crash-round-$round-consistent"
    grep -q " widened$" "$work/view" && widened_restarts=$((widened_restarts + 1))
    round=$((round + 1))
done
echo "info $rounds kill -9: $inflight_answered requests in flight answered before it; $widened_restarts restarts took up a widened thread; $(grep -c ': widen ' "$log") widenings, $(grep -c ': narrow ' "$log") returns, $(grep -c ': release ' "$log") releases in the log"
if grep -q "taken up again" "$log"; then ok restarts-take-requests-up; else bad restarts-take-requests-up "$(tail -5 "$log")"; fi
if [ "$widened_restarts" -ge "$min_widened" ]; then ok "widened-threads-across-restarts"
else bad widened-threads-across-restarts "$widened_restarts restarts found a thread widened, want $min_widened"; fi

# A clean stop gives every mask back; the ones someone else set stay as they were.
kill -TERM "$daemon"
rc=0
wait "$daemon" || rc=$?
daemon=
if [ "$rc" = 0 ]; then ok sigterm-exit; else bad sigterm-exit "exit $rc: $(tail -3 "$log")"; fi
# shellcheck disable=SC2046
masks $(awk '{ print $1 }' "$work/want" "$work/foreign-procs") > "$work/masks"
verdict stopped > "$work/problems"
if [ -s "$work/problems" ]; then bad sigterm-restores-every-mask "$(cat "$work/problems")"; else ok sigterm-restores-every-mask; fi
if grep -q "stopping: .* restored" "$log"; then ok sigterm-logged; else bad sigterm-logged "$(tail -3 "$log")"; fi
# A sanitizer build reports into the daemon's log (kill -9 leaves no leak report;
# the final stop does).
if grep -q "Sanitizer\|runtime error:" "$log"; then bad sanitizer-report "$(grep -m 3 "Sanitizer\|runtime error:" "$log")"
else ok no-sanitizer-report; fi
[ "$failures" = 0 ] || exit 1
