# Library for affine's system tests: build a minimal initramfs, boot a real
# Debian kernel (or Xen 4.17 with a Linux dom0) under QEMU/TCG with a
# virtual NUMA topology, and collect the results the guest prints on its
# serial console. Source it from bash scripts that use `set -euo pipefail`.
#
# Functions (see each for details):
#   make_initramfs OUT INIT_SCRIPT [--bin PATH]... [--file SRC:DEST]... [--tree DIR]... [--modules xen|MOD,MOD] [--toolstack]
#   make_guest_ramdisk OUT
#   make_disk_initramfs OUT MOD,MOD
#   make_disk_image OUT DIR
#   boot_linux TOPOLOGY INITRAMFS LOG [EXTRA_KERNEL_ARGS [QEMU_ARGS...]]
#   boot_xen INITRAMFS LOG [EXTRA_DOM0_ARGS]   (layout: $AFFINE_XEN_LAYOUT)
#   check_results LOG [NAME]
#   extract_blob LOG NAME OUT
#   topology_list / topology_describe TOPOLOGY
#   run_linux_scenario NAME TOPOLOGY INIT_SCRIPT [make_initramfs options]
#   run_xen_scenario NAME INIT_SCRIPT [make_initramfs options]
#
# Environment:
#   AFFINE_KIT_DIR       kit from fetch-kit.sh (default <repo>/build/kit)
#   AFFINE_SYSTEM_WORK   logs and initramfs images (default <repo>/build/system)
#   AFFINE_BOOT_TIMEOUT  seconds before a Linux guest is killed (default 300)
#   AFFINE_XEN_BOOT_TIMEOUT  the same for Xen (default 600)
#   AFFINE_BOOT_START_TIMEOUT  seconds a guest may take to print AFFINE-BOOTED
#                        before its start counts as hung and it boots again
#                        (default 240)
#   AFFINE_XEN_ARGS      extra options for the Xen command line
#   AFFINE_XEN_LAYOUT    the Xen host: numa2 (default) or numa4 (see boot_xen)
#   AFFINE_QEMU          QEMU binary (default qemu-system-x86_64)
#   AFFINE_KERNEL        the kernel tree of Linux boots: "" for the kit's kernel
#                        (default), "backports" for the kit's bookworm-backports
#                        kernel (DIR/backports: its vmlinuz and modules)

AFFINE_SYSTEM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AFFINE_REPO_DIR=$(cd "$AFFINE_SYSTEM_DIR/../.." && pwd)
: "${AFFINE_KIT_DIR:=$AFFINE_REPO_DIR/build/kit}"
: "${AFFINE_SYSTEM_WORK:=$AFFINE_REPO_DIR/build/system}"
: "${AFFINE_BOOT_TIMEOUT:=300}"
: "${AFFINE_XEN_BOOT_TIMEOUT:=600}"
: "${AFFINE_BOOT_START_TIMEOUT:=240}"
: "${AFFINE_QEMU:=qemu-system-x86_64}"

# Oracles independent of affine, present in every guest. hwloc-calc and
# migratepages are cheap extras (they share the libraries).
AFFINE_ORACLE_BINS=(numactl migratepages lstopo-no-graphics hwloc-calc)

# The Xen dom0 control devices: privcmd (hypercalls, /dev/xen/privcmd),
# evtchn, gntdev, and xenfs for /proc/xen. Others the Debian kernel has
# built in (xenbus, balloon, sys-hypervisor) need nothing.
AFFINE_XEN_MODULES=(xen-privcmd xen-evtchn xen-gntdev xenfs)

# Xen's own toolstack in dom0 (make_initramfs --toolstack), from the kit's
# toolstack/ tree: the C xenstored, xen-init-dom0 (names dom0 in xenstore),
# xenconsoled (guest consoles to files), xl and the xenstore-* tools. xl needs
# gntalloc too.
AFFINE_TOOLSTACK_BINS=(xl xenstored xen-init-dom0 xenconsoled)
AFFINE_TOOLSTACK_MODULES=(xen-gntalloc)

_affine_log() { echo "system: $*" >&2; }
_affine_die() { echo "system: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- the kit

_affine_kit_check() {
    local f
    for f in vmlinuz modules xen.elf; do
        [ -e "$AFFINE_KIT_DIR/$f" ] ||
            _affine_die "$AFFINE_KIT_DIR/$f missing; run tests/system/fetch-kit.sh first"
    done
}

# The directory of the Linux kernel chosen by $AFFINE_KERNEL (its vmlinuz and
# modules).
_affine_kernel_dir() {
    case ${AFFINE_KERNEL:-} in
    "") echo "$AFFINE_KIT_DIR" ;;
    backports)
        [ -e "$AFFINE_KIT_DIR/backports/vmlinuz" ] ||
            _affine_die "$AFFINE_KIT_DIR/backports/vmlinuz missing; run tests/system/fetch-kit.sh first"
        echo "$AFFINE_KIT_DIR/backports" ;;
    *) _affine_die "AFFINE_KERNEL: unknown kernel '$AFFINE_KERNEL' (\"\" or backports)" ;;
    esac
}

