# Benchmark guest (busybox sh) for bench/daemon.sh: soft vs hard vs no affinity on
# 2 nodes of 1 CPU each, the daemon's reaction times and its overhead. Prints
# "BENCH key value" lines; figures, not assertions.
. /lib/linux-common.sh

# The samplers below use the shell's builtins only (read, set, test): under
# emulation a process started per sample would itself load the CPU the daemon
# looks at for room, and skew what is measured.
# cpu_of PID: sets _cpu to the CPU the task last ran on (field 39 of its stat).
cpu_of() {
    read -r _l < "/proc/$1/stat"
    _l=${_l##*) }
    set -- $_l
    _cpu=${37}
}
# mask_of PID: sets _mask to the task's Cpus_allowed_list.
mask_of() {
    _mask=
    while read -r _k _v; do
        [ "$_k" = Cpus_allowed_list: ] && { _mask=$_v; return; }
    done < "/proc/$1/status"
}
# home_share PID SECONDS: share of 5 samples a second on CPU 0 (node 0).
home_share() {
    _n=0; _home=0; _end=$(($2 * 5))
    while [ "$_n" -lt "$_end" ]; do
        cpu_of "$1"
        [ "$_cpu" = 0 ] && _home=$((_home + 1))
        _n=$((_n + 1))
        usleep 200000
    done
    awk -v h="$_home" -v n="$_n" 'BEGIN { printf "%.2f", h / n }'
}
# until_mask PID LIST: seconds until the task's mask is LIST (polled every 250 ms:
# faster polling, a process per sample, kept CPU 0 from looking idle enough to
# come home to).
until_mask() {
    _t0=$(uptime_s)
    _i=0
    mask_of "$1"
    while [ "$_mask" != "$2" ]; do
        _i=$((_i + 1)); [ "$_i" -lt 240 ] || { echo timeout; return; }
        usleep 250000
        mask_of "$1"
    done
    awk -v t0="$_t0" -v t1="$(uptime_s)" 'BEGIN { printf "%.2f", t1 - t0 }'
}
spin_job() { sh -c 'while :; do :; done' & }

mkdir -p /run
affine daemon > /tmp/daemon.log 2>&1 &
daemon=$!
_i=0
until affine daemon status > /dev/null 2>&1; do
    _i=$((_i + 1))
    [ "$_i" -lt 100 ] || { fail daemon-start "$(cat /tmp/daemon.log)"; return 1; }
    usleep 100000
done

# --- soft vs hard vs none: share under contention (hog pinned to CPU 0) and the
# share of time on the home node uncontended.
for mode in none hard soft; do
    case $mode in
    none) spin_job; job=$! ;;
    hard) spin_job; job=$!; affine pin 0 $job > /dev/null ;;
    soft) affine run --soft 0 -- sh -c 'while :; do :; done' > /dev/null 2>&1 & job=$! ;;
    esac
    sh -c 'while :; do :; done' & hog=$!
    affine pin 0 $hog > /dev/null
    sleep 3
    echo "BENCH $mode.contended_share $(share $job 6)"
    kill $hog
    sleep 5
    echo "BENCH $mode.uncontended_home_share $(home_share $job 6)"
    echo "BENCH $mode.uncontended_share $(share $job 3)"
    kill $job
    sleep 1
done

# --- reaction: contention to widening, quiet to home (three rounds)
affine run --soft 0 -- sh -c 'while :; do :; done' > /dev/null 2>&1 &
job=$!
sleep 2
for round in 1 2 3; do
    sh -c 'while :; do :; done' & hog=$!
    affine pin 0 $hog > /dev/null
    echo "BENCH reaction.widen_s.$round $(until_mask $job 0-1)"
    sleep 2
    kill $hog
    echo "BENCH reaction.home_s.$round $(until_mask $job 0)"
    sleep 35   # past flap_window, so each round starts without back-off
done
kill $job

# --- overhead: the daemon's CPU time per minute
window=30
idle_before=$(cpu_ticks $daemon)
sleep $window
echo "BENCH overhead.idle_cpu_s_per_min $(awk -v t="$(($(cpu_ticks $daemon) - idle_before))" -v w=$window 'BEGIN { printf "%.3f", t / 100 * 60 / w }')"

many_processes 5000 > /tmp/procs.log 2>&1 &
procs=$!
wait_for /tmp/procs.log ready
echo "BENCH overhead.processes $(ls -d /proc/[0-9]* | wc -l)"
before=$(cpu_ticks $daemon)
sleep $window
echo "BENCH overhead.5000_unmanaged_cpu_s_per_min $(awk -v t="$(($(cpu_ticks $daemon) - before))" -v w=$window 'BEGIN { printf "%.3f", t / 100 * 60 / w }')"
kill $procs

sleep 2

# Managed idle threads of one process, home CPU 0: the daemon's CPU time per minute
# with CPU 0 idle, then with a hog pinned there (in the same cgroup as the threads:
# the guest has only the root one).
per_min() { awk -v t="$(($(cpu_ticks $daemon) - $1))" -v w=$window 'BEGIN { printf "%.3f", t / 100 * 60 / w }'; }
for n in 1000 3000 5000 10000; do
    # The guest's threads-max follows its memory (under 8,192 with 1 GiB): raised
    # for the run (10,000 threads' kernel stacks take about 160 MB of the 1 GiB).
    # (cat, not read: the shell's read takes a byte at a time, and a sysctl file
    # read from an offset other than 0 ends there: "7" of 7855.)
    most=$(cat /proc/sys/kernel/threads-max)
    [ "$most" -ge $((n + 500)) ] || echo $((n + 500)) > /proc/sys/kernel/threads-max || true
    most=$(cat /proc/sys/kernel/threads-max)
    [ "$n" -le "$most" ] || { echo "BENCH overhead.${n}_managed skipped(threads-max=$most)"; continue; }
    many_threads $((n - 1)) > /tmp/threads.log 2>&1 &
    threads=$!
    wait_for /tmp/threads.log ready
    affine pin --soft 0 --all-threads $threads > /dev/null
    echo "BENCH overhead.managed_threads.$n $(affine daemon status --json | grep -o '"tid"' | wc -l)"
    sleep 3
    before=$(cpu_ticks $daemon)
    sleep $window
    echo "BENCH overhead.${n}_managed_idle_cpu_s_per_min $(per_min $before)"
    sh -c 'while :; do :; done' & hog=$!
    affine pin 0 $hog > /dev/null
    sleep 3
    before=$(cpu_ticks $daemon)
    sleep $window
    echo "BENCH overhead.${n}_managed_hog_at_home_cpu_s_per_min $(per_min $before)"
    kill $hog $threads
    sleep 3
done
kill -TERM $daemon
wait $daemon
pass bench-done
