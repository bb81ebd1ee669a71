#!/usr/bin/env bash
# The set grammar's location terms against hwloc-calc on the same captured sysfs
# trees: core:N, socket:N, package:N, die:N and l3:N are hwloc's logical indexes
# (hwloc-calc without --physical), so both must name the same CPUs.
source "$(dirname "$0")/lib.sh"
fixtures=$(cd "$(dirname "$0")/../fixtures/sysfs" && pwd)
command -v hwloc-calc >/dev/null || { echo "hwloc-calc not found (apt-get install hwloc)"; exit 1; }

for tree in dies numa4 memless; do
    root=$fixtures/$tree
    for type in core socket package die l3; do
        count=$(HWLOC_FSROOT=$root hwloc-calc --number-of "$type" all 2>/dev/null || echo 0)
        for ((i = 0; i < count; i++)); do
            # hwloc-calc prints the physical ids of the PUs; affine reads that list back.
            want=$(HWLOC_FSROOT=$root hwloc-calc --po -I pu "$type:$i")
            expect_status "$tree $type:$i" 0 "$AFFINE" calc "$type:$i" --host "$root"
            expect_eq "$tree $type:$i is hwloc's" "$("$AFFINE" calc "$want" --host "$root")" "$out"
        done
        expect_status "$tree $type:$count does not exist" 2 "$AFFINE" calc "$type:$count" --host "$root"
    done
done
# hwloc's own names and options: pu:N, numa:N, --intersect, --number-of, --to hwloc.
for tree in dies numa4 memless; do
    root=$fixtures/$tree
    for type in pu numa; do
        count=$(HWLOC_FSROOT=$root hwloc-calc --number-of "$type" all 2>/dev/null || echo 0)
        for ((i = 0; i < count; i++)); do
            want=$(HWLOC_FSROOT=$root hwloc-calc --po -I pu "$type:$i")
            # A node without CPUs: hwloc gives it its parent's CPUs, affine none (an
            # empty CPU set is refused).
            if ! "$AFFINE" calc "$type:$i" --host "$root" >/dev/null 2>&1; then
                expect_status "$tree $type:$i has no CPUs" 2 "$AFFINE" calc "$type:$i" --host "$root"
                expect_contains "$tree $type:$i has no CPUs: says so" "the set is empty" "$err"
                continue
            fi
            expect_status "$tree $type:$i" 0 "$AFFINE" calc "$type:$i" --host "$root"
            expect_eq "$tree $type:$i is hwloc's" "$("$AFFINE" calc "$want" --host "$root")" "$out"
            expect_status "$tree $type:$i --to hwloc" 0 "$AFFINE" calc "$type:$i" --to hwloc --host "$root"
            expect_eq "$tree $type:$i --to hwloc is hwloc-calc's mask" "$(HWLOC_FSROOT=$root hwloc-calc "$type:$i")" "$out"
        done
        expect_status "$tree $type:$count does not exist" 2 "$AFFINE" calc "$type:$count" --host "$root"
    done
    for type in pu core package die l3 numa; do
        # hwloc-calc says "unavailable" for a type the host does not show (dies).
        want=$(HWLOC_FSROOT=$root hwloc-calc -N "$type" all 2>/dev/null || true)
        [ -n "$want" ] || continue
        # hwloc counts a node without CPUs as touching its parent's CPUs; affine does not.
        [ "$type" = numa ] && [ "$tree" = numa4 ] && continue
        expect_status "$tree -N $type" 0 "$AFFINE" calc all -N "$type" --host "$root"
        expect_eq "$tree -N $type is hwloc's" "$want" "$out"
        expect_status "$tree --intersect $type node:0" 0 "$AFFINE" calc numa:0 --intersect "$type" --host "$root"
        expect_eq "$tree -I $type numa:0 is hwloc's" "$(HWLOC_FSROOT=$root hwloc-calc -I "$type" numa:0)" "$out"
    done
done
expect_status "calc -I bogus" 2 "$AFFINE" calc all -I bogus --host "$fixtures/dies"
expect_contains "calc -I bogus says the types" 'unknown type "bogus": expected pu, core' "$err"

# The dies tree has all of them: 2 sockets x 2 dies x 1 core x 2 threads, an L3 per die.
expect_eq "dies has 4 dies" 4 "$(HWLOC_FSROOT=$fixtures/dies hwloc-calc --number-of die all)"
expect_eq "dies has 4 L3 caches" 4 "$(HWLOC_FSROOT=$fixtures/dies hwloc-calc --number-of l3 all)"
expect_status "dies: die:1 in a range with ^" 0 "$AFFINE" calc "sockets:0-1,^dies:1-2" --host "$fixtures/dies"
expect_eq "dies: sockets without the middle dies" "0-1,6-7" "$out"
finish
