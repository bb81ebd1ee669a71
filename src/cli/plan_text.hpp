// The text form of a placement plan, shared by `affine place` and `affine xen place`.
#pragma once

#include "affine/placement.hpp"

namespace affine::cli {

// Prints the plan for `request` (nodes, CPUs, affinity, memory split, score, search,
// runners-up; or why it was not placed) to stdout.
void print_plan(const Plan& plan, const PlacementRequest& request);

}  // namespace affine::cli
