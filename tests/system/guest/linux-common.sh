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

# CPU time of a task in ticks (utime + stime, fields 14 and 15 of its stat).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
uptime_s() { awk '{print $1}' /proc/uptime; }
# share PID SECONDS: the share of one CPU the task got over that window.
share() {
    _a=$(cpu_ticks "$1"); _t0=$(uptime_s)
    sleep "$2"
    _b=$(cpu_ticks "$1"); _t1=$(uptime_s)
    awk -v a="$_a" -v b="$_b" -v t0="$_t0" -v t1="$_t1" 'BEGIN { printf "%.2f", (b - a) / 100 / (t1 - t0) }'
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
# pages PID NODES: pages of PID's own memory on NODES ("all": anywhere): every
# mapping of numa_maps but files other processes map too (file= with mapmax=:
# shared libraries, the program's text), which the daemon leaves where they are.
pages() {
    _want=all
    [ "$2" = all ] || _want=$(echo "$2" | tr ',' '\n' | while IFS=- read -r a b; do seq "$a" "${b:-$a}"; done |
                              tr '\n' ',' | sed 's/,$//')
    awk -v want=",$_want," '/ file=/ && / mapmax=/ {next}
                        {for (i = 1; i <= NF; i++) if ($i ~ /^N[0-9]+=/) {
                            split(substr($i, 2), kv, "=")
                            if (want == ",all," || index(want, "," kv[1] ",") > 0) s += kv[2] } }
                        END { print s + 0 }' "/proc/$1/numa_maps"
}
# at_least_percent NAME PART WHOLE PERCENT
at_least_percent() {
    if [ "$3" -gt 0 ] && [ $(($2 * 100)) -ge $(($3 * $4)) ]; then pass "$1"; else fail "$1" "$2 of $3 pages (want $4%)"; return 1; fi
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
# Thousands of threads: one grep and one awk over every status file, never a
# process per thread (too slow under TCG). grep goes on past tasks that exit.
# Every thread of PID whose mask is not WANT, as "tid:mask" words.
stale_threads() {
    grep -H '^Cpus_allowed_list:' /proc/$1/task/*/status 2>/dev/null |
        awk -F'[/:\t ]+' -v w="$2" '$NF != w { print $5 ":" $NF }'
}
# Masks of every user task (kernel threads have no VmSize), as "tid mask" lines.
user_masks() {
    grep -H -e '^VmSize:' -e '^Cpus_allowed_list:' /proc/[0-9]*/task/[0-9]*/status 2>/dev/null |
        awk -F'[/:\t ]+' '$7 == "VmSize" { vm[$5] = 1 } $7 == "Cpus_allowed_list" { m[$5] = $NF }
                          END { for (t in m) if (t in vm) print t, m[t] }' | sort -n
}
# changed_masks BEFORE: the tasks of BEFORE (user_masks output) that still exist
# and whose mask differs now, as "tid before->now".
changed_masks() {
    { echo "$1" | sed 's/^/B /'
      grep -H '^Cpus_allowed_list:' /proc/[0-9]*/task/[0-9]*/status 2>/dev/null |
          awk -F'[/:\t ]+' '{ print "N", $5, $NF }'; } |
        awk '$1 == "B" { b[$2] = $3 } $1 == "N" { n[$2] = $3 }
             END { for (t in b) if ((t in n) && n[t] != b[t]) print t, b[t] "->" n[t] }' | sort -n
}

# check_pages NAME PID NODE AT_LEAST: the largest anonymous mapping of PID has at
# least AT_LEAST pages on NODE (it may have merged with a neighbouring mapping).
check_pages() {
    _p=$(mapping_pages_on "$2" "$3")
    if [ "$_p" -ge "$4" ]; then pass "$1"; else fail "$1" "$_p pages on node $3, expected at least $4: $(big_mapping "$2")"; fi
}

# locality PID: "NODES SHARE MASK": the nodes with a CPU in its mask, the share of
# its pages there (as pages() counts them), its mask. One process per reading.
locality() {
    awk '
        function expand(list, set,   parts, i, r, c) {
            split(list, parts, ",")
            for (i in parts) { split(parts[i], r, "-"); for (c = r[1]; c <= (r[2] == "" ? r[1] : r[2]); c++) set[c] = 1 } }
        FILENAME ~ /cpulist$/ { f = FILENAME; sub(/.*\/node/, "", f); node_cpus[f + 0] = $0; next }
        /^Cpus_allowed_list:/ { mask = $2; next }
        FILENAME ~ /status$/ { next }
        / file=/ && / mapmax=/ { next }
        { for (i = 1; i <= NF; i++) if ($i ~ /^N[0-9]+=/) { split(substr($i, 2), kv, "="); on[kv[1]] += kv[2]; all += kv[2] } }
        END {
            expand(mask, m)
            for (n in node_cpus) {
                delete cpus; expand(node_cpus[n], cpus)
                for (c in cpus) if (c in m) { mine[n] = 1; break }
            }
            for (k in mine) { list = list (list == "" ? "" : ",") k; here += on[k] }
            printf "%s %.3f %s\n", (list == "" ? "-" : list), (all > 0 ? here / all : 0), mask }' \
        /sys/devices/system/node/node[0-9]*/cpulist "/proc/$1/status" "/proc/$1/numa_maps"
}
