#!/usr/bin/env bash
# The Debian package on a fresh Debian 12, in a throwaway root (never on this
# machine): it installs with dpkg, runs, ships what it should, and purges without a
# trace.   test-install.sh PACKAGEDIR WORKDIR   (as root; see debian-root.sh)
# The root runs in private mount and pid namespaces with its own /proc and /sys,
# so nothing it does reaches the machine's mounts or processes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
packages=$(realpath "$1")
work=$(realpath -m "$2")
source "$here/../cli/lib.sh" /bin/true   # pass/fail/expect_* (AFFINE is unused here)

deb=$(ls "$packages"/affine_*_*.deb)
root=$work/root
started=$SECONDS
bash "$here/debian-root.sh" "$root" "$work/cache"
trap 'rm -rf "$root"' EXIT
echo "fresh root ready in $((SECONDS - started)) s"

# in_root SCRIPT: runs SCRIPT with sh in the root, in new mount and pid namespaces.
in_root() {
    unshare --mount --pid --fork --propagation private sh -c '
        root=$1; shift
        mount -t proc proc "$root/proc" && mount -t sysfs sysfs "$root/sys" &&
            exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 sh -c "$1"
    ' in_root "$root" "$1"
}

# What the package ships, from the .deb itself.
contents=$(dpkg-deb -c "$deb" | awk '{ print $6 ($7 == "->" ? " -> " $8 : "") }' | sed 's|^\./|/|')
has_file() { if grep -qxF -- "$2" <<<"$contents"; then pass "$1"; else fail "$1" "$2 not in the package"; fi; }
has_file "the command" "/usr/bin/affine"
has_file "the man page" "/usr/share/man/man1/affine.1.gz"
has_file "the bash completion" "/usr/share/bash-completion/completions/affine"
has_file "the zsh completion" "/usr/share/zsh/vendor-completions/_affine"
has_file "the copyright file" "/usr/share/doc/affine/copyright"
has_file "the numad link, in a private directory" "/usr/lib/affine/numad -> ../../bin/affine"
extracted=$(mktemp -d)
dpkg-deb -x "$deb" "$extracted"
if readelf -S "$extracted/usr/bin/affine" | grep -q '\.debug_info'; then
    fail "the binary is stripped" "it has .debug_info"
else
    pass "the binary is stripped"
fi
rm -rf "$extracted"
if ls "$packages"/affine-dbgsym_*.*deb >/dev/null 2>&1; then pass "debug symbols in affine-dbgsym"; else
    fail "debug symbols in affine-dbgsym" "no affine-dbgsym package in $packages"; fi

# The daemon's files come with the daemon: a unit and a conffile exactly when the
# command has a daemon.
cp "$deb" "$root/tmp/affine.deb"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"   # no service starts in the root
chmod +x "$root/usr/sbin/policy-rc.d"
snapshot='find / -xdev \( -path /proc -o -path /sys -o -path /tmp -o -path /var/lib/dpkg -o -path /var/log \
                          -o -path /var/cache -o -path /var/lib/systemd/deb-systemd-helper-masked \
                          -o -path /var/lib/systemd/deb-systemd-helper-enabled -o -path /run/systemd \) \
                          -prune -o -print | sort'
before=$(in_root "$snapshot")

expect_status "dpkg -i installs it on a fresh Debian 12" 0 in_root "dpkg -i /tmp/affine.deb"
expect_status "affine --version runs" 0 in_root "affine --version"
expect_contains "it names its version" "affine $(dpkg-deb -f "$deb" Version)" "$out"
expect_contains "it reports the kernel features it probed" "MPOL_PREFERRED_MANY memory policy:" "$out"
expect_contains "it reports libxenctrl (not installed there)" "libxenctrl: no" "$out"
expect_status "numad -w through the link answers" 0 in_root "/usr/lib/affine/numad -w 1:64"
expect_status "affine topo runs" 0 in_root "affine topo"
expect_contains "affine topo shows the host" "NUMA node" "$out"
expect_status "affine topo --json is one line" 0 in_root "affine topo --json > /tmp/topo.json && wc -l < /tmp/topo.json"
expect_eq "affine topo --json is one line" "1" "$out"
expect_status "the man page is where man looks" 0 in_root "zcat /usr/share/man/man1/affine.1.gz > /tmp/affine.1 && head -20 /tmp/affine.1"
expect_contains "the man page is a man page" ".TH \"affine\" \"1\"" "$out"
expect_status "the completion loads in bash" 0 in_root "bash -c '. /usr/share/bash-completion/completions/affine && complete -p affine'"
expect_eq "the completion is registered" "complete -F _affine affine" "$out"

has_daemon=no
in_root "affine daemon --help" >/dev/null 2>&1 && has_daemon=yes
unit=$(grep -E '^/(usr/)?lib/systemd/system/affine\.service$' <<<"$contents" || true)
if [ "$has_daemon" = yes ]; then
    [ -n "$unit" ] && pass "the daemon's unit is in the package" || fail "the daemon's unit" "affine daemon exists, no unit"
    # --man=no: the throwaway root has no man-db; the pages themselves are checked above.
    expect_status "systemd-analyze verify accepts the unit" 0 in_root "systemd-analyze verify --man=no $unit"
    expect_status "the unit is not enabled on install" 1 in_root "systemctl is-enabled affine.service"
    expect_status "daemon.conf is a conffile" 0 in_root "dpkg-query -W -f='\${Conffiles}' affine"
    expect_contains "daemon.conf is a conffile" "/etc/affine/daemon.conf" "$out"
else
    expect_eq "no daemon command, so no unit" "" "$unit"
fi

expect_status "dpkg --purge removes it" 0 in_root "dpkg --purge affine"
after=$(in_root "$snapshot")
expect_eq "nothing is left after the purge" "" "$(diff <(echo "$before") <(echo "$after") || true)"
echo "package install test took $((SECONDS - started)) s"
finish