# The lib/modules/<version> directory matching the chosen kernel image.
_affine_moddir() {
    local img ver dir
    dir=$(_affine_kernel_dir)
    img=$(basename "$(readlink -f "$dir/vmlinuz")")
    ver=${img#vmlinuz-}
    [ -d "$dir/modules/$ver" ] ||
        _affine_die "no modules for kernel $ver in $dir/modules"
    echo "$dir/modules/$ver"
}

# ------------------------------------------------------------- initramfs

# Copy an executable to ROOT/bin with what the dynamic loader needs to run
# it in the guest: every library ldd lists, placed under the loader's
# default directory by the name the binary asks for (there is no
# ld.so.cache in the guest, and RUNPATHs of a build tree do not exist
# there), and the loader itself at its absolute path (PT_INTERP).
_affine_add_binary() {
    local root=$1 bin=$2
    [ -x "$bin" ] || bin=$(command -v "$bin") || _affine_die "no such binary: $2"
    install -D -m 0755 "$bin" "$root/bin/$(basename "$bin")"
    # Debug information is of no use in the guest and can be tens of MiB: the
    # initramfs lives in the guest's RAM (dom0 has only 256M).
    strip --strip-debug "$root/bin/$(basename "$bin")" 2>/dev/null || true
    _affine_add_libraries "$root" "$bin"
}

# Copy what the dynamic loader needs to run FILE (an executable or a shared
# object) in the guest: the libraries ldd lists, under the loader's default
# directory by the name FILE asks for, and the loader itself.
_affine_add_libraries() {
    local root=$1 bin=$2 line name lib
    # ldd fails on static binaries ("not a dynamic executable"): nothing to add.
    local out
    out=$(LD_LIBRARY_PATH=${_affine_lib_path:-} ldd "$bin" 2>/dev/null) || return 0
    while IFS= read -r line; do
        line=${line#"${line%%[![:space:]]*}"}
        case $line in
        *"not found"*)
            _affine_die "$bin: library missing on the host: $line" ;;
        *" => /"*)
            name=${line%% =>*}
            lib=${line#*=> }
            lib=${lib% (*}
            install -D -m 0755 "$(readlink -f "$lib")" "$root/lib/x86_64-linux-gnu/$name" ;;
        /*)
            lib=${line% (*}
            install -D -m 0755 "$(readlink -f "$lib")" "$root$lib" ;;
        esac
    done <<< "$out"
}

# Print the content of a kernel module, decompressed whatever the package
# used (.ko, .ko.xz, .ko.zst, .ko.gz); busybox insmod wants a plain .ko.
_affine_module_cat() {
    case $1 in
    *.ko.xz) xz -dc "$1" ;;
    *.ko.zst) zstd -dcq "$1" ;;
    *.ko.gz) gzip -dc "$1" ;;
    *) cat "$1" ;;
    esac
}

# The file of module NAME in MODDIR (names treat '-' and '_' alike), or
# nothing when the module does not exist as a file.
_affine_module_file() {
    local moddir=$1 name=$2 alt
    alt=$(echo "$name" | tr '_-' '-_')
    find "$moddir/kernel" \( -name "$name.ko*" -o -name "$alt.ko*" \) -print -quit
}

# True when module NAME is built into the kernel (listed in modules.builtin).
_affine_module_builtin() {
    local moddir=$1 name
    name=$(echo "$2" | tr '-' '_')
    [ -f "$moddir/modules.builtin" ] &&
        tr '-' '_' < "$moddir/modules.builtin" | grep -q "/$name\.ko$"
}

# Add module NAME and, first, the modules it depends on. The kit has no
# modules.dep (depmod runs at install time), so the dependencies come from
# the "depends=" field of each module's .modinfo section. Appends the load
# order to ROOT/lib/affine-modules/order.
_affine_add_module() {
    local root=$1 moddir=$2 name=$3 file dep deps key
    key=$(echo "$name" | tr '-' '_')
    [ -z "${_affine_modules_seen[$key]:-}" ] || return 0
    _affine_modules_seen[$key]=1
    if _affine_module_builtin "$moddir" "$name"; then
        _affine_log "module $name is built into the kernel"
        return 0
    fi
    file=$(_affine_module_file "$moddir" "$name")
    [ -n "$file" ] || _affine_die "module $name not found in $moddir"
    deps=$(_affine_module_cat "$file" | tr '\0' '\n' | grep -a -m1 '^depends=' | cut -d= -f2 | tr ',' ' ' || true)
    for dep in $deps; do
        _affine_add_module "$root" "$moddir" "$dep"
    done
    mkdir -p "$root/lib/affine-modules"
    _affine_module_cat "$file" > "$root/lib/affine-modules/$key.ko"
    echo "$key" >> "$root/lib/affine-modules/order"
}

# The guest's /init: the standard prelude, then the scenario script with the
# check helpers, then AFFINE-DONE and power off. The scenario runs in a
# subshell so that an `exit` in it still reaches AFFINE-DONE; a non-zero
# status is reported as a failed check.
_affine_write_init() {
    cat > "$1" <<'INIT'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The kernel may not have found /dev/console before devtmpfs was mounted.
exec </dev/console >/dev/console 2>&1
mkdir -p /sys/fs/cgroup /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs tmpfs /tmp
if [ -f /lib/affine-modules/order ]; then
    while read -r m; do
        insmod "/lib/affine-modules/$m.ko" ||
            echo "AFFINE-FAIL init-insmod-$m: insmod $m.ko failed"
    done < /lib/affine-modules/order
fi
if [ -f /etc/affine-xen ]; then
    mount -t xenfs xenfs /proc/xen ||
        echo "AFFINE-FAIL init-xenfs: mount -t xenfs failed"
fi
if [ -f /etc/affine-xen-toolstack ]; then
    # Xen's toolstack without systemd: xenstored (it daemonizes), wait until it
    # answers, name dom0 in it, then the console daemon for the guests.
    mkdir -p /run /dev/pts /dev/shm
    mount -t tmpfs tmpfs /run
    mount -t devpts devpts /dev/pts
    mkdir -p /run/xen /run/xenstored /var/log/xen/console /var/lib/xen
    XENSTORED_ROOTDIR=/run/xenstored xenstored --pid-file /run/xen/xenstored.pid ||
        echo "AFFINE-FAIL init-xenstored: xenstored did not start"
    i=0
    until xenstore-read -s / > /dev/null 2>&1; do
        i=$((i + 1))
        [ $i -gt 100 ] && { echo "AFFINE-FAIL init-xenstored: no answer after 20 s"; break; }
        sleep 0.2
    done
    xen-init-dom0 > /dev/null || echo "AFFINE-FAIL init-xen-init-dom0: exit $?"
    xenconsoled --pid-file=/run/xen/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console ||
        echo "AFFINE-FAIL init-xenconsoled: exit $?"
    echo "AFFINE-TOOLSTACK-UP t=$(cut -d' ' -f1 /proc/uptime)"
fi
echo "AFFINE-BOOTED kernel=$(uname -r) cpus=$(cat /sys/devices/system/cpu/online) nodes=$(cat /sys/devices/system/node/online 2>/dev/null)"
( . /lib/affine-check.sh; . /scenario.sh )
rc=$?
[ "$rc" = 0 ] || echo "AFFINE-FAIL scenario-exit: scenario script exited with status $rc"
echo AFFINE-DONE
sync
poweroff -f
INIT
    chmod 0755 "$1"
}

# The toolstack into ROOT: its programs with their libraries (the kit's, not
# the build machine's), xl.conf, /var/run as a link to /run (xl and xenstored
# use both), and libgcc_s: glibc loads it at run time for pthread_cancel, and
# without it xl aborts (exit 134) after creating a domain.
_affine_add_toolstack() {
    local root=$1 ts=$AFFINE_KIT_DIR/toolstack b
    [ -x "$ts/usr/lib/xen-4.17/bin/xl" ] ||
        _affine_die "$ts has no xl; run tests/system/fetch-kit.sh first"
    local _affine_lib_path=$ts/usr/lib/x86_64-linux-gnu
    for b in "${AFFINE_TOOLSTACK_BINS[@]}"; do
        _affine_add_binary "$root" "$ts/usr/lib/xen-4.17/bin/$b"
    done
    for b in "$ts"/usr/bin/xenstore*; do
        [ "$(basename "$b")" = xenstore-control ] && continue
        if [ -L "$b" ]; then
            ln -sf "$(basename "$(readlink "$b")")" "$root/bin/$(basename "$b")"
        else
            _affine_add_binary "$root" "$b"
        fi
    done
    # affine dlopens these two: not in any ldd listing.
    for b in libxenctrl.so.4.17 libxenstore.so.4; do
        install -D -m 0755 "$(readlink -f "$ts/usr/lib/x86_64-linux-gnu/$b")" "$root/lib/x86_64-linux-gnu/$b"
    done
    install -D -m 0755 "$(readlink -f /usr/lib/x86_64-linux-gnu/libgcc_s.so.1)" "$root/lib/x86_64-linux-gnu/libgcc_s.so.1"
    install -D -m 0644 "$ts/etc/xen/xl.conf" "$root/etc/xen/xl.conf"
    mkdir -p "$root/var/lib/xen" "$root/var/log/xen" "$root/var/lock"
    ln -sfn /run "$root/var/run"
    : > "$root/etc/affine-xen-toolstack"
}

# make_guest_ramdisk OUT: the ramdisk of the test's PV guests: /init is
# guest-init.c (prints GUEST-UP on the guest's console, then sleeps), and
# /dev/console, which the kernel opens for it.
make_guest_ramdisk() {
    local out=$1 root
    root=$(mktemp -d)
    mkdir -p "$root/dev"
    cc -Os -static -nostdlib -fno-stack-protector -fno-asynchronous-unwind-tables -Wl,--build-id=none -s \
        -o "$root/init" "$AFFINE_SYSTEM_DIR/guest-init.c" || _affine_die "cannot build the guests' init (cc)"
    mknod -m 600 "$root/dev/console" c 5 1 2> /dev/null || true
    (cd "$root" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) | gzip -9 > "$out"
    rm -rf "$root"
}

# make_disk_initramfs OUT MOD,MOD: an initramfs that only hands the machine over
# to a whole system on the first virtio disk: its /init loads the modules (with
# their dependencies: virtio_pci, virtio_blk, ext4 ...), mounts /dev/vda (ext4,
# read-write) and makes the disk's /lib/systemd/systemd PID 1 with switch_root.
# The disk's system reports on the console itself (AFFINE-PASS ... AFFINE-DONE).
make_disk_initramfs() {
    [ $# -eq 2 ] || _affine_die "usage: make_disk_initramfs OUT MOD,MOD"
    local out=$1 root bb m moddir mods=()
    root=$(mktemp -d)
    # shellcheck disable=SC2064  # expand now: root is local
    trap "rm -rf '$root'; trap - RETURN" RETURN
    mkdir -p "$root"/{bin,proc,sys,dev,newroot}
    bb=$(command -v busybox) || _affine_die "busybox not found (apt-get install busybox-static)"
    _affine_add_binary "$root" "$bb"
    for applet in sh mount umount insmod sleep switch_root poweroff; do ln -s busybox "$root/bin/$applet"; done
    IFS=, read -r -a mods <<< "$2"
    moddir=$(_affine_moddir)
    declare -gA _affine_modules_seen=()
    for m in "${mods[@]}"; do _affine_add_module "$root" "$moddir" "$m"; done
    cat > "$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
give_up() { echo "AFFINE-FAIL disk-root: $1"; echo AFFINE-DONE; poweroff -f; }
if [ -f /lib/affine-modules/order ]; then
    while read -r m; do insmod "/lib/affine-modules/$m.ko" || give_up "insmod $m.ko failed"; done < /lib/affine-modules/order
fi
i=0
until [ -b /dev/vda ]; do
    i=$((i + 1)); [ $i -lt 100 ] || give_up "no /dev/vda after 10 s"
    sleep 0.1
done
mount -t ext4 -o rw /dev/vda /newroot || give_up "cannot mount /dev/vda"
mount -o move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /lib/systemd/systemd
INIT
    chmod 0755 "$root/init"
    mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
    mkdir -p "$(dirname "$out")"
    (cd "$root" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 > "$out"
}

# make_disk_image OUT DIR: a sparse raw ext4 image of the tree DIR (owners and
# modes kept; mkfs.ext4 -d, no loop device), with 512M free for what the guest
# installs and writes. Boot it with boot_linux's QEMU_ARGS:
#   -drive file=OUT,if=virtio,format=raw,cache=unsafe
make_disk_image() {
    [ $# -eq 2 ] || _affine_die "usage: make_disk_image OUT DIR"
    local out=$1 dir=$2 mb
    mb=$(($(du -sm "$dir" | cut -f1) + 512))
    rm -f "$out"
    truncate -s "${mb}M" "$out"
    mkfs.ext4 -q -F -L root -d "$dir" "$out" || _affine_die "mkfs.ext4 -d $dir failed"
}

# make_initramfs OUT INIT_SCRIPT [--bin PATH]... [--file SRC:DEST]... [--modules xen|MOD,MOD] [--toolstack]
#   OUT          the gzip'd newc cpio to write
#   INIT_SCRIPT  the scenario (busybox sh), run by /init after the prelude
#                with /lib/affine-check.sh sourced
#   --bin PATH   an executable (path or name on PATH), copied to /bin with
#                its libraries and the dynamic loader
#   --file SRC:DEST  a file copied to DEST in the guest
#   --tree DIR   a directory whose content is copied into the guest's / as is
#                (after the binaries: it may add to their directories)
#   --modules xen    the Xen dom0 modules (loaded by /init, and xenfs
#                mounted at /proc/xen); other values are comma-separated
#                module names loaded by /init with their dependencies
#   --toolstack  Xen's toolstack (xenstored, xl, ...) from the kit, started
#                by /init before the scenario; implies --modules xen; the
#                Linux oracles are left out (give it before --bin)
make_initramfs() {
    [ $# -ge 2 ] || _affine_die "usage: make_initramfs OUT INIT_SCRIPT [--bin PATH]... [--file SRC:DEST]... [--modules xen]"
    local out=$1 script=$2 root bb applet b spec src dest m moddir
    shift 2
    [ -f "$script" ] || _affine_die "no such scenario script: $script"
    local bins=("${AFFINE_ORACLE_BINS[@]}") files=() trees=() modules=() xen=0 toolstack=0
    while [ $# -gt 0 ]; do
        case $1 in
        # xl is the oracle there; the Linux oracles would only make the image
        # bigger (dom0 hangs at boot with one of ~25 MB).
        --toolstack) toolstack=1; bins=(); shift ;;
        --bin) bins+=("$2"); shift 2 ;;
        --file) files+=("$2"); shift 2 ;;
        --tree) trees+=("$2"); shift 2 ;;
        --modules)
            if [ "$2" = xen ]; then
                modules+=("${AFFINE_XEN_MODULES[@]}"); xen=1
            else
                IFS=, read -r -a spec <<< "$2"; modules+=("${spec[@]}")
            fi
            shift 2 ;;
        *) _affine_die "make_initramfs: unknown option $1" ;;
        esac
    done

    root=$(mktemp -d)
    # Remove the staging tree when this function returns, then drop the
    # trap (a RETURN trap would otherwise fire for every later function).
    # shellcheck disable=SC2064  # expand now: root is local
    trap "rm -rf '$root'; trap - RETURN" RETURN
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,lib,root}

    # busybox and its applet links; the real binaries added below replace
    # applets of the same name (e.g. numactl is not one, but keep it safe).
    bb=$(command -v busybox) || _affine_die "busybox not found (apt-get install busybox-static)"
    _affine_add_binary "$root" "$bb"
    while IFS= read -r applet; do
        [ "$applet" = bin/busybox ] && continue
        mkdir -p "$root/$(dirname "$applet")"
        ln -sf /bin/busybox "$root/$applet"
    done < <("$bb" --list-full)

    for b in "${bins[@]}"; do
        rm -f "$root/bin/$(basename "$b")"
        _affine_add_binary "$root" "$b"
    done
    if [ "$toolstack" = 1 ]; then
        _affine_add_toolstack "$root"
        modules+=("${AFFINE_XEN_MODULES[@]}" "${AFFINE_TOOLSTACK_MODULES[@]}"); xen=1
    fi
    for src in "${trees[@]}"; do
        [ -d "$src" ] || _affine_die "no such directory: $src"
        cp -a "$src/." "$root/"
    done
    for spec in "${files[@]}"; do
        src=${spec%%:*}
        dest=${spec#*:}
        [ -e "$src" ] || _affine_die "no such file: $src"
        install -D -m "$(stat -c %a "$src")" "$src" "$root$dest"
    done
    if [ ${#modules[@]} -gt 0 ]; then
        moddir=$(_affine_moddir)
        declare -gA _affine_modules_seen=()
        for m in "${modules[@]}"; do
            _affine_add_module "$root" "$moddir" "$m"
        done
    fi
    [ "$xen" = 0 ] || : > "$root/etc/affine-xen"

    install -m 0644 "$AFFINE_SYSTEM_DIR/guest/affine-check.sh" "$root/lib/affine-check.sh"
    install -m 0755 "$script" "$root/scenario.sh"
    _affine_write_init "$root/init"
    # The kernel opens /dev/console before /init runs; only root may mknod,
    # and /init copes without it.
    mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

    mkdir -p "$(dirname "$out")"
    # A toolstack image carries a guest kernel and is near the size dom0 boots
    # with: compress it harder.
    local level=-1
    [ "$toolstack" = 0 ] || level=-9
    (cd "$root" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) | gzip "$level" > "$out"
}

# ------------------------------------------------------------ topologies

# All topologies, for listing and documentation.
topology_list() {
    echo numa2 numa2x1 numa4 numa4big memless sparse dies hmat
}

# topology_describe TOPOLOGY: one line of what the guest sees.
topology_describe() {
    case $1 in
    numa2) echo "2 nodes x 2 CPUs (2 sockets), 512M each, distance 21" ;;
    numa2x1) echo "2 nodes x 1 CPU (2 sockets), 512M each, distance 21" ;;
    numa4) echo "4 nodes, CPUs 0-1/2-3/4-5/none (3 sockets), 256M each, asymmetric distances" ;;
    numa4big) echo "as numa4 with 768M a node (room for numad's 300 MB workloads)" ;;
    memless) echo "3 nodes, CPUs 0-1/2-3/4-5 (3 sockets), 512M/0/512M: node 1 has CPUs but no memory" ;;
    sparse) echo "nodes possible 0-2, online 0 and 2: node 0 CPUs 0-1 + 512M, node 2 512M without CPUs; CPUs 2-5 possible, not present" ;;
    dies) echo "2 sockets x 2 dies x 1 core x 2 threads = CPUs 0-7, one L3 per die, a node per socket, 512M each" ;;
    hmat) echo "HMAT: node 0 CPUs 0-1 + 512M (10 ns, 10 GB/s); node 1 512M without CPUs (40 ns, 2 GB/s) behind a 16M memory-side cache; distance 20" ;;
    *) return 1 ;;
    esac
}

# _affine_topology_args TOPOLOGY: fill the array _affine_qemu_topo with the
# QEMU options of a topology. This is the one table of topologies.
#
# Distances are given for both directions of every pair where they are
# asymmetric (QEMU then requires all pairs); one direction is enough for a
# symmetric pair.
_affine_topology_args() {
    local t=$1
    _affine_qemu_topo=()
    _mem() { _affine_qemu_topo+=(-object "memory-backend-ram,id=m$1,size=$2"); }
    _node() { _affine_qemu_topo+=(-numa "node,nodeid=$1${2:+,cpus=$2}${3:+,memdev=$3}"); }
    _dist() { _affine_qemu_topo+=(-numa "dist,src=$1,dst=$2,val=$3"); }
    case $t in
    numa2)
        # node 0: CPUs 0-1, 512M | node 1: CPUs 2-3, 512M
        _affine_qemu_topo+=(-m 1024 -smp 4,sockets=2,cores=2,threads=1)
        _mem 0 512M; _node 0 0-1 m0
        _mem 1 512M; _node 1 2-3 m1
        _dist 0 1 21
        ;;
    numa2x1)
        # node 0: CPU 0, 512M | node 1: CPU 1, 512M (the soft-affinity guest:
        # a busy preferred CPU and one idle neighbour)
        _affine_qemu_topo+=(-m 1024 -smp 2,sockets=2,cores=1,threads=1)
        _mem 0 512M; _node 0 0 m0
        _mem 1 512M; _node 1 1 m1
        _dist 0 1 21
        ;;
    numa4 | numa4big)
        # node 0: CPUs 0-1 | node 1: CPUs 2-3 | node 2: CPUs 4-5 |
        # node 3: memory only; 256M each (numa4big: 768M each). Asymmetric distance matrix
        # (row = from, column = to):
        #        0  1  2  3
        #   0   10 21 31 41
        #   1   22 10 21 31
        #   2   32 22 10 21
        #   3   42 32 22 10
        local per=256
        [ "$t" = numa4 ] || per=768
        _affine_qemu_topo+=(-m $((4 * per)) -smp 6,sockets=3,cores=2,threads=1)
        _mem 0 ${per}M; _node 0 0-1 m0
        _mem 1 ${per}M; _node 1 2-3 m1
        _mem 2 ${per}M; _node 2 4-5 m2
        _mem 3 ${per}M; _node 3 "" m3
        _dist 0 1 21; _dist 0 2 31; _dist 0 3 41
        _dist 1 0 22; _dist 1 2 21; _dist 1 3 31
        _dist 2 0 32; _dist 2 1 22; _dist 2 3 21
        _dist 3 0 42; _dist 3 1 32; _dist 3 2 22
        ;;
    memless)
        # node 0: CPUs 0-1, 512M | node 1: CPUs 2-3, no memory |
        # node 2: CPUs 4-5, 512M. Distances 0-1 21, 0-2 31, 1-2 21.
        _affine_qemu_topo+=(-m 1024 -smp 6,sockets=3,cores=2,threads=1)
        _mem 0 512M; _node 0 0-1 m0
        _node 1 2-3 ""
        _mem 2 512M; _node 2 4-5 m2
        _dist 0 1 21; _dist 0 2 31; _dist 1 2 21
        ;;
    sparse)
        # Linux numbers nodes in the order it meets their proximity domains
        # in the SRAT (CPUs by APIC id first, then memory ranges), not by
        # the domain numbers: a domain without CPUs and memory is not in
        # the SRAT at all and the ids stay dense. What leaves a hole is a
        # domain whose only CPUs are possible but not present (hotpluggable,
        # beyond -smp's initial count): Linux makes it a possible node but
        # does not bring it online, while a later domain with memory does
        # come online.
        #   node 0: CPUs 0-1 (socket 0), 512M
        #   node 1: possible, offline: CPUs 2-3 (socket 1) possible only
        #   node 2: 512M, no CPUs: CPUs 4-5 (socket 2) possible only
        # so nodes possible 0-2, online 0,2; CPUs possible 0-5, present and
        # online 0-1. Distances 0-1 21, 0-2 31, 1-2 21.
        # Node 2 cannot have present CPUs: a present CPU after a
        # not-present one (a hole in the APIC ids, e.g. cold-plugged with
        # -device) hangs the guest under TCG (IPIs to it are lost).
        _affine_qemu_topo+=(-m 1024 -smp 2,sockets=3,cores=2,threads=1,maxcpus=6)
        _mem 0 512M; _node 0 0-1 m0
        _node 1 2-3 ""
        _mem 2 512M; _node 2 4-5 m2
        _dist 0 1 21; _dist 0 2 31; _dist 1 2 21
        ;;
    dies)
        # SMT, several dies per package and split L3s. Linux reads dies from
        # CPUID leaf 0x1f, which it consults on Intel CPUs only, hence the
        # vendor (QEMU's -cpu max is otherwise AMD-like under TCG and warns that
        # it has no hyperthreading); QEMU 7.2 describes one L3 per die in leaf 4,
        # so Linux shows two L3s per package (cpu*/cache/index3) and die_id 0-1
        # in each. A core per die keeps the guest at 8 vCPUs (TCG).
        #   node 0: socket 0, CPUs 0-3, 512M | node 1: socket 1, CPUs 4-7, 512M
        _affine_qemu_topo+=(-cpu max,vendor=GenuineIntel -m 1024 -smp 8,sockets=2,dies=2,cores=1,threads=2)
        _mem 0 512M; _node 0 0-3 m0
        _mem 1 512M; _node 1 4-7 m1
        _dist 0 1 21
        ;;
    hmat)
        # Tiered memory described in ACPI HMAT (QEMU needs q35 and hmat=on):
        #   node 0: CPUs 0-1 (2 sockets), 512M: 10 ns, 10G bandwidth
        #   node 1: 512M, no CPUs, initiator node 0: 40 ns, 2G bandwidth, behind
        #   a level-1 memory-side cache of 16M (direct-mapped, write-back, 64 B
        #   lines). Distance 20. Linux shows the bandwidths in MB/s (10240, 2048).
        _affine_qemu_topo+=(-machine q35,hmat=on -m 1024 -smp 2,sockets=2,maxcpus=2)
        _mem 0 512M; _mem 1 512M
        _affine_qemu_topo+=(-numa node,nodeid=0,memdev=m0 -numa node,nodeid=1,memdev=m1,initiator=0
            -numa cpu,node-id=0,socket-id=0 -numa cpu,node-id=0,socket-id=1)
        _dist 0 1 20
        local lb=hierarchy=memory
        _affine_qemu_topo+=(
            -numa "hmat-lb,initiator=0,target=0,$lb,data-type=access-latency,latency=10"
            -numa "hmat-lb,initiator=0,target=0,$lb,data-type=access-bandwidth,bandwidth=10G"
            -numa "hmat-lb,initiator=0,target=1,$lb,data-type=access-latency,latency=40"
            -numa "hmat-lb,initiator=0,target=1,$lb,data-type=access-bandwidth,bandwidth=2G"
            -numa hmat-cache,node-id=1,size=16M,level=1,associativity=direct,policy=write-back,line=64)
        ;;
    *)
        unset -f _mem _node _dist
        _affine_die "unknown topology '$t' (known: $(topology_list))" ;;
    esac
    unset -f _mem _node _dist
}

