#!/bin/bash
# Fetch the boot kit for the system tests: a Debian amd64 kernel (with its
# modules) and the Xen 4.17 hypervisor. Nothing is installed on the host;
# the packages are downloaded with apt-get and unpacked with dpkg-deb.
#
# Usage: fetch-kit.sh [DIR]
#   DIR defaults to $AFFINE_KIT_DIR, else <repo>/build/kit.
# Produces:
#   DIR/vmlinuz   -> the kernel image
#   DIR/modules/  -> the unpacked lib/modules tree (DIR/modules/<version>/...)
#   DIR/xen.elf   -> the plain multiboot ELF of Xen (QEMU cannot load the .gz)
#   DIR/toolstack/ -> Xen's own toolstack unpacked in one tree (xl, xenstored,
#                    xenconsoled, xen-init-dom0, xenstore-*, their libraries), for
#                    the dom0 of the toolstack tests
#   DIR/guest-vmlinux.gz -> the kernel as a gzipped ELF, the PV guests' kernel:
#                    the image's xz payload unpacked once here, because libxenguest
#                    unpacks gzip much faster than xz under TCG (xl create 11 s
#                    instead of 25 s)
#   DIR/backports/vmlinuz, DIR/backports/modules/ -> the newest 6.12 kernel of
#                    Debian 12's bookworm-backports suite (memory tiers from HMAT,
#                    weighted interleave), fetched with a sources list and package
#                    lists of its own under DIR/backports/apt: this machine's apt
#                    configuration is neither read for it nor changed
# Idempotent: packages already downloaded and unpacked are kept.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
kit=$(realpath -m "${1:-${AFFINE_KIT_DIR:-$repo/build/kit}}")
xen_pkg=xen-hypervisor-4.17-amd64
# Xen's toolstack and the libraries it loads (libxenmisc holds libxenctrl,
# libxenguest, libxenlight and libxlutil).
toolstack_pkgs=(xen-utils-4.17 xen-utils-common xenstore-utils libxenmisc4.17 libxenstore4 libxencall1
    libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxentoollog1 libxendevicemodel1 libxenhypfs1
    libxentoolcore1 libyajl2)

log() { echo "fetch-kit: $*" >&2; }

# apt-cache answers from the local package lists; on a fresh machine they
# may be missing, so refresh them once when a lookup fails.
lists_refreshed=0
refresh_lists() {
    if [ "$lists_refreshed" = 0 ]; then
        log "refreshing package lists (apt-get update)"
        apt-get update -qq >&2
        lists_refreshed=1
        return 0
    fi
    return 1
}

# True when NAME is a real package (has a candidate version), not only a
# virtual name provided by others.
is_real_package() {
    local cand
    cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/{print $2; exit}')
    [ -n "$cand" ] && [ "$cand" != "(none)" ]
}

