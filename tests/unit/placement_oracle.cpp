// Each step below quotes the rule of docs/placement.md it encodes.
#include "placement_oracle.hpp"

#include <algorithm>
#include <optional>
#include <vector>

namespace affine::oracle {
namespace {

__extension__ typedef __int128 Big;

// "usable CPUs / usable cores / free memory / load" of one node.
struct NodeView {
    int id = 0;
    long long cpus = 0;
    long long cores = 0;
    std::uint64_t free = 0;
    std::uint64_t total = 0;  // the memory the caller may use there (0: none)
    long long load = 0;
    std::uint64_t resident = 0;
};

std::vector<NodeView> view_of(const PlacementHost& host, const PlacementRequest& request) {
    const Topology& t = host.topology;
    std::vector<NodeView> nodes;
    for (const Node& n : t.nodes) {
        NodeView v;
        v.id = n.id;
        // "free memory of N: its free memory when the caller may allocate there, else 0"
        bool allowed = t.allowed_nodes.contains(n.id);
        v.free = allowed ? n.memory_free_bytes : 0;
        v.total = allowed ? std::max(n.memory_total_bytes, n.memory_free_bytes) : 0;
        v.load = host.vcpus_per_node.contains(n.id) ? host.vcpus_per_node.at(n.id) : 0;
        v.resident = request.resident_bytes_per_node.contains(n.id) ? request.resident_bytes_per_node.at(n.id) : 0;
        nodes.push_back(v);
    }
    std::ranges::sort(nodes, {}, &NodeView::id);
    // "usable CPUs of N: online, allowed to the caller, not reserved"
    auto usable = [&](const Cpu& c) { return c.online && t.allowed_cpus.contains(c.id) && !host.reserved.contains(c.id); };
    std::map<int, std::vector<const Cpu*>> cores;
    for (const Cpu& c : t.cpus) {
        for (NodeView& v : nodes)
            if (v.id == c.node && usable(c)) ++v.cpus;
        if (c.core >= 0) cores[c.core].push_back(&c);
    }
    // "usable cores of N: physical cores whose every CPU is usable"
    for (const auto& [core, cpus] : cores) {
        bool whole = std::ranges::all_of(cpus, [&](const Cpu* c) { return usable(*c) && c->node == cpus[0]->node; });
        if (!whole) continue;
        for (NodeView& v : nodes)
            if (v.id == cpus[0]->node) ++v.cores;
    }
    return nodes;
}

// A fraction num/den; den 0 is infinite.
struct Fraction {
    Big num = 0;
    Big den = 0;
};
int cmp(const Fraction& a, const Fraction& b) {
    if (a.den == 0 || b.den == 0) return (a.den == 0 ? 1 : 0) - (b.den == 0 ? 1 : 0);
    Big l = a.num * b.den;
    Big r = b.num * a.den;
    return l < r ? -1 : l > r ? 1 : 0;
}

// "in proportion to each node's [weight], capped by its free memory; what a full
// node cannot take is re-split the same way over the others ... Rounding is exact:
// floor, then single bytes to the lowest node ids with room." Slots are in node id
// order. Returns what no slot could take.
std::uint64_t fill(std::uint64_t total, const std::vector<std::uint64_t>& weight, std::vector<std::uint64_t> cap,
                   std::vector<std::uint64_t>& give) {
    std::vector<std::size_t> open;
    for (std::size_t i = 0; i < weight.size(); ++i)
        if (weight[i] > 0 && cap[i] > 0) open.push_back(i);
    while (!open.empty()) {
        Big sum = 0;
        for (std::size_t i : open) sum += weight[i];
        std::vector<std::size_t> full;
        std::vector<std::size_t> rest;
        for (std::size_t i : open)
            (static_cast<Big>(total) * weight[i] >= static_cast<Big>(cap[i]) * sum ? full : rest).push_back(i);
        if (full.empty()) {
            std::uint64_t given = 0;
            for (std::size_t i : open) {
                auto share = static_cast<std::uint64_t>(static_cast<Big>(total) * weight[i] / sum);
                give[i] += share;
                given += share;
            }
            std::uint64_t left = total - given;
            for (std::size_t k = 0; k < left; ++k) give[open[k]] += 1;
            return 0;
        }
        for (std::size_t i : full) {
            give[i] += cap[i];
            total -= cap[i];
        }
        open = rest;
        if (total == 0) return 0;
    }
    return total;
}

// The memory split of a plan over the node indices `members` (ascending).
std::vector<std::uint64_t> split(const std::vector<NodeView>& nodes, const std::vector<std::size_t>& members,
                                 std::uint64_t memory) {
    std::vector<std::uint64_t> by_cpus;
    std::vector<std::uint64_t> by_free;
    std::vector<std::uint64_t> cap;
    for (std::size_t i : members) {
        by_cpus.push_back(static_cast<std::uint64_t>(nodes[i].cpus));
        by_free.push_back(nodes[i].cpus == 0 ? nodes[i].free : 0);
        cap.push_back(nodes[i].free);
    }
    std::vector<std::uint64_t> give(members.size(), 0);
    std::uint64_t left = fill(memory, by_cpus, cap, give);
    // "what the nodes with CPUs cannot hold goes to the plan's CPU-less nodes in
    // proportion to their free memory"
    if (left > 0) fill(left, by_free, cap, give);
    return give;
}

// "The vCPUs are counted as load the same way (largest remainder)", ties to the
// lowest node id.
std::vector<long long> largest_remainder(long long count, const std::vector<long long>& weight) {
    std::vector<long long> out(weight.size(), 0);
    long long sum = 0;
    for (long long w : weight) sum += w;
    if (sum == 0) return out;
    long long given = 0;
    for (std::size_t i = 0; i < weight.size(); ++i) {
        out[i] = count * weight[i] / sum;
        given += out[i];
    }
    std::vector<std::size_t> order(weight.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::ranges::stable_sort(order, [&](std::size_t a, std::size_t b) {
        return count * weight[a] % sum > count * weight[b] % sum;
    });
    for (std::size_t k = 0; given < count; ++k, ++given) out[order[k]] += 1;
    return out;
}

// The figures of rules 3 to 8 for one candidate set.
struct Score {
    std::vector<std::size_t> members;
    std::uint64_t resident = 0;
    int worst = 0;
    Fraction node_load;
    Fraction mean_load;
    std::optional<Fraction> least_free;  // nullopt: no node with memory
    std::uint64_t free_left = 0;
    std::vector<int> ids;
};

// < 0 when `a` is preferred, by "Order of preference, applied in turn".
int prefer(const Score& a, const Score& b, bool use_resident) {
    if (a.members.size() != b.members.size()) return a.members.size() < b.members.size() ? -1 : 1;  // 3
    if (use_resident && a.resident != b.resident) return a.resident > b.resident ? -1 : 1;          // 4
    if (a.worst != b.worst) return a.worst < b.worst ? -1 : 1;                                       // 5
    if (int c = cmp(a.node_load, b.node_load); c != 0) return c;                                     // 6
    if (int c = cmp(a.mean_load, b.mean_load); c != 0) return c;
    if (a.least_free && b.least_free) {                                                              // 7
        if (int c = cmp(*a.least_free, *b.least_free); c != 0) return -c;
    }
    if (a.free_left != b.free_left) return a.free_left > b.free_left ? -1 : 1;
    return a.ids < b.ids ? -1 : a.ids > b.ids ? 1 : 0;                                               // 8
}

}  // namespace

Result<OraclePlan> best_plan(const PlacementHost& host, const PlacementRequest& request) {
    const std::vector<NodeView> nodes = view_of(host, request);
    const std::size_t n = nodes.size();
    long long host_cpus = 0;
    std::uint64_t host_free = 0;
    for (const NodeView& v : nodes) {
        host_cpus += v.cpus;
        host_free += v.free;
    }
    if (request.vcpus < 1 || request.memory_bytes == 0 || host_cpus == 0)
        return usage_error("the planner refuses this request");
    for (const auto& [node, bytes] : request.resident_bytes_per_node)
        if (host.topology.node(node) == nullptr) return usage_error("resident memory on a node the host lacks");
    if (n > 20) return usage_error("more than 20 nodes");

    const long long V = request.vcpus;
    const std::uint64_t M = request.memory_bytes;
    const bool cores = request.unit == VcpuUnit::core;
    const bool need_cpus = request.policy != PlacementPolicy::prio_mem_only;  // rule 2 dropped
    const bool use_resident = !request.resident_bytes_per_node.empty();

    std::optional<Score> best;
    if (request.policy != PlacementPolicy::any) {
        for (unsigned long mask = 1; mask < (1UL << n); ++mask) {
            Score s;
            std::uint64_t free = 0;
            long long cpus = 0;
            long long capacity = 0;
            long long load = 0;
            for (std::size_t i = 0; i < n; ++i) {
                if (((mask >> i) & 1UL) == 0) continue;
                s.members.push_back(i);
                s.ids.push_back(nodes[i].id);
                free += nodes[i].free;
                cpus += nodes[i].cpus;
                capacity += cores ? nodes[i].cores : nodes[i].cpus;
                load += nodes[i].load;
                s.resident += nodes[i].resident;
            }
            // "worst distance: the largest distance between two nodes of S (10 for one
            // node). A pair at distance 255 ... or below 10 is never in one plan."
            bool reachable = true;
            for (std::size_t a : s.members)
                for (std::size_t b : s.members) {
                    int d = host.topology.distance(nodes[a].id, nodes[b].id);
                    reachable = reachable && d >= 10 && d != 255;
                    s.worst = std::max(s.worst, d);
                }
            if (!reachable || free < M) continue;          // 1. memory fits
            if (need_cpus && capacity < V) continue;       // 2. vCPUs fit
            // "node load of N after placement: (load of N + V x usable CPUs of N / usable
            // CPUs of S) / usable CPUs of N", the worst among nodes with usable CPUs;
            // then "(vCPUs already on S + V) / usable CPUs of S".
            for (std::size_t i : s.members) {
                if (nodes[i].cpus == 0) continue;
                Fraction f{static_cast<Big>(nodes[i].load) * cpus + static_cast<Big>(V) * nodes[i].cpus,
                           static_cast<Big>(nodes[i].cpus) * cpus};
                if (s.node_load.den == 0 || cmp(f, s.node_load) > 0) s.node_load = f;
            }
            s.mean_load = Fraction{load + V, cpus};
            // "the smallest (free memory - what the plan's memory split takes) / total
            // memory among the nodes of S with memory"; then "free memory of S - M".
            std::vector<std::uint64_t> take = split(nodes, s.members, M);
            for (std::size_t k = 0; k < s.members.size(); ++k) {
                const NodeView& v = nodes[s.members[k]];
                if (v.total == 0) continue;
                Fraction f{static_cast<Big>(v.free - take[k]), static_cast<Big>(v.total)};
                if (!s.least_free || cmp(f, *s.least_free) < 0) s.least_free = f;
            }
            s.free_left = free - M;
            if (!best || prefer(s, *best, use_resident) < 0) best = std::move(s);
        }
    }

    OraclePlan plan;
    std::vector<std::uint64_t> memory(n, 0);
    std::vector<std::size_t> members;
    if (best) {
        plan.outcome = PlanOutcome::placed;
        members = best->members;
        std::vector<std::uint64_t> take = split(nodes, members, M);
        for (std::size_t k = 0; k < members.size(); ++k) memory[members[k]] = take[k];
    } else if (host_free >= M) {
        // `any`, and "when nothing fits": "stripes the memory over every node in
        // proportion to its free memory"; the plan's nodes are those given memory or
        // with usable CPUs.
        plan.outcome = request.policy == PlacementPolicy::any ? PlanOutcome::placed : PlanOutcome::fallback;
        std::vector<std::uint64_t> weight;
        for (const NodeView& v : nodes) weight.push_back(v.free);
        fill(M, weight, weight, memory);
        for (std::size_t i = 0; i < n; ++i)
            if (memory[i] > 0 || nodes[i].cpus > 0) members.push_back(i);
    } else {
        return plan;  // refused: "the plan holds nothing to apply"
    }
    for (std::size_t i : members) {
        plan.nodes.insert(nodes[i].id);
        if (memory[i] > 0) plan.memory_bytes_per_node[nodes[i].id] = memory[i];
    }
    // vCPUs count on the plan's nodes when it confines them (best-effort, -hard),
    // else over the whole host, by usable CPUs.
    bool confined = best && (request.policy == PlacementPolicy::best_effort ||
                             request.policy == PlacementPolicy::best_effort_hard);
    std::vector<long long> weight(n, 0);
    for (std::size_t i = 0; i < n; ++i)
        if (!confined || std::ranges::find(members, i) != members.end()) weight[i] = nodes[i].cpus;
    std::vector<long long> vcpus = largest_remainder(V, weight);
    for (std::size_t i = 0; i < n; ++i)
        if (vcpus[i] > 0) plan.vcpus_per_node[nodes[i].id] = static_cast<int>(vcpus[i]);
    return plan;
}

}  // namespace affine::oracle
