// NUMA placement: choosing the nodes, CPUs and memory of a new VM or process.
//
// The planner is pure: it reads a PlacementHost value and a PlacementRequest and
// returns a Plan; it does no I/O. Discovering the host and applying the plan are
// separate steps done by the front ends (`affine place`, `run --place`, `xen place`).
//
// Definitions used throughout (N is a node of the host):
//
//   usable CPUs of N    the CPUs of N that are online, in topology.allowed_cpus and
//                       not in PlacementHost::reserved. Reserved CPUs are never part
//                       of a plan's CPUs, whatever the policy.
//   usable cores of N   physical cores of N whose every CPU is usable (a core with a
//                       reserved or offline thread is not a whole core).
//   free memory of N    topology.nodes[N].memory_free_bytes when N is in
//                       topology.allowed_nodes, else 0.
//   load of N           PlacementHost::vcpus_per_node[N]: vCPUs already placed there.
//
// For a candidate set S of nodes and a request of V vCPUs and M bytes:
//
//   memory fits         sum of the free memory of S >= M
//   vCPUs fit           sum of usable CPUs of S >= V (usable cores when the request
//                       asks for whole cores). This is capacity, not idleness: a VM
//                       never gets more vCPUs than the CPUs it is confined to; the
//                       load already there is rule 5.
//   worst distance      the largest distance between two nodes of S, a node with
//                       itself included (10 for one node). A pair whose distance is
//                       below 10 or exactly 255 (the ACPI SLIT "no connection"
//                       marker) is unreachable: never in one plan.
//   node load of N      after placement: (load of N + V x usable CPUs of N / usable
//                       CPUs of S) / usable CPUs of N, the V vCPUs being spread over
//                       the plan's usable CPUs (a node without usable CPUs has none).
//   projected load      first the worst node load: the largest node load among the
//                       nodes of S with usable CPUs (placing on S raises only those,
//                       so a smaller value is also a smaller host-wide peak after
//                       placement); on a tie, the mean load (vCPUs already on S + V) /
//                       (usable CPUs of S). A set with no usable CPU has an infinite
//                       load. Compared exactly (rationals, no floating point).
//   free memory left    first the least free fraction: the smallest (free memory -
//                       memory given by the plan's split) / total memory among the
//                       nodes of S with memory (total: memory_total_bytes, never below
//                       the free memory), larger is better (max-min fairness, so no
//                       node is drained while another stays free); on a tie, the sum of
//                       the free memory of S - M.
//   resident memory     sum over S of request.resident_bytes_per_node (only when the
//                       request gives it; see --follow-memory).
//
// Order of preference, applied in turn until one decides (lexicographic):
//   1. memory fits;                       (a filter: a set that fails never wins)
//   2. vCPUs (or whole cores) fit;        (a filter; dropped for prio-mem-only)
//   3. fewer nodes;
//   4. more resident memory               (only when resident_bytes_per_node is set);
//   5. smaller worst distance;
//   6. lower projected load (worst node load, then mean load);
//   7. more free memory left (least free fraction, then bytes);
//   8. lowest node ids (the sorted id lists compared lexicographically).
// Multi-node plans are real plans: they are applied, not thrown away.
//
// Memory split of a plan over its nodes: in proportion to each node's usable CPUs,
// capped by its free memory; what a full node cannot take is re-split the same way
// over the others, and what nodes with CPUs cannot take at all goes to the plan's
// CPU-less nodes in proportion to their free memory. Why: the vCPUs are spread over
// the plan's CPUs, and memory split like the vCPUs is local to the vCPU that touches
// it (vNUMA guests, first-touch processes); a split by free memory would put most of
// the memory where there are few CPUs. Rounding: floor, then one byte at a time to
// the lowest node ids that have room, so the split is exact and deterministic.
// The vCPUs are counted as load the same way (largest remainder, ties to the lowest
// id) on the plan's nodes; for a plan without CPU affinity, over the whole host.
//
// Policies and what a plan carries:
//   any                no placement: affinity none; nodes = every node with free
//                      memory or usable CPUs; memory striped (the fallback split).
//   best-effort        soft affinity to the chosen nodes' usable CPUs.
//   best-effort-hard   hard affinity to the chosen nodes' usable CPUs.
//   prio-mem-only      memory only: rule 2 is dropped; no CPU affinity; the memory
//                      goes to the chosen nodes (node affinity / memory policy).
// When the host has reserved CPUs, every plan (any policy) carries hard_cpus: the
// CPUs a front end must confine the work to so that reserved CPUs are never used
// (all usable CPUs for soft and none, the plan's CPUs for hard).
//
// When no node set fits (outcome fallback): affinity none, memory striped over
// every node with free memory in proportion to its free memory (what Xen does for
// a domain without node affinity, and what xenopsd falls back to), and `fallback`
// says why. When the whole host has not the free memory (outcome refused), the
// plan holds no memory and cannot be applied.
//
// Search and what is guaranteed:
//   - hosts with at most PlanOptions::exact_node_limit nodes (default 16) that have
//     usable CPUs or free memory (other nodes can never help a plan): an exact
//     branch-and-bound search; the plan is the best under the order above;
//   - larger hosts: exact whenever the best plan has one or two nodes (all nodes and
//     all pairs are scored, O(n^2)); for three or more nodes, candidates are grown
//     from every node by distance (the node that keeps the worst distance smallest,
//     ties by more free memory, then more usable CPUs, then lower id) and, in a second
//     pass, by capacity first; the best few are improved by single-node swaps. Cost
//     O(n^2 k) for k nodes; the result fits and obeys the rules, but may not be the
//     optimum for k >= 3 on irregular hosts (Plan::search says which path ran).
//   - the tests check both searches against an exhaustive oracle written from the
//     rules alone (tests/unit/placement_oracle.*).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/topology.hpp"

