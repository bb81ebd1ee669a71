// The daemon's placement-and-move decisions for running workloads: where a newly
// named workload goes, when and how much of its memory moves, and which workload
// leaves an overloaded node. Pure: the caller passes the measured host, the
// workloads, the time and the state kept between steps, and carries out the
// decisions (soft affinity through the engine, memory with move_pages/migrate_pages).
//
// Workloads are planned with the tiered planner (tiered_placement.hpp) under their
// rule's memory_tier: a CPU-less node is never a workload's home (its `nodes`), and
// memory on its home memory nodes (home_memory_nodes) counts as home; memory
// elsewhere moves to the homes.
//
// One step:
//   1. Place every workload not placed yet, in order: plan it with the planner on the
//      live host (its own memory and load released first, its resident memory per
//      node given as follow-memory, so a workload already on one node stays there
//      when that fits), and count it in the host state before the next one.
//   2. Rebalance: a node whose load (busy CPUs / usable CPUs) stays above
//      `overload_load` for `overload_after` is overloaded. Of the workloads placed on
//      it that are past their minimum residency, not idle (a measured use of at least
//      0.05 CPU: moving an idle one frees nothing; a widened one may move: its spill
//      is the engine's answer to a busy moment, a new home the answer to a node that
//      stays overloaded) and whose re-plan (away
//      from that node) lands on nodes that stay at or below `overload_load`, the one
//      whose move helps most for least memory moved moves: first a move that alone
//      brings the node down to the threshold, then the fewest bytes to move, then the
//      most CPU relief. At most
//      one move per overloaded node per step, and only within the migration budget.
//      A workload whose memory outgrew its nodes (less than `drift_share` of it on
//      them, while the whole would fit elsewhere) is re-placed the same way, past its
//      residency.
//   3. Memory: a placed workload that is not widened and has pages outside its nodes
//      gets a move of at most `chunk_bytes` toward them per step, within the budget;
//      after a placement's memory is home, it is left for `memory_cooldown`.
//
// Nothing moves twice within `min_residency`, and the bytes moved per second are
// bounded by the budget (a token bucket of `budget_bytes_per_second`, holding at most
// `budget_burst_bytes`), so nothing thrashes. Every decision carries its reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "affine/id_set.hpp"
#include "affine/placement.hpp"
#include "affine/tiered_placement.hpp"

namespace affine {

// Where a workload whose homes are `homes` has its memory at home under `use`: the
// homes, and the CPU-less nodes attached to them (memory_nodes_of) that are a
// slower memory tier than their home: memory there is the planned overflow (the
// kernel's tiering promotes what is hot). A CPU-less node of the same tier, or of a
// host without tiers, is only a farther node: memory on it moves home. Pure.
NodeSet home_memory_nodes(const Topology& topology, const NodeSet& homes, MemoryTierUse use);

// A workload's memory per node (numa_maps) summed: all of it, or what is on `nodes`.
std::uint64_t total_bytes(const std::map<int, std::uint64_t>& bytes_per_node);
std::uint64_t bytes_on(const std::map<int, std::uint64_t>& bytes_per_node, const NodeSet& nodes);

using RebalanceClock = std::chrono::steady_clock;

struct ManagedWorkload {
    int pid = 0;
    std::uint64_t start_time = 0;  // with pid, the workload's identity
    std::string name;              // for reasons: "qemu-system-x86 (pid 4242)"
    std::string rule;              // the rule that named it
    PlacementPolicy policy = PlacementPolicy::best_effort;
    MemoryTierUse memory_tier = MemoryTierUse::top_first;  // the rule's
    double cpus_used = 0.0;        // measured, averaged; planned for ceil(cpus_used - 0.1), at least 1
    std::map<int, std::uint64_t> memory_bytes_per_node;  // resident now
    NodeSet nodes;                 // where it is placed; empty: not placed yet
    bool widened = false;          // the engine lets it spill now: its memory stays put
};

struct RebalanceOptions {
    std::chrono::milliseconds min_residency{60000};
    double overload_load = 1.0;
    std::chrono::milliseconds overload_after{5000};
    double drift_share = 0.9;
    std::uint64_t chunk_bytes = std::uint64_t{64} << 20;
    std::chrono::milliseconds memory_cooldown{30000};
    std::uint64_t budget_bytes_per_second = std::uint64_t{256} << 20;
    std::uint64_t budget_burst_bytes = std::uint64_t{1} << 30;
};

// What the decisions of earlier steps left: kept by the caller between steps.
struct RebalanceState {
    std::map<std::pair<int, std::uint64_t>, RebalanceClock::time_point> placed_at;    // last place or move
    std::map<std::pair<int, std::uint64_t>, RebalanceClock::time_point> memory_home;  // memory all home at
    std::map<int, RebalanceClock::time_point> overloaded_since;                       // per node
    double budget_bytes = 0.0;
    RebalanceClock::time_point budget_at{};
    bool started = false;
};

enum class RebalanceAction {
    place,        // set soft affinity to `cpus` (nodes `to`); memory follows in steps
    move,         // re-place on `to` (from `from`): new soft affinity; memory follows
    move_memory,  // move up to `bytes` of the workload's pages from `from` to `to`
};

struct RebalanceDecision {
    RebalanceAction action = RebalanceAction::place;
    int pid = 0;
    std::uint64_t start_time = 0;
    NodeSet from;
    NodeSet to;               // the homes (nodes with CPUs); move_memory moves pages onto them
    NodeSet memory_nodes;     // `to` and the nodes attached to it: pages there are home and stay
    CpuSet cpus;              // place/move: the soft affinity (the plan's CPUs)
    std::uint64_t bytes = 0;  // move_memory: at most this much; place/move: memory outside `to`
    std::string reason;
};

// One step of decisions at time `now`; updates `state`. `host` is the measured host
// (free memory, load per node including the workloads' own). Pure.
std::vector<RebalanceDecision> decide_rebalance(const PlacementHost& host, const std::vector<ManagedWorkload>& workloads,
                                                RebalanceState& state, RebalanceClock::time_point now,
                                                const RebalanceOptions& options = {});

std::string_view to_string(RebalanceAction action);

}  // namespace affine
