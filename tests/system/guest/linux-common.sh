# Guest-side helpers for affine's Linux system tests (busybox sh), sourced by the
# scenarios after affine-check.sh.

# check_status NAME WANT COMMAND...: the command's exit status must be WANT; its
# output (stdout and stderr) is left in $out for further checks.
check_status() {
    _n=$1
    _want=$2
    shift 2
    _rc=0
    out=$("$@" 2>&1) || _rc=$?
    if [ "$_rc" = "$_want" ]; then
        pass "$_n"
    else
        fail "$_n" "'$*' exited $_rc, expected $_want: $out"
    fi
}

cpus_allowed() { awk '/^Cpus_allowed_list:/{print $2}' "/proc/$1/status"; }
# The CPU a task last ran on: field 39 of /proc/PID/stat (after the comm).
last_cpu() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $37}'; }
# Pages on node N of the largest anonymous mapping of PID.
big_mapping() {
    awk '{for (i = 1; i <= NF; i++) if ($i ~ /^anon=/) { v = substr($i, 6) + 0; if (v > m) { m = v; l = $0 } } }
         END { print l }' "/proc/$1/numa_maps"
}
mapping_pages_on() {
    big_mapping "$1" | awk -v n="N$2=" '{for (i = 1; i <= NF; i++) if (index($i, n) == 1) s += substr($i, length(n) + 1)}
                                        END { print s + 0 }'
}
# wait_for FILE TEXT: up to 20 s for TEXT to appear in FILE.
wait_for() {
    _i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        _i=$((_i + 1))
        [ "$_i" -lt 200 ] || return 1
        usleep 100000
    done
}
# in_set CPU LIST: whether CPU is in a kernel list such as 0-1,4.
in_set() {
    echo "$2" | tr ',' '\n' | awk -F- -v c="$1" '{ lo = $1; hi = ($2 == "" ? $1 : $2); if (c >= lo && c <= hi) f = 1 }
                                                END { exit !f }'
}
# A task that wakes often, so the CPU it last ran on follows its affinity.
start_ticker() {
    sh -c 'while :; do usleep 20000; done' &
    ticker=$!
}
# start_touch PAGES_MB [affine run options...]: start touch_memory under affine run
# and wait until it touched its memory; its pid in $toucher.
start_touch() {
    _mb=$1
    shift
    _log=/tmp/touch.$$.$_mb.$RANDOM
    affine run "$@" -- touch_memory "$_mb" > "$_log" 2>&1 &
    toucher=$!
    wait_for "$_log" touched || fail "touch-memory-start" "touch_memory did not start: $(cat "$_log")"
}
# The Cpus_allowed_list of a status file, with shell builtins only (thousands of
# threads: a process per thread is too slow under TCG). Empty when it is gone.
mask_of_status() {
    _m=
    { while read -r _k _val; do
        [ "$_k" = "Cpus_allowed_list:" ] && { _m=$_val; break; }
    done < "$1"; } 2>/dev/null
    echo "$_m"
}
# Every thread of PID whose mask is not WANT, as "tid:mask" words.
stale_threads() {
    for _s in /proc/$1/task/*/status; do
        _v=$(mask_of_status "$_s")
        [ -z "$_v" ] || [ "$_v" = "$2" ] || echo "${_s#/proc/$1/task/}:$_v"
    done
}
# Masks of every user task (kernel threads have no VmSize), as "tid mask" lines.
user_masks() {
    for _s in /proc/[0-9]*/task/[0-9]*/status; do
        _m=
        _vm=
        _t=
        { while read -r _k _val _rest; do
            case $_k in
            Pid:) _t=$_val ;;
            VmSize:) _vm=1 ;;
            Cpus_allowed_list:) _m=$_val; break ;;
            esac
        done < "$_s"; } 2>/dev/null
        [ -z "$_vm" ] || [ -z "$_m" ] || echo "$_t $_m"
    done
}
# changed_masks BEFORE: the tasks of BEFORE (user_masks output) that still exist
# and whose mask differs now, as "tid before->now".
changed_masks() {
    echo "$1" | while read -r _t _m; do
        [ -n "$_t" ] || continue
        _now=$(mask_of_status "/proc/$_t/status")
        [ -z "$_now" ] || [ "$_now" = "$_m" ] || echo "$_t $_m->$_now"
    done
}

# check_pages NAME PID NODE AT_LEAST: the largest anonymous mapping of PID has at
# least AT_LEAST pages on NODE (it may have merged with a neighbouring mapping).
check_pages() {
    _p=$(mapping_pages_on "$2" "$3")
    if [ "$_p" -ge "$4" ]; then pass "$1"; else fail "$1" "$_p pages on node $3, expected at least $4: $(big_mapping "$2")"; fi
}