namespace affine {

enum class PlacementPolicy { any, best_effort, best_effort_hard, prio_mem_only };

// The affinity a plan asks the front end to set on every vCPU (or thread).
enum class AffinityKind { none, soft, hard };

// What each vCPU needs: a CPU (a hardware thread) or a whole physical core.
enum class VcpuUnit { cpu, core };

struct PlacementRequest {
    std::string name;  // for messages and batch output; may be empty
    int vcpus = 1;
    std::uint64_t memory_bytes = 0;
    VcpuUnit unit = VcpuUnit::cpu;
    PlacementPolicy policy = PlacementPolicy::best_effort;
    // Follow-memory: bytes of this domain/process already on each node (memory that
    // does not move). When not empty, rule 4 prefers the plans that hold more of it.
    // A front end planning for an existing workload should also add that memory and
    // those vCPUs back to the host state first (release_from_host_state).
    std::map<int, std::uint64_t> resident_bytes_per_node;
};

// The host as the planner sees it: the topology (its nodes' memory_free_bytes is the
// free memory), the CPUs reserved host-wide, and the vCPUs already placed per node.
struct PlacementHost {
    Topology topology;
    CpuSet reserved;
    std::map<int, int> vcpus_per_node;
    // Optional cache: the topology's distances as a dense row-major matrix, nodes in
    // id order (make_placement_host fills it). When its size is not nodes^2 the
    // planner reads the topology's distance maps on each plan instead, which costs
    // about a millisecond on 256 nodes. Keep it in step if the distances change.
    std::vector<int> distance_matrix;
};

// A PlacementHost with no load yet and its distance matrix filled.
PlacementHost make_placement_host(Topology topology, CpuSet reserved = {});

// Why a runner-up lost to the chosen plan: the first rule of the order it loses on.
enum class LostOn {
    node_count,
    resident_memory,
    worst_distance,
    projected_load,
    free_memory_left,
    node_ids,
};

// The figures a candidate is ranked by (rules 3 to 8).
struct PlanScore {
    int node_count = 0;
    std::uint64_t resident_bytes = 0;
    int worst_distance = 0;
    // Rule 6. Worst node load = node_load_num / node_load_den (den 0: infinite); mean
    // load = load_vcpus / load_cpus (load_cpus 0: infinite).
    long long node_load_num = 0;
    long long node_load_den = 0;
    long long load_vcpus = 0;
    long long load_cpus = 0;
    // Rule 7. Least free fraction left = least_free_left_bytes / least_free_total_bytes
    // (the bytes a node keeps free and its total); then the free memory left in bytes.
    std::uint64_t least_free_left_bytes = 0;
    std::uint64_t least_free_total_bytes = 0;
    std::uint64_t free_memory_left_bytes = 0;

