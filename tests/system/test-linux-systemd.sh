#!/bin/bash
# System test: the Debian package's daemon as it is deployed, under a real systemd.
# A Debian 12 guest (the package test's debootstrap root, booted from an ext4 disk
# with the kit's Debian kernel and systemd as PID 1) on 2 nodes of 1 CPU each
# installs the .deb with apt and runs guest/linux-systemd.sh from a unit at boot.
# Usage: test-linux-systemd.sh AFFINE_BINARY [HELPERS_DIR]
# The .deb is the one scripts/package made in $AFFINE_BUILD_DIR/package (ctest's
# package.build); the root comes from tests/package/debian-root.sh's cache in
# $AFFINE_BUILD_DIR/package-test/cache (bootstrapped once, as the package test does).
# About 2 minutes on a 2-CPU machine (TCG), most of it the boot, apt and the watchdog.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
affine=$(readlink -f "$1")
helpers=$(readlink -f "${2:-$(dirname "$affine")/tests/helpers}")
: "${AFFINE_BUILD_DIR:=$here/../../build}"
: "${AFFINE_BOOT_TIMEOUT:=900}"
export AFFINE_BOOT_TIMEOUT
# shellcheck source=lib.sh
. "$here/lib.sh"

deb=$(ls "$AFFINE_BUILD_DIR"/package/affine_*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ] || _affine_die "no affine_*_amd64.deb in $AFFINE_BUILD_DIR/package: run scripts/package (ctest -R package.build)"
name=linux-systemd
work=$AFFINE_SYSTEM_WORK/$name
root=$work/root
mkdir -p "$work"
trap 'rm -rf "$root" "$work/disk.img"' EXIT
started=$SECONDS
bash "$here/../package/debian-root.sh" "$root" "$AFFINE_BUILD_DIR/package-test/cache"

# The test itself: the package, the scenario and what it sources, touch_memory (its
# libraries are Debian 12's, as the root's), and the unit that runs it at boot.
t=$root/opt/affine-test
install -D -m 0644 "$deb" "$t/$(basename "$deb")"
install -m 0755 "$helpers/touch_memory" "$t/touch_memory"
install -m 0644 "$here/guest/affine-check.sh" "$here/guest/linux-common.sh" "$here/guest/linux-systemd.sh" "$t/"
cat > "$t/run.sh" << 'RUN'
#!/bin/bash
# Runs the scenario with the check helpers, then AFFINE-DONE and power off.
cd /opt/affine-test
echo "AFFINE-BOOTED kernel=$(uname -r) cpus=$(cat /sys/devices/system/cpu/online) nodes=$(cat /sys/devices/system/node/online) init=$(cat /proc/1/comm) t=$(cut -d' ' -f1 /proc/uptime)"
( . ./affine-check.sh; . ./linux-common.sh; . ./linux-systemd.sh )
rc=$?
[ "$rc" = 0 ] || echo "AFFINE-FAIL scenario-exit: scenario script exited with status $rc"
echo "AFFINE-DONE t=$(cut -d' ' -f1 /proc/uptime)"
sync
systemctl poweroff --force --force
RUN
chmod 0755 "$t/run.sh"
cat > "$root/etc/systemd/system/affine-system-test.service" << 'UNIT'
[Unit]
Description=affine's system test under systemd
After=basic.target

[Service]
Type=simple
ExecStart=/opt/affine-test/run.sh
StandardInput=null
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0

[Install]
WantedBy=multi-user.target
UNIT
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf ../affine-system-test.service "$root/etc/systemd/system/multi-user.target.wants/"
# Nothing else on the console, and nothing that starts on its own meanwhile.
for unit in serial-getty@ttyS0.service getty@tty1.service apt-daily.timer apt-daily-upgrade.timer \
            e2scrub_all.timer fstrim.timer; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
echo "/dev/vda / ext4 rw 0 0" > "$root/etc/fstab"
echo affine-guest > "$root/etc/hostname"

make_disk_image "$work/disk.img" "$root"
rm -rf "$root"
make_disk_initramfs "$work/initrd.cpio.gz" virtio_pci,virtio_blk,crc32c_generic,ext4
echo "guest disk ready in $((SECONDS - started)) s"
log=$AFFINE_SYSTEM_WORK/$name.log
boot_linux numa2x1 "$work/initrd.cpio.gz" "$log" "" \
    -drive "file=$work/disk.img,if=virtio,format=raw,cache=unsafe" || true
check_results "$log" "$name"
echo "systemd test took $((SECONDS - started)) s"
