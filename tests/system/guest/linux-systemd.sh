# Guest scenario (bash, Debian 12 with systemd as PID 1, 2 nodes of 1 CPU each):
# the Debian package's daemon as it is deployed. Run at boot by
# affine-system-test.service with affine-check.sh and linux-common.sh sourced;
# every check reads the platform's own view: /proc/PID/status and numa_maps,
# systemctl show, journalctl, dpkg.

# Each part says when it starts (seconds since boot): where the time goes under TCG.
part() { echo "AFFINE-INFO part $1 at t=$(cut -d' ' -f1 /proc/uptime)"; }
usleep() { sleep "$(awk -v u="$1" 'BEGIN { printf "%.3f", u / 1000000 }')"; }
prop() { systemctl show -p "$1" --value affine.service; }
# The daemon's log lines (the message only) since the unit's current start.
journal() { journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID="$(prop InvocationID)"; }
journal_all() { journalctl --no-pager -o cat -u affine.service; }
# until_ok TENTHS COMMAND...: polls COMMAND every half second, at most TENTHS/10 s.
until_ok() {
    _t=$1
    shift
    _i=0
    until "$@" > /dev/null 2>&1; do
        _i=$((_i + 5))
        [ "$_i" -lt "$_t" ] || return 1
        usleep 500000
    done
}
status_has() { affine daemon status 2> /dev/null | grep -qF -- "$1"; }
status_matches() { affine daemon status 2> /dev/null | grep -qE -- "$1"; }
mask_is() { [ "$(cpus_allowed "$1")" = "$2" ]; }
is_gone() { [ ! -e "/proc/$1" ]; }
# Every file of the root file system but what a boot, apt and dpkg keep changing
# anyway (their logs, caches, databases, systemd's own state): the same list
# before the install and after the purge means the package left nothing.
snapshot() {
    find / -xdev \( -path /proc -o -path /sys -o -path /tmp -o -path /var/tmp -o -path /var/log \
                    -o -path /var/cache -o -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/systemd \) \
         -prune -o -print | sort
}
export LANG=C.UTF-8
deb=$(ls /opt/affine-test/affine_*.deb)
before=$(snapshot)
before_masks=$(user_masks)

# --- apt installs the package offline; the unit is installed, not enabled or started
part install
check_status apt-install 0 apt-get install -y "$deb"
# Nothing else can be tested without the package (check_status leaves its status in _rc).
[ "$_rc" = 0 ] || exit 1
check_eq dpkg-installed "install ok installed" "$(dpkg-query -W -f='${Status}' affine 2>&1)"
check_eq unit-not-enabled-on-install disabled "$(systemctl is-enabled affine.service 2>&1)"
check_eq unit-not-started-on-install inactive "$(systemctl is-active affine.service 2>&1)"
check_eq unit-type-notify notify "$(prop Type)"

# --- systemctl enable --now: active, under the unit's sandbox
part enable
check_status enable-now 0 systemctl enable --now affine.service
check_eq enabled enabled "$(systemctl is-enabled affine.service)"
check_eq active active "$(systemctl is-active affine.service)"
# (systemd reports the watchdog of a started unit: infinity before its first start)
check_eq unit-shipped-watchdog 30s "$(prop WatchdogUSec)"
pid=$(prop MainPID)
check_eq main-pid-is-the-daemon affine "$(cat /proc/$pid/comm 2>&1)"
st=$(cat /proc/$pid/status)
# CAP_DAC_READ_SEARCH (2), CAP_NET_ADMIN (12), CAP_SYS_PTRACE (19), CAP_SYS_NICE (23)
check_contains sandbox-capabilities "$st" "CapBnd:	0000000000881004"
check_contains sandbox-no-new-privs "$st" "NoNewPrivs:	1"
check_contains sandbox-seccomp-filter "$st" "Seccomp:	2"
# The proc connector answers in the initial network namespace only.
check_eq sandbox-initial-netns "$(readlink /proc/1/ns/net)" "$(readlink /proc/$pid/ns/net)"
check_contains journal-ready "$(journal)" "ready: state /run/affine, configuration /etc/affine/daemon.conf"
check_ne status-text-from-sd-notify "" "$(prop StatusText)"
check_eq socket-for-everyone 666 "$(stat -c %a /run/affine/daemon.sock 2>&1)"

# --- affine run --soft: soft affinity (hard 0-1, applied 1) through the daemon
part run-soft
affine run --soft 1 -- sleep 3600 > /tmp/job.log 2>&1 &
job=$!
# (the thread is taken before it executes sleep: its name may still be affine's)
if until_ok 300 status_matches "tid $job \([a-z]+\): hard 0-1, soft 1, applied 1"; then pass run-soft-managed
else fail run-soft-managed "$(affine daemon status 2>&1; cat /tmp/job.log)"; fi
check_eq run-soft-kernel-mask 1 "$(cpus_allowed $job)"
check_contains run-soft-memory-policy "$(cat /proc/$job/numa_maps)" "prefer:1"