# ----------------------------------------------------------------- boots

# Run QEMU with a timeout, console to LOG; print how long it took.
# Returns QEMU's status (124 when the timeout killed it).
#
# A guest that has not printed AFFINE-BOOTED (its init's first line, before any
# of affine's work) within $AFFINE_BOOT_START_TIMEOUT seconds is stuck in the
# kernel's or QEMU's start, not in anything a test checks: rarely, QEMU's TCG
# stops making progress there and prints nothing more. Such a boot is stopped,
# its log kept as LOG.stuck, and booted once more; a second stuck start fails.
_affine_run_qemu() {
    local what=$1 log=$2 attempt rc
    shift 2
    mkdir -p "$(dirname "$log")"
    rm -f "$log.stuck"
    for attempt in 1 2; do
        rc=0
        _affine_qemu_once "$what" "$log" "$@" || rc=$?
        [ "$rc" = 125 ] || break
        if [ "$attempt" = 2 ]; then
            _affine_log "boot $what: no AFFINE-BOOTED after ${AFFINE_BOOT_START_TIMEOUT}s, a second time"
            break
        fi
        mv "$log" "$log.stuck"
        _affine_log "boot $what: no AFFINE-BOOTED after ${AFFINE_BOOT_START_TIMEOUT}s (the guest's start hung; its console is in $log.stuck): booting again"
    done
    return "$rc"
}

