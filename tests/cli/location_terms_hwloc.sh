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
# The dies tree has all of them: 2 sockets x 2 dies x 1 core x 2 threads, an L3 per die.
expect_eq "dies has 4 dies" 4 "$(HWLOC_FSROOT=$fixtures/dies hwloc-calc --number-of die all)"
expect_eq "dies has 4 L3 caches" 4 "$(HWLOC_FSROOT=$fixtures/dies hwloc-calc --number-of l3 all)"
expect_status "dies: die:1 in a range with ^" 0 "$AFFINE" calc "sockets:0-1,^dies:1-2" --host "$fixtures/dies"
expect_eq "dies: sockets without the middle dies" "0-1,6-7" "$out"
finish