# --- systemctl reload: a bad file is refused and the running configuration stays;
# then a placement rule, which the daemon follows through the kernel's process events
part reload
cp /etc/affine/daemon.conf /tmp/daemon.conf.good
printf '\nno_such_key = 1\n' >> /etc/affine/daemon.conf
check_status reload-bad-config-refused 1 systemctl reload affine.service
check_contains reload-bad-config-logged "$(journal)" "reload refused:"
check_eq reload-bad-config-keeps-running active "$(systemctl is-active affine.service)"
check_eq reload-bad-config-same-daemon "$pid" "$(prop MainPID)"
# The shipped conffile with CPU 0 reserved (the placement below must move memory to
# node 1) and a rule.
cp /tmp/daemon.conf.good /etc/affine/daemon.conf
sed -i -e 's/^reserved_cpus = ""/reserved_cpus = "0"/' /etc/affine/daemon.conf
check_contains conf-edited "$(cat /etc/affine/daemon.conf)" 'reserved_cpus = "0"'
cat >> /etc/affine/daemon.conf << 'RULE'

[[rule]]
name = "placed"
comm = ["placed_mem"]
min_memory = "16M"
RULE
check_status reload 0 systemctl reload affine.service
check_contains reload-logged "$(journal)" "configuration reloaded from /etc/affine/daemon.conf"
check_eq reload-same-daemon "$pid" "$(prop MainPID)"
out=$(affine daemon status 2>&1)
check_contains reload-rule-active "$out" "placement rules: 1; new processes seen through process events (proc connector)"

# --- a workload the rule names, started now with its pages on node 0: the daemon
# sees it start, gives it node 1's CPU (CPU 0 is reserved) and moves its memory
# there (move_pages under the unit's system call filter)
part placement
cp /opt/affine-test/touch_memory /opt/affine-test/placed_mem
affine run --nodes 0 --mem-policy preferred -- /opt/affine-test/placed_mem 48 > /tmp/placed.log 2>&1 &
placed=$!
until_ok 200 grep -q touched /tmp/placed.log || fail placed-start "$(cat /tmp/placed.log)"
if until_ok 300 status_has "pid $placed (placed_mem), rule 'placed': node 1, soft CPUs 1"; then pass placed-by-rule
else fail placed-by-rule "$(affine daemon status 2>&1; journal | tail -20)"; fi
check_eq placed-kernel-mask 1 "$(cpus_allowed $placed)"
wait_pages() { [ $(($(pages $placed 1) * 100)) -ge $(($(pages $placed all) * 99)) ]; }
until_ok 300 wait_pages || true
at_least_percent placed-pages-moved-to-node-1 "$(pages $placed 1)" "$(pages $placed all)" 99
check_contains placed-logged "$(journal)" "place pid $placed: rule 'placed' names placed_mem (pid $placed): placed on node 1"
check_contains placed-memory-moved-logged "$(journal)" "move-memory pid $placed"
check_not_contains no-proc-scan-fallback "$(journal_all)" "scanning /proc"

# --- systemctl restart: a new daemon takes every request up again
part restart
check_status restart 0 systemctl restart affine.service
pid2=$(prop MainPID)
check_ne restart-new-daemon "$pid" "$pid2"
check_contains restart-events-logged "$(journal)" "1 placement rule; new processes seen through process events (proc connector)"
if until_ok 300 status_has "pid $job (sleep), uid 0: soft CPUs 1,"; then pass restart-takes-soft-up
else fail restart-takes-soft-up "$(affine daemon status 2>&1; journal | tail -20)"; fi
check_eq restart-soft-kernel-mask 1 "$(cpus_allowed $job)"
if until_ok 300 mask_is $placed 1; then pass restart-placed-again; else fail restart-placed-again "$(cpus_allowed $placed)"; fi
check_eq restart-no-failure 0 "$(prop NRestarts)"

# --- the watchdog: with a short WatchdogSec (a drop-in; the shipped 30 s is checked
# above) the daemon stays up past several periods; stopped (SIGSTOP), it misses
# them, systemd kills it and starts a new one, which takes the requests up again
part watchdog
mkdir -p /run/systemd/system/affine.service.d
printf '[Service]\nWatchdogSec=3s\n' > /run/systemd/system/affine.service.d/watchdog.conf
systemctl daemon-reload
check_status watchdog-restart 0 systemctl restart affine.service
check_eq watchdog-short 3s "$(prop WatchdogUSec)"
pid3=$(prop MainPID)
first_ping=$(prop WatchdogTimestampMonotonic)
sleep 12
check_eq watchdog-alive-past-4-periods active "$(systemctl is-active affine.service)"
check_eq watchdog-same-daemon "$pid3" "$(prop MainPID)"
check_ne watchdog-pings "$first_ping" "$(prop WatchdogTimestampMonotonic)"
kill -STOP "$pid3"
if until_ok 300 is_gone "$pid3"; then pass watchdog-kills-a-stopped-daemon; else fail watchdog-kills-a-stopped-daemon "pid $pid3 still there"; fi
if until_ok 300 status_has "pid $job (sleep), uid 0: soft CPUs 1,"; then pass watchdog-new-daemon-takes-up
else fail watchdog-new-daemon-takes-up "$(affine daemon status 2>&1; journal_all | tail -20)"; fi
check_eq watchdog-restarted-once 1 "$(prop NRestarts)"
check_contains watchdog-timeout-logged "$(journalctl --no-pager -u affine.service)" "Watchdog timeout"
rm -r /run/systemd/system/affine.service.d
systemctl daemon-reload
check_status watchdog-back-to-shipped 0 systemctl restart affine.service
check_eq watchdog-shipped-again 30s "$(prop WatchdogUSec)"
until_ok 300 mask_is $job 1 || true