# One boot of _affine_run_qemu: 125 when the guest's start hung.
_affine_qemu_once() {
    local what=$1 log=$2 start rc=0 qemu waited=0
    shift 2
    start=$(date +%s.%N)
    timeout -k 10 "$AFFINE_BOOT_TIMEOUT" "$AFFINE_QEMU" \
        -accel tcg,thread=multi -nodefaults -display none -monitor none \
        -serial stdio -no-reboot "$@" < /dev/null > "$log" 2>&1 &
    qemu=$!
    while kill -0 "$qemu" 2> /dev/null && ! grep -qs AFFINE-BOOTED "$log"; do
        if [ "$waited" -ge "$AFFINE_BOOT_START_TIMEOUT" ]; then
            kill -TERM "$qemu" 2> /dev/null
            wait "$qemu" 2> /dev/null || true
            return 125
        fi
        sleep 1
        waited=$((waited + 1))
    done
    wait "$qemu" || rc=$?
    AFFINE_LAST_BOOT_SECONDS=$(echo "$start $(date +%s.%N)" | awk '{printf "%.1f", $2 - $1}')
    if [ "$rc" = 124 ]; then
        _affine_log "boot $what: killed after ${AFFINE_BOOT_TIMEOUT}s timeout"
    else
        _affine_log "boot $what: ${AFFINE_LAST_BOOT_SECONDS}s (qemu status $rc)"
    fi
    return "$rc"
}

