// The exhaustive placement oracle of the tests: every non-empty set of nodes scored
// under the rules of docs/placement.md, the best one kept. Written from that text
// alone, against the public types only: it shares no code with the planner it
// checks (no node facts, no memory split, no candidate, no comparison of src/core).
#pragma once

#include <cstdint>
#include <map>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/placement.hpp"

namespace affine::oracle {

// What the oracle decides: the parts of a Plan the rules determine.
struct OraclePlan {
    PlanOutcome outcome = PlanOutcome::refused;
    NodeSet nodes;
    std::map<int, std::uint64_t> memory_bytes_per_node;  // nodes given memory only
    std::map<int, int> vcpus_per_node;                   // nodes given vCPUs only
};

// Usage error for the requests and hosts the planner refuses (vcpus < 1, memory 0,
// resident memory on a node the host lacks, no usable CPU) and for hosts of more
// than 20 nodes.
Result<OraclePlan> best_plan(const PlacementHost& host, const PlacementRequest& request);

}  // namespace affine::oracle
