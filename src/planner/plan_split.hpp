// How a plan divides what it places over its nodes: the memory split (docs/placement.md,
// "Memory split") and the largest-remainder split of the vCPUs. Exact integers.
#pragma once

#include <cstdint>
#include <vector>

#include "plan_facts.hpp"

namespace affine::planner {

// Splits `total` bytes over slots in proportion to `weight`, never above `room`;
// what capped slots cannot take is re-split over the others. Returns what is left
// when no slot with weight has room. Rounding: floor, then the lowest slots first.
std::uint64_t split_proportionally(std::uint64_t total, const std::vector<std::uint64_t>& weight,
                                   std::vector<std::uint64_t>& room, std::vector<std::uint64_t>& given);

// The split of a pair of nodes with CPUs when neither is capped: the same bytes as
// split_proportionally (floor, then the lowest first) without allocating, for the pair
// search, which scores every pair. False when the general split is needed.
bool split_pair(const NodeFacts& a, const NodeFacts& b, std::uint64_t memory, std::uint64_t& take_a,
                std::uint64_t& take_b);

// The memory split of a plan over its members: take[k] for members[k].
void split_memory(const HostFacts& facts, const std::vector<int>& members, std::uint64_t memory,
                  std::vector<std::uint64_t>& take);

// Largest-remainder split of `count` over `weight` (ties to the lowest slot).
std::vector<long long> split_count(long long count, const std::vector<long long>& weight);

}  // namespace affine::planner