# boot_linux TOPOLOGY INITRAMFS LOG [EXTRA_KERNEL_ARGS [QEMU_ARGS...]]
# Boot the kit's Debian kernel (or $AFFINE_KERNEL's) with the named topology; the serial console
# (and QEMU's own messages) go to LOG. QEMU_ARGS are added to QEMU's options (a
# disk). Sets AFFINE_LAST_BOOT_SECONDS.
boot_linux() {
    [ $# -ge 3 ] || _affine_die "usage: boot_linux TOPOLOGY INITRAMFS LOG [EXTRA_KERNEL_ARGS [QEMU_ARGS...]]"
    local topo=$1 initrd=$2 log=$3 extra=${4:-} kdir
    shift $(($# >= 4 ? 4 : 3))
    _affine_kit_check
    kdir=$(_affine_kernel_dir)
    _affine_topology_args "$topo"
    _affine_run_qemu "$topo" "$log" -cpu max "${_affine_qemu_topo[@]}" \
        -kernel "$(readlink -f "$kdir/vmlinuz")" -initrd "$initrd" \
        -append "console=ttyS0 quiet panic=-1 $extra" "$@"
}

# boot_xen INITRAMFS LOG [EXTRA_DOM0_ARGS]
# Boot Xen 4.17 with the kit's Debian kernel as dom0. The host is
# $AFFINE_XEN_LAYOUT:
#   numa2 (default)  node 0: pCPUs 0-1 (socket 0), 512M | node 1: pCPUs 2-3
#                    (socket 1), 512M; distance 21; dom0 256M, 4 vCPUs
#   numa4            4 nodes of 1 pCPU (a socket each) and 768M; distances
#                    0-1 and 2-3 21, others 31; dom0 512M (room for PV guests
#                    and the toolstack)
#   numa4u           as numa4 with unequal memory: 1280M, 512M, 768M, 512M
#   numa4ua          4 nodes of 1 pCPU with unequal memory (1024M, 512M,
#                    1024M, 512M) and asymmetric distances: as numa4, but
#                    from node 2, node 1 is at 16 (from node 1, node 2: 31)
# (dom0 itself sees one node.) Extra Xen options may come from
# $AFFINE_XEN_ARGS. Sets AFFINE_LAST_BOOT_SECONDS.
#
# Why these options:
# - -cpu SandyBridge with smap=0 smep=0: with newer CPU models dom0 dies at
#   once under TCG (page fault in Xen's create_bounce_frame).
# - bootscrub=0, xpti=false, spec-ctrl=no, dom0 mitigations=off and a small
#   dom0_mem: a PV dom0 under TCG is slow, and scrubbing, page-table
#   isolation and building dom0's memory map cost most of the boot time
#   (about 95 s down to about 35 s). None of it matters for affinity tests.
boot_xen() {
    [ $# -ge 2 ] || _affine_die "usage: boot_xen INITRAMFS LOG [EXTRA_DOM0_ARGS]"
    local initrd=$1 log=$2 extra=${3:-} kernel dom0_mem layout=() sizes=() i
    _affine_kit_check
    kernel=$(readlink -f "$AFFINE_KIT_DIR/vmlinuz")
    # -initrd takes "module args,module": QEMU splits on commas, so neither
    # path may contain one.
    case "$kernel$initrd" in *,*) _affine_die "paths must not contain ',': $kernel $initrd" ;; esac
    case ${AFFINE_XEN_LAYOUT:-numa2} in
    numa2)
        dom0_mem=256M
        layout=(-m 1024 -smp 4,sockets=2,cores=2,threads=1
            -object memory-backend-ram,id=m0,size=512M -numa node,nodeid=0,cpus=0-1,memdev=m0
            -object memory-backend-ram,id=m1,size=512M -numa node,nodeid=1,cpus=2-3,memdev=m1
            -numa dist,src=0,dst=1,val=21) ;;
    numa4 | numa4u | numa4ua)
        dom0_mem=512M,max:512M
        case $AFFINE_XEN_LAYOUT in
        numa4) sizes=(768 768 768 768) ;;
        numa4u) sizes=(1280 512 768 512) ;;
        *) sizes=(1024 512 1024 512) ;;
        esac
        layout=(-m $((sizes[0] + sizes[1] + sizes[2] + sizes[3])) -smp 4,sockets=4,cores=1,threads=1)
        for i in 0 1 2 3; do
            layout+=(-object "memory-backend-ram,id=m$i,size=${sizes[i]}M" -numa "node,nodeid=$i,cpus=$i,memdev=m$i")
        done
        layout+=(-numa dist,src=0,dst=1,val=21 -numa dist,src=0,dst=2,val=31 -numa dist,src=0,dst=3,val=31
            -numa dist,src=1,dst=2,val=31 -numa dist,src=1,dst=3,val=31 -numa dist,src=2,dst=3,val=21)
        # QEMU takes a matrix as symmetric unless both directions of every pair are given.
        [ "$AFFINE_XEN_LAYOUT" != numa4ua ] || layout+=(-numa dist,src=1,dst=0,val=21 -numa dist,src=2,dst=0,val=31
            -numa dist,src=3,dst=0,val=31 -numa dist,src=2,dst=1,val=16 -numa dist,src=3,dst=1,val=31
            -numa dist,src=3,dst=2,val=21) ;;
    *) _affine_die "AFFINE_XEN_LAYOUT: unknown layout $AFFINE_XEN_LAYOUT (numa2, numa4, numa4u, numa4ua)" ;;
    esac
    AFFINE_BOOT_TIMEOUT=$AFFINE_XEN_BOOT_TIMEOUT _affine_run_qemu xen "$log" \
        -cpu SandyBridge "${layout[@]}" \
        -kernel "$AFFINE_KIT_DIR/xen.elf" \
        -append "console=com1 com1=115200 dom0_mem=$dom0_mem noreboot smap=0 smep=0 bootscrub=0 xpti=false spec-ctrl=no ${AFFINE_XEN_ARGS:-}" \
        -initrd "$kernel console=hvc0 quiet panic=-1 mitigations=off $extra,$initrd"
}

