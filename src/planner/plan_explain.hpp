// Why a plan is what it is, in the user's terms: why each runner-up lost, and why
// no plan with fewer nodes fits.
#pragma once

#include <string>

#include "plan_facts.hpp"

namespace affine::planner {

// The runner-up `loser` against the chosen `winner`: its score, the first rule it
// loses on, and that rule's figures for both.
RunnerUp runner_up(const HostFacts& facts, const Candidate& loser, const Candidate& winner, const Need& need);

// Why no set of `k` nodes fits ("no single node fits: the most free memory ...").
std::string no_fewer_text(const HostFacts& facts, const Need& need, int k);

}  // namespace affine::planner
