#!/usr/bin/env bash
# Tiered memory from the command line: topo on captured HMAT trees and on synthetic
# slow nodes, place with --memory-tier, the weights read (never written) on this
# machine, and the errors of weights and run's weighted interleave.
source "$(dirname "$0")/lib.sh"
fixtures="$(dirname "$0")/../fixtures/sysfs"

expect_status topo-hmat 0 "$AFFINE" topo --host "$fixtures/hmat-backports"
expect_contains topo-tiers-line "memory tiers (fastest first): memory_tier4: nodes 0  |  memory_tier90: nodes 1" "$out"
expect_contains topo-access-row "   1     1          0         90        2048        2048       40       40  L1 16M direct-mapped write-back, 64 B lines" "$out"
expect_status topo-hmat-json 0 "$AFFINE" topo --host "$fixtures/hmat" --json
expect_contains topo-json-cache '"memory_side_caches":[{"level":1,"size_bytes":16777216,"line_bytes":64,"indexing":"direct-mapped","write_policy":"write-back"}]' "$out"
expect_contains topo-json-tier '"memory_tier":4' "$out"
# The same guest's lstopo XML: hwloc's memory attributes as access class 1 (hwloc
# keeps no class 0, no tier and no cache write policy).
expect_status topo-hwloc-xml 0 "$AFFINE" topo --host "hwloc:$fixtures/hmat.lstopo.xml"
expect_contains topo-hwloc-no-tiers "memory tiers: not shown by this host" "$out"
expect_contains topo-hwloc-dram "   0     1          0          -       10240       10240       10       10" "$out"
expect_contains topo-hwloc-slow "   1     1          0          -        2048        2048       40       40  L1 16M direct-mapped write policy unknown, 64 B lines" "$out"
if grep -qE '^ +[0-9]+ +0 ' <<<"$out"; then fail topo-hwloc-no-class0 "$out"; else pass topo-hwloc-no-class0; fi
expect_status topo-hwloc-json 0 "$AFFINE" topo --host "hwloc:$fixtures/hmat.lstopo.xml" --json
expect_contains topo-hwloc-json-access '"access":[{"class":1,"initiators":[0],"read_bandwidth_mbps":2048,"write_bandwidth_mbps":2048,"read_latency_ns":40,"write_latency_ns":40}]' "$out"
expect_contains topo-hwloc-json-cache '"indexing":"direct-mapped","write_policy":"unknown"' "$out"
expect_status topo-hwloc-plain 0 "$AFFINE" topo --host "hwloc:$fixtures/numa2.lstopo.xml"
if grep -q "memory access" <<<"$out"; then fail topo-hwloc-plain-no-access "$out"; else pass topo-hwloc-plain-no-access; fi
expect_status topo-plain 0 "$AFFINE" topo --host nodes=2,cores=1
if grep -q "memory tiers" <<<"$out"; then fail topo-plain-no-tiers "$out"; else pass topo-plain-no-tiers; fi

slow=nodes=2,cores=4,mem=4G,slow=16G
expect_status topo-slow 0 "$AFFINE" topo --host "$slow"
expect_contains topo-slow-tiers "memory_tier4: nodes 0-1  |  memory_tier5: nodes 2-3" "$out"
expect_status place-overflow 0 "$AFFINE" place --vcpus 4 --memory 6G --host "$slow" --json
expect_contains place-overflow-home '"nodes":[0],' "$out"
expect_contains place-overflow-memory '"memory_bytes_per_node":{"0":4294967296,"2":2147483648}' "$out"
expect_contains place-overflow-tiers '"memory_bytes_per_tier":{"4":4294967296,"5":2147483648}' "$out"
expect_status place-top 0 "$AFFINE" place --vcpus 4 --memory 6G --memory-tier top --host "$slow"
expect_contains place-top-text "  tiers       memory_tier4: 6G" "$out"
expect_status place-top-refused 1 "$AFFINE" place --vcpus 4 --memory 9G --memory-tier top --host "$slow"
expect_contains place-top-refused-says "in the fastest memory tier (nodes 0-1)" "$out"
expect_status place-bad-tier 2 "$AFFINE" place --vcpus 1 --memory 1G --memory-tier fast --host "$slow"
expect_contains place-bad-tier-says "unknown memory tier choice \"fast\"" "$err"
expect_status run-tier-needs-place 2 "$AFFINE" run --memory-tier top -- true
expect_status run-bad-policy 2 "$AFFINE" run --mem-policy weighted --nodes 0 -- true
expect_contains run-bad-policy-lists "weighted-interleave" "$err"

# The weights of this machine, read only: what the kernel's files hold.
wd=/sys/kernel/mm/mempolicy/weighted_interleave
if [ -d "$wd" ]; then
    expect_status weights-json 0 "$AFFINE" weights --json
    for f in "$wd"/node*; do
        n=${f##*/node}
        expect_contains "weights-node$n" "\"$n\":$(cat "$f")" "$out"
    done
    expect_status weights-text 0 "$AFFINE" weights
    expect_contains weights-text-header "node  weight   share  read MB/s" "$out"
else
    expect_status weights-absent 1 "$AFFINE" weights
    expect_contains weights-absent-says "has no weighted interleave" "$err"
fi
expect_status weights-bad 2 "$AFFINE" weights 0:0
expect_contains weights-bad-says "bad weight \"0:0\": the weight is out of range" "$err"
expect_status weights-both 2 "$AFFINE" weights --from-hmat 0:1
finish
