# Part of tests/system/lib.sh (sourced by it, not on its own): the initramfs of a guest: its binaries with their libraries, modules, the init that runs a scenario, a disk image.

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
