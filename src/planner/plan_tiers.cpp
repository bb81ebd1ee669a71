// Placement on tiered memory: CPU-less nodes as their nearest initiator's overflow,
// around the unchanged planner (include/affine/tiered_placement.hpp states the rules).
#include "affine/tiered_placement.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <tuple>

#include "affine/set_grammar.hpp"

namespace affine {
namespace {

constexpr std::uint64_t unknown_latency = std::numeric_limits<std::uint64_t>::max();

std::uint64_t latency_from(const Node& target, int initiator) {
    const MemoryAccess* a = target.access_from(initiator);
    return a != nullptr && a->read_latency_ns ? *a->read_latency_ns : unknown_latency;
}

// The nodes whose memory a plan may use: allowed, and in the top tier for top_only.
NodeSet eligible_nodes(const Topology& t, MemoryTierUse use) {
    NodeSet eligible = t.allowed_nodes & t.all_nodes();
    if (use == MemoryTierUse::top_only) eligible &= t.top_tier_nodes();
    return eligible;
}

// Each CPU-less node with its nearest initiator, computed once per plan: O(nodes^2).
std::map<int, int> overflow_initiators(const Topology& t);

std::vector<int> memory_order_of(const Topology& t, int home, const NodeSet& eligible,
                                 const std::map<int, int>& overflow) {
    std::vector<int> order;
    if (eligible.contains(home)) order.push_back(home);
    for (const auto& [node, initiator] : overflow)
        if (initiator == home && eligible.contains(node)) order.push_back(node);
    auto key = [&](int id) {
        const Node& n = *t.node(id);
        return std::tuple{n.memory_tier.value_or(std::numeric_limits<int>::max()), latency_from(n, home),
                          t.distance(home, id), id};
    };
    std::ranges::sort(order, {}, key);
    return order;
}

}  // namespace

Result<MemoryTierUse> parse_memory_tier_use(std::string_view text) {
    if (text == "top") return MemoryTierUse::top_only;
    if (text == "any") return MemoryTierUse::top_first;
    return usage_error(fmt::format("unknown memory tier choice \"{}\" (expected top: only the fastest tier, or any: "
                                   "the fastest first, lower tiers when it is full)",
                                   text));
}

std::string_view to_string(MemoryTierUse use) { return use == MemoryTierUse::top_only ? "top" : "any"; }

namespace {

std::map<int, int> overflow_initiators(const Topology& t) {
    std::map<int, int> overflow;
    for (const Node& n : t.nodes)
        if (!n.has_cpus())
            if (auto initiator = nearest_initiator(t, n.id)) overflow[n.id] = *initiator;
    return overflow;
}

}  // namespace

std::optional<int> nearest_initiator(const Topology& t, int node) {
    const Node* target = t.node(node);
    if (target == nullptr || target->has_cpus()) return std::nullopt;
    std::optional<int> best;
    std::tuple<std::uint64_t, int, int> best_key{};
    for (const Node& n : t.nodes) {
        if (!n.has_cpus()) continue;
        std::tuple key{latency_from(*target, n.id), t.distance(n.id, node), n.id};
        if (!best || key < best_key) {
            best = n.id;
            best_key = key;
        }
    }
    return best;
}

std::vector<int> memory_order(const Topology& t, int home, const NodeSet& eligible) {
    return memory_order_of(t, home, eligible, overflow_initiators(t));
}

NodeSet memory_nodes_of(const Topology& t, const NodeSet& homes, MemoryTierUse use) {
    const NodeSet eligible = eligible_nodes(t, use);
    const std::map<int, int> overflow = overflow_initiators(t);
    NodeSet nodes;
    for (int home : homes)
        if (t.node(home) != nullptr)
            for (int id : memory_order_of(t, home, eligible, overflow)) nodes.insert(id);
    return nodes;
}

std::map<int, std::uint64_t> bytes_per_tier(const Topology& t, const std::map<int, std::uint64_t>& per_node) {
    std::map<int, std::uint64_t> per_tier;
    for (const auto& [id, bytes] : per_node)
        if (const Node* n = t.node(id); n != nullptr && n->memory_tier) per_tier[*n->memory_tier] += bytes;
    return per_tier;
}

Result<Plan> plan_tiered_placement(const PlacementHost& host, const PlacementRequest& request, MemoryTierUse use,
                                   const PlanOptions& options) {
    const Topology& t = host.topology;
    const NodeSet eligible = eligible_nodes(t, use);
    auto free_of = [&](int id) { return eligible.contains(id) ? t.node(id)->memory_free_bytes : 0; };

    // The homes' view: each node with CPUs holds its memory order's free memory; a
    // CPU-less node holds none, so the planner never chooses it.
    PlacementHost homes = host;
    const std::map<int, int> overflow = overflow_initiators(t);
    std::map<int, std::vector<int>> orders;
    for (Node& n : homes.topology.nodes) {
        std::uint64_t free = 0, total = 0;
        if (n.has_cpus()) {
            orders[n.id] = memory_order_of(t, n.id, eligible, overflow);
            for (int id : orders[n.id]) {
                free += free_of(id);
                total += std::max(t.node(id)->memory_total_bytes, free_of(id));
            }
        }
        n.memory_free_bytes = free;
        n.memory_total_bytes = total;
    }
    // The planner counts only allowed nodes' memory: a home is allowed when any node
    // of its memory order is.
    homes.topology.allowed_nodes = NodeSet{};
    for (const auto& [id, order] : orders)
        if (!order.empty()) homes.topology.allowed_nodes.insert(id);

    // Follow-memory on the homes' view: pages resident on a CPU-less node count for
    // the home it is overflow of (where its tiers allow it), so a workload whose
    // memory sits on a socket's slow node stays on that socket.
    PlacementRequest homes_request = request;
    homes_request.resident_bytes_per_node.clear();
    for (const auto& [id, bytes] : request.resident_bytes_per_node) {
        auto initiator = overflow.find(id);
        if (initiator == overflow.end()) homes_request.resident_bytes_per_node[id] += bytes;
        else if (eligible.contains(id)) homes_request.resident_bytes_per_node[initiator->second] += bytes;
    }

    auto planned = plan_placement(homes, homes_request, options);
    if (!planned) return planned;
    Plan plan = std::move(*planned);
    if (plan.outcome == PlanOutcome::refused && use == MemoryTierUse::top_only)
        plan.fallback += fmt::format(" in the fastest memory tier (nodes {})", to_list(t.top_tier_nodes()));

    // Each home's share over its memory order.
    std::map<int, std::uint64_t> spread;
    for (const auto& [home, bytes] : plan.memory_bytes_per_node) {
        std::uint64_t left = bytes;
        for (int id : orders[home]) {
            std::uint64_t take = std::min(left, free_of(id));
            if (take > 0) spread[id] += take;
            left -= take;
        }
        if (left > 0) spread[home] += left;  // cannot happen: the home held exactly this much
    }
    plan.memory_bytes_per_node = std::move(spread);
    plan.memory_bytes_per_tier = bytes_per_tier(t, plan.memory_bytes_per_node);
    return plan;
}

}  // namespace affine
