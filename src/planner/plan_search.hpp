// The two searches for the best node set (include/affine/placement.hpp, "Search and
// what is guaranteed"): exact branch and bound for small hosts, polynomial growth
// and swaps for large ones. Both offer their candidates to a Podium.
#pragma once

#include <vector>

#include "plan_score.hpp"

namespace affine::planner {

// Exact search: sets of k nodes for k = 1, 2, ... until one fits; branch and bound
// on the worst distance (rule 5 decides right after the size when rule 4 is off).
void search_exact(const HostFacts& facts, const Need& need, const std::vector<int>& useful, Podium& podium);

// Polynomial search for large hosts: exact for one and two nodes, growth from every
// node plus single swaps beyond. Returns which of the two held the best plan.
PlanSearch search_large(const HostFacts& facts, const Need& need, const std::vector<int>& useful, Podium& podium);

}  // namespace affine::planner
