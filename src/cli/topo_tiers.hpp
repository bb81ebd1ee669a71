// The tiered-memory part of `affine topo`: the tiers line and the access table.
#pragma once

#include "affine/topology.hpp"

namespace affine::cli {

// Prints "memory tiers: ..." and one row per (node, access class) with HMAT's
// bandwidths and latencies and the node's memory-side caches; nothing when the
// host shows neither tiers nor HMAT.
void print_memory_tiers(const Topology& topology);

}  // namespace affine::cli
