# Part of tests/system/lib.sh (sourced by it, not on its own): booting Linux or Xen under QEMU/TCG.

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
