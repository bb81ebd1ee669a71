#!/usr/bin/env bash
# libvirt asks affine for placement: Debian's libvirtd runs `/usr/bin/numad -w NCPUS:MB`
# for a domain with <vcpu placement='auto'> and <numatune placement='auto'>, and
# applies the node list it prints. Here /usr/bin/numad is affine's numad link.
#
# Everything happens in a private mount namespace, and every file the test adds
# (/usr/bin/numad, the libvirt users in /etc/passwd and /etc/group, qemu.conf, the
# /var/lib/libvirt tree) lives in overlays whose upper layers are on a tmpfs of that
# namespace: nothing of the machine is created or replaced, and it all vanishes with
# the namespace. cgroups are off in qemu.conf, so no cgroup of the machine is made.
# Starts one TCG domain (no disk, 64 MiB) for a few seconds: about 10-20 s in all.
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root (libvirtd in a private mount namespace); run as root to test libvirt's placement='auto'"
    exit 77
fi
for tool in libvirtd virsh unshare qemu-system-x86_64; do
    command -v "$tool" >/dev/null || { fail "tools" "$tool not found (scripts/install-deps installs it)"; finish; }
done

AFFINE=$(readlink -f "$AFFINE")
LINK=$(dirname "$AFFINE")/numad
[ -L "$LINK" ] || { fail "numad link" "$LINK is not the build's link to affine"; finish; }

if [ -z "${AFFINE_LIBVIRT_SCRATCH:-}" ]; then
    # Run this script again inside a private mount namespace; the empty directory its
    # tmpfs is mounted on is the one trace outside, removed afterwards.
    scratch=$(mktemp -d /tmp/affine-libvirt.XXXXXX)
    status=0
    AFFINE_LIBVIRT_SCRATCH=$scratch unshare -m --propagation private bash "$0" "$@" || status=$?
    rmdir "$scratch"
    exit $status
fi

scratch=$AFFINE_LIBVIRT_SCRATCH
mount -t tmpfs -o mode=0700 affine-libvirt "$scratch"
# An overlay over DIR whose changes go to the namespace's tmpfs.
overlay() {
    local dir=$1 name=$2
    mkdir -p "$scratch/$name/upper" "$scratch/$name/work"
    mount -t overlay "affine-$name" -o "lowerdir=$dir,upperdir=$scratch/$name/upper,workdir=$scratch/$name/work" "$dir"
}
overlay /usr/bin usrbin
overlay /etc etc
overlay /var var
mount -t tmpfs -o mode=0755 affine-run /run

# affine's numad link where libvirt looks (a bind mount needs an existing target: the
# empty file is made in the overlay).
: > /usr/bin/numad
mount --bind "$LINK" /usr/bin/numad

# The users and groups libvirt's QEMU driver resolves, in the overlay's copies.
getent group kvm >/dev/null || echo "kvm:x:64001:" >> /etc/group
getent group libvirt-qemu >/dev/null || echo "libvirt-qemu:x:64055:" >> /etc/group
getent passwd libvirt-qemu >/dev/null ||
    echo "libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin" >> /etc/passwd
mkdir -p /etc/libvirt /var/log/libvirt /var/lib/libvirt /var/cache/libvirt /run/libvirt
cat > /etc/libvirt/qemu.conf <<'EOF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
stdio_handler = "file"
cgroup_controllers = [ ]
EOF
cat > /etc/libvirt/libvirtd.conf <<EOF
auth_unix_rw = "none"
log_filters = "1:util.command 1:qemu.qemu_process 3:*"
log_outputs = "1:file:$scratch/libvirtd.log"
EOF

domain=affine-numad-test
cleanup() {
    virsh -c qemu:///system destroy "$domain" >/dev/null 2>&1 || true
    if [ -s "$scratch/libvirtd.pid" ]; then kill "$(cat "$scratch/libvirtd.pid")" 2>/dev/null || true; fi
    sleep 0.5
}
trap cleanup EXIT

