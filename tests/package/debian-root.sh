#!/usr/bin/env bash
# Makes a fresh Debian 12 root in DIR for the package tests, from a cache:
#   debian-root.sh DIR CACHEDIR
# The first run bootstraps it with debootstrap (minbase, plus systemd for
# systemd-analyze) from the mirror apt uses here, and keeps a tarball of the
# finished root in CACHEDIR; later runs only unpack that (seconds).
set -euo pipefail
root=$1
cache=$2
tarball=$cache/bookworm-minbase-systemd.tar

mirror() {
    # The first Debian mirror of apt's sources (deb822 or one-line form).
    local uri
    uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
    echo "${uri:-http://deb.debian.org/debian}"
}

mkdir -p "$cache"
if [ ! -f "$tarball" ]; then
    work=$cache/bootstrap.$$
    rm -rf "$work"
    echo "bootstrapping Debian 12 from $(mirror) (once; cached in $tarball)"
    debootstrap --variant=minbase --include=systemd bookworm "$work" "$(mirror)" >"$cache/debootstrap.log" 2>&1 ||
        { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
    rm -rf "$work"/var/cache/apt/archives/*.deb
    tar -C "$work" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$work"
fi
rm -rf "$root"
mkdir -p "$root"
tar -C "$root" -xf "$tarball"
