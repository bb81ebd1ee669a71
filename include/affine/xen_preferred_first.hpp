// A new Xen domain larger than any one node's free memory, built preferred node
// first: all it can get from its preferred node P, then from the other nodes in
// order of distance from P, each only to the extent necessary. Pure: it reads a
// planner's host and plan and returns values; `xen create` carries the steps out
// (src/xen/create.hpp).
//
// Why the steps: Xen hands a domain's pages round-robin over its node affinity,
// and when those nodes are full takes them from the lowest-numbered other node,
// however far. So the domain is built with `memory` = P's share (node affinity
// P, taken from the vCPUs' soft affinity on P's CPUs) and `maxmem` = the whole;
// then for each neighbour N in turn its node affinity is set to N alone and its
// target raised by N's share, which the guest's balloon driver populates from N.
// Finally the node affinity becomes the nodes used, so memory the guest gives
// back and takes again comes from the same nodes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/placement.hpp"
#include "affine/xl_config.hpp"

namespace affine::xen {

// What each node keeps free for Xen's own allocations for the domain (its vCPU
// and event structures, page-table pages) so that the domain's own pages never
// spill over to another node.
inline constexpr std::uint64_t preferred_first_node_reserve_bytes = 4ULL << 20;

// One node's part, in the order it is populated.
struct NodeShare {
    int node = 0;
    std::uint64_t bytes = 0;  // whole MiB (xl's memory unit)
    int distance = 10;        // from the preferred node

    friend bool operator==(const NodeShare&, const NodeShare&) = default;
};

struct PreferredFirstSplit {
    int preferred = 0;
    std::vector<NodeShare> shares;  // the preferred node first, then by distance
    std::uint64_t memory_bytes = 0;
    // The memory-weighted mean distance from the preferred node (where the vCPUs
    // run): sum(bytes x distance) / memory; 10 when all of it is local.
    double mean_distance = 10.0;

    [[nodiscard]] NodeSet nodes() const;
};

// The memory-weighted mean distance from node `from` of memory laid out as
// `bytes_per_node`: sum(bytes x distance(from, node)) / sum(bytes); 10 for none.
double mean_distance(const Topology& topology, int from, const std::map<int, std::uint64_t>& bytes_per_node);

// The preferred node of a multi-node plan: of its nodes with usable CPUs (the
// planner chose the set for distance, load and memory), the one with the most free
// memory (so the least memory is remote), then the fewest vCPUs already there,
// then the lowest id. nullopt for a plan with no such node.
std::optional<int> preferred_node(const PlacementHost& host, const Plan& plan);

// Splits `memory_bytes` (whole MiB) over the nodes of `host`: `preferred` first,
// then every other allowed node in order of distance from `preferred` (its row of
// the distance table: distances may be asymmetric), ties broken by more free
// memory, then the lower id. Each node gives at most its free memory less
// preferred_first_node_reserve_bytes, in whole MiB; nodes that give nothing are
// left out. Failure (ENOMEM) when the nodes together have not the memory; usage
// error when `preferred` is not an allowed node of the host.
Result<PreferredFirstSplit> split_preferred_first(const PlacementHost& host, int preferred,
                                                  std::uint64_t memory_bytes);

// One step after the domain is built: node affinity {node}, target raised to
// `target_bytes` (by the node's share), then wait until the domain has it.
struct PopulateStep {
    int node = 0;
    std::uint64_t share_bytes = 0;
    std::uint64_t target_bytes = 0;

    friend bool operator==(const PopulateStep&, const PopulateStep&) = default;
};

// The whole sequence `xen create` runs.
struct PreferredFirstSteps {
    std::vector<std::string> xl_overrides;   // for `xl create`: placement, memory, maxmem
    std::uint64_t create_memory_bytes = 0;   // `memory`: the preferred node's share
    std::uint64_t maxmem_bytes = 0;          // `maxmem`: the whole (or the user's, if larger)
    NodeSet create_node_affinity;            // {P}, from the soft affinity on P's CPUs
    std::vector<PopulateStep> populate;      // one per other node, nearest first
    NodeSet final_node_affinity;             // the nodes used
};

// The plan of the domain's vCPUs on the preferred node: `plan` with its CPUs, soft
// and (for best-effort-hard) hard affinity narrowed to the preferred node's usable
// CPUs; the memory as the split gives it, every vCPU counted on the preferred
// node. The hard_cpus a soft plan carries for
// reserved CPUs (every usable CPU) are kept.
Plan preferred_node_plan(const Plan& plan, const PreferredFirstSplit& split, const Topology& topology);

// The steps for `domain` (its `memory` is the split's whole) under `plan` (the
// multi-node plan) and its split. Usage error as xl_placement_overrides.
Result<PreferredFirstSteps> preferred_first_steps(const Plan& plan, const PreferredFirstSplit& split,
                                                  const XlDomain& domain, const Topology& topology);

// Whether `xen create` builds `domain` preferred-first under `plan` with the
// preferred node `preferred` (preferred_node): a placed plan of more than one node,
// a soft or hard affinity policy, the domain's vCPUs no more than the preferred
// node's usable CPUs (else its vCPUs belong on the whole set), and a guest that
// can balloon up after it is built: PV (xl's default type) or PVH. An HVM domain
// built with memory below maxmem gets populate-on-demand instead. Empty when it
// is, else why not (for the user).
std::string why_not_preferred_first(const Plan& plan, const XlDomain& domain, const Topology& topology,
                                    std::optional<int> preferred);

}  // namespace affine::xen
