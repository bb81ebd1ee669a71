#!/usr/bin/env bash
# numad -w answer time and answers, side by side in the same 4-node guest: affine
# through its numad link, and numad from Debian's package (downloaded and unpacked
# here, never installed on this machine; it runs only inside the guest, where its
# log file and message queue vanish with the guest). Prints figures; checks nothing.
# Usage: bench/numad_advice.sh AFFINE_BINARY    (the kit as for the system tests)
# Cost: one boot of the 4-node guest, about a minute under TCG.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
affine=$(readlink -f "${1:?usage: $0 AFFINE_BINARY}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download numad >/dev/null 2>&1 && dpkg-deb -x numad_*.deb numad) ||
    { echo "bench: cannot download Debian's numad package" >&2; exit 1; }
export AFFINE_SYSTEM_WORK=${AFFINE_SYSTEM_WORK:-$work}
# shellcheck source=../tests/system/lib.sh
. "$here/../tests/system/lib.sh"

cat > "$work/guest.sh" <<'GUEST'
# affine's link (as /usr/lib/affine/numad is installed); Debian's numad is /bin/numad.
mkdir -p /usr/lib/affine /var/log /var/run
ln -s /bin/affine /usr/lib/affine/numad
# busybox's time prints "real 0m 0.12s" on stderr
elapsed() { { time "$@" > /tmp/answer; } 2>&1 | awk '/^real/ {print $2 $3}'; }
for round in 1 2 3; do
    for request in 1:64 2:512 4:1024; do
        a=$(elapsed /usr/lib/affine/numad -w "$request")
        echo "BENCH affine numad -w $request: $(cat /tmp/answer) in $a"
        n=$(elapsed /bin/numad -w "$request")
        echo "BENCH debian numad -w $request: $(cat /tmp/answer) in $n"
    done
done
pass bench-ran
GUEST
make_initramfs "$work/bench.cpio.gz" "$work/guest.sh" --bin "$affine" --bin "$work/numad/usr/bin/numad"
boot_linux numa4 "$work/bench.cpio.gz" "$work/bench.log" || true
echo "numad -w on the 4-node guest ($(topology_describe numa4)):"
grep '^BENCH' "$work/bench.log" | sed 's/^BENCH /  /' || { tail -30 "$work/bench.log"; exit 1; }