# --------------------------------------------------------------- results

# check_results LOG [NAME]
# Count the AFFINE-PASS / AFFINE-FAIL lines of a console log. Fails when a
# check failed, when AFFINE-DONE is missing (the guest crashed or hung), or
# when no check ran at all; on failure prints the whole console log.
check_results() {
    local log=$1 name=${2:-$(basename "$1" .log)} text passes fails ok=1
    [ -f "$log" ] || _affine_die "no log $log"
    # The serial console ends lines with \r\n; kernel messages may start in
    # the middle of a line, so match the markers anywhere.
    text=$(tr -d '\r' < "$log")
    passes=$(grep -ao 'AFFINE-PASS [^ ]*' <<< "$text" | wc -l || true)
    fails=$(grep -ao 'AFFINE-FAIL .*' <<< "$text" || true)
    if [ -n "$fails" ]; then
        ok=0
        echo "$name: failed checks:"
        sed 's/^/  /' <<< "$fails"
    fi
    if ! grep -aq 'AFFINE-DONE' <<< "$text"; then
        ok=0
        echo "$name: no AFFINE-DONE: the guest crashed, hung or timed out"
    fi
    if [ "$passes" = 0 ] && [ -z "$fails" ]; then
        ok=0
        echo "$name: no checks ran"
    fi
    local nfail=0
    [ -z "$fails" ] || nfail=$(wc -l <<< "$fails")
    echo "$name: $passes passed, $nfail failed"
    if [ "$ok" = 0 ]; then
        echo "----- console log of $name ($log) -----"
        cat "$log"
        echo "----- end of console log of $name -----"
        return 1
    fi
}