# --- systemctl stop restores every mask it changed; nothing else was touched
part stop
# The daemon's own lines of priority error or worse (journald's priorities come
# from its <3> prefixes), but the refusal of the bad file above.
check_eq no-errors-logged "" "$(journalctl --no-pager -o cat -p err _SYSTEMD_UNIT=affine.service | grep -v 'reload refused')"
check_status stop 0 systemctl stop affine.service
check_eq stopped inactive "$(systemctl is-active affine.service)"
check_eq stop-restores-soft-job 0-1 "$(cpus_allowed $job)"
check_eq stop-restores-placed 0-1 "$(cpus_allowed $placed)"
check_contains stop-logged "$(journal_all)" "stopping: "
check_eq stop-touched-nothing-else "" "$(changed_masks "$before_masks")"
check_eq stop-removes-run-dir no "$([ -e /run/affine ] && echo yes || echo no)"

# --- the unit's system call filter lets through what the daemon's work calls
# (systemd's own resolved list), and they work under it: affine migrate
# (migrate_pages) and affine pin (sched_setaffinity) run by a unit with the
# shipped unit's filter, capabilities and address families
filter=" $(prop SystemCallFilter) "
for call in sched_setaffinity move_pages migrate_pages set_mempolicy; do
    check_contains "filter-allows-$call" "$filter" " $call "
done
{ printf '[Service]\nType=oneshot\nExecStart=/usr/bin/affine migrate %s 0\nExecStart=/usr/bin/affine pin 0 %s\n' $placed $placed
  grep -E '^(SystemCall[A-Za-z]*|NoNewPrivileges|CapabilityBoundingSet|RestrictAddressFamilies)=' /lib/systemd/system/affine.service
} > /run/systemd/system/affine-filtered.service
systemctl daemon-reload
check_status filtered-migrate-and-pin 0 systemctl start affine-filtered.service
at_least_percent filtered-migrate-moved-pages "$(pages $placed 0)" "$(pages $placed all)" 99
check_eq filtered-pin-kernel-mask 0 "$(cpus_allowed $placed)"
rm /run/systemd/system/affine-filtered.service
systemctl daemon-reload

# --- apt purge of a running daemon leaves nothing: no process, file, unit or link
# (a stop, unlike a restart, removes /run/affine and the requests with it)
part purge
check_status start-again 0 systemctl start affine.service
pid4=$(prop MainPID)
check_not_contains stop-ends-requests "$(affine daemon status 2>&1)" "pid $job "
check_status pin-soft-again 0 affine pin --soft 1 $job
check_eq pin-soft-again-kernel-mask 1 "$(cpus_allowed $job)"
check_status apt-purge 0 apt-get purge -y affine
if until_ok 100 is_gone "$pid4"; then pass purge-stops-the-daemon
else fail purge-stops-the-daemon "pid $pid4 runs: $(journalctl --no-pager -o cat -u affine.service | tail -5)"; fi
check_contains purge-stop-is-clean "$(journalctl --no-pager -o cat _PID="$pid4")" "restored;"
check_eq purge-restores-the-mask 0-1 "$(cpus_allowed $job)"
kill $job $placed
check_eq purge-no-daemon-process "" "$(grep -lx affine /proc/[0-9]*/comm 2>/dev/null || true)"
check_eq purge-dpkg-forgets "" "$(dpkg-query -W -f='${Status}' affine 2>/dev/null || true)"
check_eq purge-no-unit "" "$(systemctl list-unit-files --no-legend affine.service 2>&1 || true)"
for path in /etc/affine /run/affine /var/lib/affine /lib/systemd/system/affine.service \
            /etc/systemd/system/multi-user.target.wants/affine.service /usr/bin/affine; do
    check_eq "purge-removes-$path" "" "$(ls -d "$path" 2>/dev/null)"
done
check_eq purge-no-helper-state "" "$(grep -rl affine /var/lib/systemd/deb-systemd-helper-enabled 2>/dev/null || true)"
rm -f /opt/affine-test/placed_mem
check_eq purge-leaves-nothing "" "$(diff <(echo "$before") <(snapshot) || true)"
part end
