// Placement on hosts with tiered memory (CPU-less memory nodes, memory tiers,
// ACPI HMAT), on top of plan_placement.
//
// Rules:
//   - a CPU-less node is never one of a plan's nodes (a workload's home): its
//     memory is overflow for its nearest initiator, the node with CPUs that
//     reaches it with the lowest HMAT read latency, then the smallest SLIT
//     distance, then the lowest id (nearest_initiator);
//   - the planner (placement.hpp, unchanged) ranks the nodes with CPUs, each
//     counted with the free memory of the CPU-less nodes attached to it;
//   - a home node's share of the memory fills its memory order: itself and its
//     attached nodes, fastest tier first (lowest kernel tier id), then lowest HMAT
//     latency from the home, then distance, then id;
//   - follow-memory (request.resident_bytes_per_node): what is resident on a
//     CPU-less node counts for the home it is overflow of, where the tiers allow it;
//   - MemoryTierUse::top_only leaves out every node outside the fastest tier that
//     holds memory (Topology::top_tier_nodes); top_first (the default) uses the
//     lower tiers when the top is full.
// The plan's memory_bytes_per_node names every node given memory (the home nodes
// and their overflow), so a front end binds or prefers them all, and
// memory_bytes_per_tier says how much lands on each tier.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/placement.hpp"

namespace affine {

enum class MemoryTierUse { top_first, top_only };

// "top" (top_only) or "any" (top_first). Usage error naming both otherwise.
Result<MemoryTierUse> parse_memory_tier_use(std::string_view text);
// "top" or "any".
std::string_view to_string(MemoryTierUse use);

// The node with CPUs whose memory overflow CPU-less node `node` is (rules above);
// nullopt when the host has no node with CPUs or `node` has CPUs.
std::optional<int> nearest_initiator(const Topology& topology, int node);

// Where the memory of home node `home` goes, in order (rules above), restricted to
// `eligible` nodes.
std::vector<int> memory_order(const Topology& topology, int home, const NodeSet& eligible);

// The nodes a plan whose homes are `homes` may give memory under `use`: the homes'
// memory orders together (the homes, and the CPU-less nodes attached to them that
// `use` allows). Memory there is home; the daemon moves only what lies elsewhere.
NodeSet memory_nodes_of(const Topology& topology, const NodeSet& homes, MemoryTierUse use);

// Bytes per node summed by the nodes' memory tiers (kernel tier id); nodes without a
// tier are left out, so a host that shows no tiers gives an empty map.
std::map<int, std::uint64_t> bytes_per_tier(const Topology& topology, const std::map<int, std::uint64_t>& per_node);

// Plans `request` on `host` under the rules above. Pure: no I/O. Errors as
// plan_placement.
Result<Plan> plan_tiered_placement(const PlacementHost& host, const PlacementRequest& request,
                                   MemoryTierUse use = MemoryTierUse::top_first, const PlanOptions& options = {});

}  // namespace affine
