#!/bin/bash
# Crash consistency of the daemon (on this machine, private state directory,
# managing only processes this test starts): 20 rounds of requests, removals and
# process exits, with `kill -9` of the daemon at a random moment of each round,
# often while a request is in flight, then a restart. After every restart and after
# the final SIGTERM, read from /proc: no request answered "ok" is lost, no request
# removed comes back, every managed process holds its soft CPUs and every other one
# the mask it had, and a mask someone else set is never touched. ~40 s.
set -u
. "$(dirname "$0")/linux_lib.bash" "$@"

state=$(mktemp -d)
export AFFINE_STATE_DIR=$state/run   # never the host's /run/affine
conf=$state/daemon.conf
printf 'interval = "200ms"\n' > "$conf"
all=$(cpus_allowed $$)
[ "$all" != 0 ] || { echo "skip: needs two CPUs"; exit 77; }
daemon_pid=
start_daemon() {
    "$affine" daemon --config "$conf" >> "$state/daemon.log" 2>&1 &
    daemon_pid=$!
    for _ in $(seq 200); do "$affine" daemon status > /dev/null 2>&1 && return; sleep 0.05; done
}
trap 'kill -TERM "$daemon_pid" 2> /dev/null; wait "$daemon_pid" 2> /dev/null; cleanup; rm -rf "$state"' EXIT

# Someone else's mask: never the daemon's to touch.
start sleep 600
foreign=$pid
taskset -p 2 "$foreign" > /dev/null

declare -A want   # pid -> its soft CPUs, or "-" for none (its mask as it had)
round_failures=0
expect_consistent() {  # ROUND: the daemon's status and the kernel's masks agree with want
    local round=$1 json p mask listed
    json=$("$affine" daemon status --json 2>&1) || { bad "round $round: status" "$json"; return; }
    for p in "${!want[@]}"; do
        [ -d "/proc/$p" ] || { unset "want[$p]"; continue; }
        mask=$(cpus_allowed "$p")
        # "SOFT STATE" of its workload: a thread may be widened (a kill -9 between the
        # journal and the kernel leaves it so until its home has room), never wrong.
        read -r listed thread_state <<< "$(python3 -c '
import json, sys
s = json.loads(sys.argv[1])
w = next((w for w in s["workloads"] if w["pid"] == int(sys.argv[2])), None)
print("- -" if w is None else "%s %s" % (w["soft"], w["threads"][0]["state"] if w["threads"] else "none"))' "$json" "$p")"
        listed=${listed//[\[\]\" ]/}
        if [ "${want[$p]}" = "-" ]; then
            [ "$listed" = "-" ] && [ "$mask" = "$all" ] ||
                { bad "round $round: pid $p" "no request, but listed '$listed' with mask $mask"; round_failures=$((round_failures + 1)); }
        elif [ "$listed" != "${want[$p]}" ]; then
            bad "round $round: pid $p" "asked for ${want[$p]}, listed '$listed'"; round_failures=$((round_failures + 1))
        elif [ "$mask" != "${want[$p]}" ] && ! { [ "$thread_state" = widened ] && [ "$mask" = "$all" ]; }; then
            bad "round $round: pid $p" "asked for ${want[$p]}, mask $mask, thread $thread_state"; round_failures=$((round_failures + 1))
        fi
    done
    [ "$(cpus_allowed "$foreign")" = 1 ] || { bad "round $round: foreign mask" "$(cpus_allowed "$foreign")"; round_failures=$((round_failures + 1)); }
}

start_daemon
RANDOM=17
for round in $(seq 1 20); do
    # Some settled work: a new process asked for, a removal, an exit.
    start sleep 600
    want[$pid]=-
    cpus=$((RANDOM % 2))
    if "$affine" pin --soft "$cpus" "$pid" > /dev/null 2>&1; then want[$pid]=$cpus; fi
    managed=()
    for p in "${!want[@]}"; do [ "${want[$p]}" != "-" ] && managed+=("$p"); done
    if [ "${#managed[@]}" -gt 2 ]; then
        victim=${managed[$((RANDOM % ${#managed[@]}))]}
        case $((RANDOM % 3)) in
            0) "$affine" pin --soft all "$victim" > /dev/null 2>&1 && want[$victim]=- ;;
            1) kill "$victim"; wait "$victim" 2> /dev/null; unset "want[$victim]" ;;
            2) cpus=$((1 - ${want[$victim]})); "$affine" pin --soft "$cpus" "$victim" > /dev/null 2>&1 && want[$victim]=$cpus ;;
        esac
    fi
    # A request in flight when the daemon is killed: answered "ok" or not, the
    # process ends up all asked for or all as it was.
    start sleep 600
    inflight=$pid
    cpus=$((RANDOM % 2))
    ( "$affine" pin --soft "$cpus" "$inflight" > /dev/null 2>&1; echo $? > "$state/inflight.rc" ) &
    asker=$!
    sleep "0.0$((RANDOM % 10))"
    kill -KILL "$daemon_pid"; wait "$daemon_pid" 2> /dev/null
    wait "$asker"
    start_daemon
    if [ "$(cat "$state/inflight.rc")" = 0 ]; then
        want[$inflight]=$cpus
    else
        # Not answered: either outcome, but a whole one. Ask the daemon which.
        listed=$("$affine" daemon status --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(next((w["soft"] for w in s["workloads"] if w["pid"]==int(sys.argv[1])), "-"))' "$inflight")
        listed=${listed//[\[\]\" ]/}
        want[$inflight]=$listed
    fi
    expect_consistent "$round"
done
check_eq twenty-kill-9-rounds-consistent 0 "$round_failures"
check_has restarts-took-up-requests "$(cat "$state/daemon.log")" "taken up again"

# A clean stop gives every mask back; the foreign one stays as it was set.
kill -TERM "$daemon_pid"; wait "$daemon_pid" 2> /dev/null; daemon_pid=
restored=0
for p in "${!want[@]}"; do
    [ -d "/proc/$p" ] || continue
    [ "$(cpus_allowed "$p")" = "$all" ] || { bad "sigterm restores pid $p" "$(cpus_allowed "$p")"; restored=1; }
done
check_eq sigterm-restores-every-mask 0 "$restored"
check_eq foreign-mask-untouched 1 "$(cpus_allowed "$foreign")"
finish