# The kernel image package linux-image-amd64 points at. It is normally the
# signed package (linux-image-X-amd64); if that name is only virtual, fall
# back to the -unsigned flavour or whatever provides it.
kernel_package() {
    local dep prov
    dep=$(apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-/{print $2; exit}')
    dep=${dep#<}; dep=${dep%>}
    [ -n "$dep" ] || return 1
    if is_real_package "$dep"; then
        echo "$dep"; return 0
    fi
    if is_real_package "$dep-unsigned"; then
        echo "$dep-unsigned"; return 0
    fi
    prov=$(apt-cache showpkg "$dep" |
        awk '/^Reverse Provides:/{f=1; next} f && NF {print $1; exit}')
    [ -n "$prov" ] || return 1
    echo "$prov"
}

# Download PACKAGE into DIR/debs unless a .deb of the candidate version is
# already there; print the path of the .deb.
download() {
    local pkg=$1 ver deb
    ver=$(apt-cache policy "$pkg" | awk '/Candidate:/{print $2; exit}')
    # apt-get names files pkg_version_arch.deb with ':' escaped as %3a.
    deb=$(ls "$kit/debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
    if [ -z "$deb" ]; then
        log "downloading $pkg $ver"
        (cd "$kit/debs" && apt-get download -q "$pkg" >&2) ||
            { refresh_lists && (cd "$kit/debs" && apt-get download -q "$pkg" >&2); }
        deb=$(ls "$kit/debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
        [ -n "$deb" ] || deb=$(ls -t "$kit/debs/${pkg}_"*.deb | head -n1)
    fi
    echo "$deb"
}

# Unpack DEB into DEST once; a stamp records which .deb the tree came from,
# so a newer package replaces the tree instead of mixing with it.
unpack() {
    local deb=$1 dest=$2
    if [ -f "$dest/.unpacked-from" ] && [ "$(cat "$dest/.unpacked-from")" = "$(basename "$deb")" ]; then
        return 0
    fi
    log "unpacking $(basename "$deb")"
    rm -rf "$dest"
    mkdir -p "$dest"
    dpkg-deb -x "$deb" "$dest"
    basename "$deb" > "$dest/.unpacked-from"
}

# Unpack several DEBs into one tree DEST, once for a given set of files.
unpack_all() {
    local dest=$1 deb stamp
    shift
    stamp=$(for deb in "$@"; do basename "$deb"; done | sort)
    if [ -f "$dest/.unpacked-from" ] && [ "$(cat "$dest/.unpacked-from")" = "$stamp" ]; then
        return 0
    fi
    log "unpacking the toolstack ($# packages)"
    rm -rf "$dest"
    mkdir -p "$dest"
    for deb in "$@"; do dpkg-deb -x "$deb" "$dest"; done
    echo "$stamp" > "$dest/.unpacked-from"
}

# The kernel image's xz payload (a bzImage holds the compressed ELF after its
# set-up code) unpacked and gzipped: OUT from IMAGE, when older than it.
guest_kernel() {
    local image=$1 out=$2 offset
    [ -s "$out" ] && [ "$out" -nt "$image" ] && return 0
    offset=$(LC_ALL=C grep -abo -m1 $'\xfd7zXZ' "$image" | head -n1 | cut -d: -f1 || true)
    [ -n "$offset" ] || { log "no xz payload in $image"; exit 1; }
    log "unpacking the kernel's payload for PV guests"
    # xz stops after the stream: tail may then die of SIGPIPE, which is fine.
    { tail -c +"$((offset + 1))" "$image" || true; } | xz -dc --single-stream | gzip -9 > "$out.tmp"
    [ "$(gzip -dc "$out.tmp" | head -c 4 | od -An -c | tr -d ' ')" = '177ELF' ] ||
        { log "the kernel's payload is not an ELF"; exit 1; }
    mv "$out.tmp" "$out"
}

# The bookworm-backports kernel (6.12) into DIR/backports. apt-get runs with its
# own sources list, parts directory, package lists and cache under
# DIR/backports/apt, so only that suite is seen and nothing of the machine's
# apt state is touched.
backports_kernel() {
    local bp=$kit/backports apt=$kit/backports/apt pkg deb
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts" "$bp/debs"
    echo "deb http://deb.debian.org/debian bookworm-backports main" > "$apt/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/parts"
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache")
    if [ ! -s "$bp/vmlinuz" ] || [ ! -d "$bp/modules" ]; then
        [ -n "$(ls "$apt/lists" 2>/dev/null | grep -v partial)" ] ||
            { log "fetching the package list of bookworm-backports"; apt-get "${opts[@]}" update -qq >&2; }
        pkg=$(apt-cache "${opts[@]}" search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
            awk '{print $1}' | sort -V | tail -n1)
        [ -n "$pkg" ] || { log "no linux-image-6.12.*+deb12-amd64-unsigned (the generic flavour) in bookworm-backports"; exit 1; }
        deb=$(ls "$bp/debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
        if [ -z "$deb" ]; then
            log "downloading $pkg from bookworm-backports"
            (cd "$bp/debs" && apt-get "${opts[@]}" download -q "$pkg" >&2)
            deb=$(ls "$bp/debs/${pkg}_"*.deb | head -n1)
        fi
        unpack "$deb" "$bp/kernel"
        ln -sfn "kernel/boot/$(basename "$(ls "$bp"/kernel/boot/vmlinuz-* | head -n1)")" "$bp/vmlinuz"
        ln -sfn kernel/lib/modules "$bp/modules"
    fi
    echo "backports: $(readlink "$bp/vmlinuz")"
}

main() {
    mkdir -p "$kit/debs"
    local kpkg kdeb xdeb vmlinuz xengz
    kpkg=$(kernel_package) || { refresh_lists; kpkg=$(kernel_package); } ||
        { log "cannot resolve the package linux-image-amd64 depends on"; exit 1; }
    is_real_package "$xen_pkg" || refresh_lists || true

    kdeb=$(download "$kpkg")
    xdeb=$(download "$xen_pkg")
    unpack "$kdeb" "$kit/kernel"
    unpack "$xdeb" "$kit/xen"

    vmlinuz=$(ls "$kit"/kernel/boot/vmlinuz-* | head -n1)
    ln -sfn "kernel/boot/$(basename "$vmlinuz")" "$kit/vmlinuz"
    ln -sfn kernel/lib/modules "$kit/modules"

    xengz=$(ls "$kit"/xen/boot/xen-4.17-amd64.gz 2>/dev/null || ls "$kit"/xen/boot/xen-*.gz | head -n1)
    if [ ! -s "$kit/xen.elf" ] || [ "$xengz" -nt "$kit/xen.elf" ]; then
        zcat "$xengz" > "$kit/xen.elf.tmp" && mv "$kit/xen.elf.tmp" "$kit/xen.elf"
    fi

    local debs=() p
    for p in "${toolstack_pkgs[@]}"; do debs+=("$(download "$p")"); done
    unpack_all "$kit/toolstack" "${debs[@]}"
    guest_kernel "$(readlink -f "$kit/vmlinuz")" "$kit/guest-vmlinux.gz"
    backports_kernel

    echo "kit:     $kit"
    echo "kernel:  $(basename "$kdeb") -> vmlinuz = $(readlink "$kit/vmlinuz")"
    echo "modules: $(ls "$kit/modules")"
    echo "xen:     $(basename "$xdeb") -> xen.elf ($(basename "$xengz"))"
    echo "tools:   ${#debs[@]} packages -> toolstack/ (xl: $(ls "$kit/toolstack/usr/lib/xen-4.17/bin/xl"))"
    echo "guest:   guest-vmlinux.gz"
}

main "$@"
