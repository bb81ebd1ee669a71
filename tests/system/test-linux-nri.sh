#!/bin/bash
# System test: `affine nri` with the real container runtime in a 2-node guest, so that
# the memory nodes of the containers' cpusets can be checked (the test on this machine,
# tests/nri/test-containerd.sh, sees one node). The guest runs containerd 1.7 and runc
# from the NRI kit (tests/nri/fetch-kit.sh), the locally built busybox image and the
# test's CRI client (Python with grpcio and protobuf, copied in with the modules a
# call loads), on cgroup v2 with the cpuset controller; the checks (guest/linux-nri.sh)
# read /proc/PID/status of the containers' processes.
# Usage: test-linux-nri.sh AFFINE_BINARY [HELPERS_DIR]. The NRI kit is fetched into
# $AFFINE_BUILD_DIR/kit/nri (shared with nri.containerd).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
affine=$(readlink -f "$1")
: "${AFFINE_BOOT_TIMEOUT:=600}"
export AFFINE_BOOT_TIMEOUT
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=../nri/lib.sh
. "$here/../nri/lib.sh"
nri_kit=${AFFINE_BUILD_DIR:-$AFFINE_REPO_DIR/build}/kit/nri
"$here/../nri/fetch-kit.sh" "$nri_kit" >/dev/null || { echo "cannot fetch containerd (see above)"; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/tree/etc/nri" "$stage/tree/lib/nri"
# The runtime under /run/nri in the guest; / is the initramfs, where pivot_root fails.
nri_containerd_config /run/nri /bin/runc "NoPivotRoot = true" > "$stage/tree/etc/nri/config.toml"
nri_make_image "$stage/image" "$stage/tree/lib/nri/image.tar"
nri_cri_messages "$nri_kit" "$stage/tree/lib/nri/py"
cp "$here/../nri/cri_client.py" "$stage/tree/lib/nri/"
# Python: the interpreter at the path whose prefix finds the standard library, and the
# modules (with their compiled forms and the libraries of their extensions) that a
# call of the client loads.
install -D -m 0755 "$(readlink -f /usr/bin/python3)" "$stage/tree/usr/bin/python3"
_affine_add_libraries "$stage/tree" /usr/bin/python3
CRI_PY_DIR=$stage/tree/lib/nri/py /usr/bin/python3 "$here/../nri/cri_client.py" "$stage/none.sock" files |
    grep -v "^$stage/" | while IFS= read -r f; do
        install -D -m 0644 "$f" "$stage/tree$f"
        case $f in *.so) _affine_add_libraries "$stage/tree" "$f" ;; esac
    done

bin=$nri_kit/root/usr/bin
name=linux-nri
img=$AFFINE_SYSTEM_WORK/$name.cpio.gz log=$AFFINE_SYSTEM_WORK/$name.log
make_initramfs "$img" "$here/guest/linux-nri.sh" --bin "$affine" \
    --bin "$bin/containerd" --bin "$bin/containerd-shim-runc-v2" --bin "$bin/ctr" --bin "$nri_kit/root/usr/sbin/runc" \
    --tree "$stage/tree" --file "$here/guest/linux-common.sh:/lib/linux-common.sh"
boot_linux numa2 "$img" "$log" || true
check_results "$log" "$name"
