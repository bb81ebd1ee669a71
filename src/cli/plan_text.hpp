// The text form of a placement plan, shared by `affine place` and `affine xen place`.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "affine/placement.hpp"

namespace affine::cli {

// Prints the plan for `request` (nodes, CPUs, affinity, memory split, score, search,
// runners-up; or why it was not placed) to stdout. With `host` (the host it was
// planned on), a multi-node plan with CPU affinity also says the order its memory
// fills the nodes when allocated preferred node first (xen_preferred_first.hpp),
// as `xen create` builds a domain larger than any node.
void print_plan(const Plan& plan, const PlacementRequest& request, const PlacementHost* host = nullptr);

// Bytes per memory tier as the plans and `daemon status` print them:
// "memory_tier4: 6G, memory_tier90: 2G".
std::string memory_tiers_text(const std::map<int, std::uint64_t>& bytes_per_tier);

}  // namespace affine::cli