libvirtd -d -p "$scratch/libvirtd.pid"
for _ in $(seq 100); do
    virsh -c qemu:///system version >/dev/null 2>&1 && break
    sleep 0.2
done
expect_status "libvirtd answers in the namespace" 0 virsh -c qemu:///system version

cat > "$scratch/domain.xml" <<EOF
<domain type='qemu'>
  <name>$domain</name>
  <memory unit='MiB'>64</memory>
  <vcpu placement='auto'>1</vcpu>
  <numatune><memory mode='strict' placement='auto'/></numatune>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='null'/>
  </devices>
</domain>
EOF
expect_status "virsh define" 0 virsh -c qemu:///system define "$scratch/domain.xml"
expect_status "virsh start (libvirt runs numad -w)" 0 virsh -c qemu:///system start "$domain"
[ "$failures" = 0 ] || { tail -30 "$scratch/libvirtd.log"; ls "$scratch"; cat /var/log/libvirt/qemu/"$domain".log 2>/dev/null | tail; finish; }

# libvirt ran our link with the domain's vCPUs and MiB, and used its answer.
log=$(cat "$scratch/libvirtd.log")
expect_contains "libvirt ran /usr/bin/numad -w 1:64" "/usr/bin/numad -w 1:64" "$log"
advice=$(grep -o 'Nodeset returned from numad: [0-9,-]*' <<<"$log" | tail -1 | sed 's/.*: //')
[ -n "$advice" ] && pass "libvirt logged the advice: $advice" || fail "advice" "no 'Nodeset returned from numad' in libvirtd's log"
expect_status "the link is affine's numad" 0 /usr/bin/numad -V
expect_contains "numad -V names affine" "affine" "$out"
expect_status "affine numad -w 1:64 now" 0 "$AFFINE" numad -w 1:64
expect_eq "libvirt's nodeset is affine's answer" "$out" "$advice"

# What libvirt applied, from libvirt's own view and from the kernel's.
expect_status "virsh numatune" 0 virsh -c qemu:///system numatune "$domain"
expect_contains "numatune mode strict" "strict" "$out"
nodeset=$(awk -F': *' '/numa_nodeset/ {print $2}' <<<"$out")
expect_eq "numatune nodeset is the advice" "$advice" "$nodeset"
expect_status "virsh vcpuinfo" 0 virsh -c qemu:///system vcpuinfo "$domain" --pretty
affinity=$(awk -F': *' '/CPU Affinity/ {print $2}' <<<"$out" | awk '{print $1}')
node_cpus=""
for node in $(tr ',' ' ' <<<"$advice"); do
    case $node in
    *-*) for n in $(seq "${node%-*}" "${node#*-}"); do node_cpus+="$(cat /sys/devices/system/node/node$n/cpulist),"; done ;;
    *) node_cpus+="$(cat /sys/devices/system/node/node$node/cpulist)," ;;
    esac
done
node_cpus=${node_cpus%,}
expect_eq "vCPU affinity is the advised nodes' CPUs" "$node_cpus" "$affinity"
qemu_pid=$(cat /run/libvirt/qemu/"$domain".pid 2>/dev/null || true)
if [ -n "$qemu_pid" ]; then
    kernel_cpus=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/"$qemu_pid"/status)
    expect_eq "the kernel's mask of QEMU (/proc/PID/status)" "$node_cpus" "$kernel_cpus"
    policy=$(grep -m1 -o 'bind:[0-9,-]*' /proc/"$qemu_pid"/numa_maps || true)
    expect_eq "QEMU's memory is bound to the advice (numa_maps)" "bind:$advice" "$policy"
else
    fail "QEMU pid" "no /run/libvirt/qemu/$domain.pid"
fi

expect_status "virsh destroy" 0 virsh -c qemu:///system destroy "$domain"
finish