# extract_blob LOG NAME OUT: decode what the guest printed with emit_blob.
extract_blob() {
    local log=$1 name=$2 out=$3
    tr -d '\r' < "$log" |
        awk -v n="$name" '$0 == "AFFINE-BLOB-BEGIN " n {f=1; next}
                          $0 == "AFFINE-BLOB-END " n {f=0; found=1}
                          f {print}
                          END {exit !found}' |
        base64 -d > "$out" ||
        { _affine_log "no complete blob '$name' in $log"; return 1; }
}

# ------------------------------------------------------------- scenarios

# run_linux_scenario NAME TOPOLOGY INIT_SCRIPT [make_initramfs options]
# Build the initramfs, boot it, check the results. Logs and images go to
# $AFFINE_SYSTEM_WORK/NAME.{log,cpio.gz}.
run_linux_scenario() {
    local name=$1 topo=$2 script=$3
    shift 3
    local img=$AFFINE_SYSTEM_WORK/$name.cpio.gz log=$AFFINE_SYSTEM_WORK/$name.log
    make_initramfs "$img" "$script" "$@"
    boot_linux "$topo" "$img" "$log" || true
    check_results "$log" "$name"
}

# run_xen_scenario NAME INIT_SCRIPT [make_initramfs options]
# As run_linux_scenario, on Xen with the dom0 modules loaded.
run_xen_scenario() {
    local name=$1 script=$2
    shift 2
    local img=$AFFINE_SYSTEM_WORK/$name.cpio.gz log=$AFFINE_SYSTEM_WORK/$name.log
    make_initramfs "$img" "$script" --modules xen "$@"
    boot_xen "$img" "$log" || true
    check_results "$log" "$name"
}