    // The projected load of rule 6: the worst node load (infinity without CPUs).
    [[nodiscard]] double projected_load() const;
    [[nodiscard]] double mean_load() const;
    [[nodiscard]] double least_free_fraction() const;
};

struct RunnerUp {
    NodeSet nodes;
    PlanScore score;
    LostOn lost_on = LostOn::node_ids;
    std::string reason;  // "worst distance 21 > 16 (chosen)"
};

enum class PlanOutcome {
    placed,    // a node set fits: nodes, CPUs, memory and affinity as planned
    fallback,  // no node set fits: no affinity, memory striped; see `fallback`
    refused,   // the host has not the free memory: nothing to apply
};

// How the plan was found (see "Search and what is guaranteed" above).
enum class PlanSearch { exact, greedy, exhaustive, none };

struct Plan {
    std::string name;
    PlacementPolicy policy = PlacementPolicy::best_effort;
    PlanOutcome outcome = PlanOutcome::refused;
    PlanSearch search = PlanSearch::none;
    NodeSet nodes;  // the chosen nodes; for fallback/any, the nodes given memory or CPUs
    // The usable CPUs of `nodes` for a soft or hard plan; every usable CPU of the host
    // for a plan without CPU affinity (any, prio-mem-only, fallback).
    CpuSet cpus;
    std::map<int, std::uint64_t> memory_bytes_per_node;  // sums to the request (unless refused)
    // The same by memory tier (kernel tier id), for a host that shows tiers
    // (plan_tiered_placement fills it); empty otherwise.
    std::map<int, std::uint64_t> memory_bytes_per_tier;
    std::map<int, int> vcpus_per_node;                   // where the vCPUs count as load
    AffinityKind affinity = AffinityKind::none;
    CpuSet soft_cpus;  // soft affinity to set on every vCPU; empty: none
    CpuSet hard_cpus;  // hard affinity to set on every vCPU; empty: leave it (all CPUs)
    PlanScore score;
    std::vector<RunnerUp> runners_up;  // the next best candidates, best first
    std::string why_not_fewer_nodes;   // for a multi-node plan: why fewer nodes do not fit
    std::string fallback;              // for fallback/refused: what did not fit and what happens

    [[nodiscard]] bool fits() const { return outcome == PlanOutcome::placed; }
};

struct PlanOptions {
    int exact_node_limit = 16;  // hosts with more nodes use the polynomial search
    int runners_up = 4;         // how many runners-up a plan lists
};

// Plans `request` on `host` under the rules above. Pure: no I/O.
// Usage error when the request is malformed (vcpus < 1, memory 0, a resident node
// that does not exist) or when the host has no usable CPU (every CPU reserved,
// offline or not allowed).
Result<Plan> plan_placement(const PlacementHost& host, const PlacementRequest& request,
                            const PlanOptions& options = {});

// Records a plan in the host state, for sequential placement: subtracts its memory
// from each node's free memory and adds its vCPUs to vcpus_per_node. A refused plan
// changes nothing.
void apply_to_host_state(PlacementHost& host, const Plan& plan);

// The inverse, for planning an existing workload: gives its memory back to each
// node's free memory (capped at the node's total) and removes its vCPUs (not below 0).
void release_from_host_state(PlacementHost& host, const std::map<int, std::uint64_t>& memory_bytes_per_node,
                             const std::map<int, int>& vcpus_per_node);

// Policy names as on the command line: any, best-effort, best-effort-hard,
// prio-mem-only (underscores accepted). Usage error listing them otherwise.
Result<PlacementPolicy> parse_placement_policy(std::string_view text);
std::string_view to_string(PlacementPolicy policy);
std::string_view to_string(AffinityKind kind);
std::string_view to_string(PlanOutcome outcome);
std::string_view to_string(PlanSearch search);
std::string_view to_string(LostOn rule);

// Parses one batch line: {"name": "vm1", "vcpus": 2, "memory": "2G", "cores": false,
// "policy": "best-effort", "resident": {"0": "1G"}}; vcpus and memory required, memory
// (and resident values) a size string or a number of bytes. Usage error naming the
// field otherwise (unknown fields included). A line without "policy" gets
// `default_policy`.
Result<PlacementRequest> placement_request_from_json(std::string_view line,
                                                     PlacementPolicy default_policy = PlacementPolicy::best_effort);

// The JSON of a plan (contract: nodes, cpus, affinity, memory_bytes_per_node, fits,
// and outcome, policy, soft_cpus, hard_cpus, vcpus_per_node, score, runners_up,
// why_not_fewer_nodes, fallback, search) and of a host state (per node: usable CPUs,
// free memory, vCPUs, projected load; reserved CPUs). Compact, one line.
std::string plan_to_json(const Plan& plan);
std::string placement_host_to_json(const PlacementHost& host);

}  // namespace affine
