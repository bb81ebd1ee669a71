// The planner's internals (include/affine/placement.hpp states the rules): what it
// knows of each node and of the request, and the candidate node sets it scores.
// Shared by the memory split, scoring, the searches and the explanations.
#pragma once

#include <cstdint>
#include <vector>

#include "affine/placement.hpp"

namespace affine::planner {

__extension__ typedef unsigned __int128 Wide;

// 255 is the SLIT's "no connection" marker; below 10 is not a distance at all.
inline bool reachable_distance(int d) { return d >= 10 && d != 255; }

// The topology's distances as a dense row-major matrix, nodes in id order.
std::vector<int> distance_matrix_of(const Topology& t);

// What the planner knows of one node, from the definitions in the header.
struct NodeFacts {
    int id = 0;
    long long cpus = 0;   // usable CPUs
    long long cores = 0;  // usable whole cores
    std::uint64_t free = 0;
    std::uint64_t total = 0;  // memory_total_bytes
    long long vcpus = 0;  // load already there
    std::uint64_t resident = 0;
    int self_distance = 10;
};

// The host reduced to the planner's facts. Node index i is the i-th node by id.
class HostFacts {
public:
    HostFacts(const PlacementHost& host, const PlacementRequest& request);

    [[nodiscard]] int size() const { return static_cast<int>(nodes_.size()); }
    [[nodiscard]] const NodeFacts& node(int index) const { return nodes_[static_cast<std::size_t>(index)]; }
    [[nodiscard]] const std::vector<NodeFacts>& nodes() const { return nodes_; }
    [[nodiscard]] const CpuSet& usable_cpus() const { return usable_; }
    [[nodiscard]] const Topology& topology() const { return topology_; }

    // Distance by node index, from a dense matrix built on first use: the planner
    // scores many pairs and std::map lookups would dominate on large hosts.
    [[nodiscard]] int distance(int a, int b) const {
        if (a == b) return nodes_[static_cast<std::size_t>(a)].self_distance;
        if (cached_ == nullptr) {
            matrix_ = distance_matrix_of(topology_);
            cached_ = &matrix_;
        }
        return (*cached_)[static_cast<std::size_t>(a) * nodes_.size() + static_cast<std::size_t>(b)];
    }

private:
    const Topology& topology_;
    mutable const std::vector<int>* cached_ = nullptr;
    std::vector<NodeFacts> nodes_;
    CpuSet usable_;
    mutable std::vector<int> matrix_;
};

// A candidate node set with its sums; members are node indices, ascending.
struct Candidate {
    std::vector<int> members;
    std::uint64_t free = 0;
    long long cpus = 0;
    long long cores = 0;
    long long vcpus_there = 0;
    std::uint64_t resident = 0;
    int worst = 0;
    bool reachable = true;
    // The member with the most vCPUs per usable CPU now (peak_cpus 0: no member has CPUs).
    long long peak_vcpus = 0;
    long long peak_cpus = 0;
    // The member left with the smallest free-memory fraction by the plan's memory split
    // (least_total 0: not computed, the memory does not fit).
    std::uint64_t least_left = 0;
    std::uint64_t least_total = 0;
};

// The request as the rules see it.
struct Need {
    std::uint64_t memory = 0;
    long long vcpus = 0;
    bool whole_cores = false;
    bool cpus_required = true;  // rule 2 (dropped for prio-mem-only)
    bool use_resident = false;  // rule 4

    explicit Need(const PlacementRequest& r)
        : memory(r.memory_bytes), vcpus(r.vcpus), whole_cores(r.unit == VcpuUnit::core),
          cpus_required(r.policy != PlacementPolicy::prio_mem_only), use_resident(!r.resident_bytes_per_node.empty()) {}

    [[nodiscard]] long long capacity(const NodeFacts& n) const { return whole_cores ? n.cores : n.cpus; }
    [[nodiscard]] long long capacity(const Candidate& c) const { return whole_cores ? c.cores : c.cpus; }
    [[nodiscard]] bool fits(const Candidate& c) const {
        return c.reachable && c.free >= memory && (!cpus_required || capacity(c) >= vcpus);
    }
};

// The node indices that can help a plan: those with usable CPUs or free memory.
std::vector<int> useful_nodes(const HostFacts& facts);

}  // namespace affine::planner
