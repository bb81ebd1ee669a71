// The text form of a placement plan, shared by `affine place` and `affine xen place`.
#pragma once

#include "affine/placement.hpp"

namespace affine::cli {

// Prints the plan for `request` (nodes, CPUs, affinity, memory split, score, search,
// runners-up; or why it was not placed) to stdout. With `host` (the host it was
// planned on), a multi-node plan with CPU affinity also says the order its memory
// fills the nodes when allocated preferred node first (xen_preferred_first.hpp),
// as `xen create` builds a domain larger than any node.
void print_plan(const Plan& plan, const PlacementRequest& request, const PlacementHost* host = nullptr);

}  // namespace affine::cli
