#!/usr/bin/env bash
# numad compatibility on this host: `affine numad` and the binary run as `numad`
# (the build's link) answer -w as numad prints it, and refuse numad's daemon options
# with the affine equivalent. Read-only: the answer reads sysfs and /proc/stat.
source "$(dirname "$0")/lib.sh"
AFFINE=$(readlink -f "$AFFINE")
LINK=$(dirname "$AFFINE")/numad
nodes=$(cat /sys/devices/system/node/online 2>/dev/null || echo 0)

expect_status "affine numad -w 1:64" 0 "$AFFINE" numad -w 1:64
expect_eq "one line, nothing on stderr" "" "$err"
[[ "$out" =~ ^[0-9]+([-,][0-9]+)*$ ]] && pass "answer in list syntax: $out" || fail "list syntax" "'$out'"
# The answer's nodes exist on this host.
for n in $(tr ',-' '  ' <<<"$out"); do
    [ -d /sys/devices/system/node/node"$n" ] && pass "node $n exists" || fail "node $n" "not on this host ($nodes)"
done
if [ "$nodes" = 0 ]; then expect_eq "one-node host: node 0" "0" "$out"; fi

# Run as `numad` through the link (argv[0]), with numad's getopt forms.
expect_status "numad link -w 2:512" 0 "$LINK" -w 2:512
first=$out
expect_status "numad -w2:512 (attached value)" 0 "$LINK" -w2:512
expect_status "numad -w 1.5 (fraction, no MB)" 0 "$LINK" -w 1.5
expect_status "numad -d -w 1 (log option accepted)" 0 "$LINK" -d -w 1
expect_status "numad -R 0 -w 1:64 (reserved CPUs)" 0 "$LINK" -R 0 -w 1:64
if [ "$(nproc --all)" -gt 1 ]; then
    expect_status "numad -R with every CPU" 2 "$LINK" -R "0-$(($(nproc --all) - 1))" -w 1:64
    expect_contains "no usable CPU said" "CPU" "$err"
fi
expect_status "numad -w 1:100000000 (more than the host: every node)" 0 "$LINK" -w 1:100000000
expect_eq "every node advised" "$nodes" "$out"
expect_contains "why on stderr" "advising every node" "$err"

# Answer time: milliseconds, not numad's two seconds (a figure, not a check).
start=$(date +%s%N); "$LINK" -w 2:512 >/dev/null; end=$(date +%s%N)
echo "numad -w 2:512 answered in $(((end - start) / 1000000)) ms (first answer: $first)"

# Bad input: exit 2, one line, and what is allowed.
expect_status "numad -w x" 2 "$LINK" -w x
expect_contains "expected form named" "NCPUS[:MB]" "$err"
expect_status "numad -w 2:512x" 2 "$LINK" -w 2:512x
expect_status "numad -w (no value)" 2 "$LINK" -w
expect_status "numad -z" 2 "$LINK" -z
expect_status "numad extra word" 2 "$LINK" -w 1 extra

# numad's daemon options are refused with the affine equivalent.
expect_status "numad (start the daemon)" 2 "$LINK"
expect_contains "daemon named" "affine daemon" "$err"
expect_status "numad -i 15" 2 "$LINK" -i 15
expect_contains "-i -> interval" "interval" "$err"
expect_status "numad -p PID" 2 "$LINK" -p $$
expect_contains "-p -> rule" "[[rule]]" "$err"
expect_status "numad -x PID" 2 "$LINK" -x $$
expect_contains "-x -> exclude" "exclude_comm" "$err"
expect_status "numad -S 0" 2 "$LINK" -S 0
expect_status "numad -u 85" 2 "$LINK" -u 85
expect_status "-w with -p is refused whole" 2 "$LINK" -w 1:64 -p $$
expect_eq "nothing printed when refused" "" "$out"
[ "$(wc -l <<<"$err")" = 1 ] && pass "refusal is one line" || fail "one line" "$err"

expect_status "numad -h" 0 "$LINK" -h
expect_contains "usage" "numad -w NCPUS[:MB]" "$out"
expect_status "numad -V" 0 "$LINK" -V
expect_contains "version names affine" "affine" "$out"
expect_status "affine help lists numad" 0 "$AFFINE" help
expect_contains "numad in the table" "numad" "$out"

# A full stdout is a failure, never a truncated list.
if [ -w /dev/full ]; then
    expect_status "write error exits 1" 1 bash -c "'$LINK' -w 1:64 > /dev/full"
    expect_contains "write error said" "write error" "$err"
fi
finish
