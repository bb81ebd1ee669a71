#include "plan_text.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "affine/xen_preferred_first.hpp"

namespace affine::cli {
namespace {

std::string per_node_text(const auto& values, auto format_value) {
    std::string text;
    for (const auto& [node, value] : values)
        text += fmt::format("{}node {}: {}", text.empty() ? "" : ", ", node, format_value(value));
    return text.empty() ? "-" : text;
}

std::string score_text(const PlanScore& s) {
    std::string load = s.node_load_den == 0
                           ? "infinite"
                           : fmt::format("{:.2f} vCPUs/CPU on the busiest node ({:.2f} mean)", s.projected_load(),
                                         s.mean_load());
    std::string text = fmt::format("{} node{}, worst distance {}, projected load {}, {} left free on them "
                                   "(least free node {:.1f}%)",
                                   s.node_count, s.node_count == 1 ? "" : "s", s.worst_distance, load,
                                   format_size(s.free_memory_left_bytes), 100 * s.least_free_fraction());
    if (s.resident_bytes > 0) text += fmt::format(", {} of its memory already there", format_size(s.resident_bytes));
    return text;
}

// "node 2 first (892M), then node 1 (308M, distance 16); mean distance 11.4":
// empty when the plan is not a multi-node one with CPU affinity or does not fit
// preferred node first.
std::string preferred_first_text(const Plan& plan, const PlacementRequest& request, const PlacementHost& host) {
    if (!plan.fits() || plan.nodes.count() < 2 || plan.affinity == AffinityKind::none) return {};
    const std::optional<int> preferred = xen::preferred_node(host, plan);
    if (!preferred) return {};
    auto split = xen::split_preferred_first(host, *preferred, request.memory_bytes);
    if (!split) return {};
    std::string text;
    for (const xen::NodeShare& s : split->shares)
        text += s.node == split->preferred
                    ? fmt::format("node {} first ({})", s.node, format_size(s.bytes))
                    : fmt::format(", then node {} ({}, distance {})", s.node, format_size(s.bytes), s.distance);
    return fmt::format("{}; mean distance {:.2f} (as split above: {:.2f})", text, split->mean_distance,
                       xen::mean_distance(host.topology, split->preferred, plan.memory_bytes_per_node));
}

}  // namespace

void print_plan(const Plan& plan, const PlacementRequest& request, const PlacementHost* host) {
    fmt::print("plan{}: {} vCPU{}{}, {}, policy {}\n", plan.name.empty() ? "" : " for " + plan.name, request.vcpus,
               request.vcpus == 1 ? "" : "s", request.unit == VcpuUnit::core ? " (whole cores)" : "",
               format_size(request.memory_bytes), to_string(plan.policy));
    if (plan.outcome == PlanOutcome::refused) {
        fmt::print("  NOT PLACED  {}\n", plan.fallback);
        return;
    }
    if (plan.outcome == PlanOutcome::fallback) fmt::print("  FALLBACK    {}\n", plan.fallback);
    fmt::print("  nodes       {}\n", to_list(plan.nodes));
    fmt::print("  cpus        {}\n", to_list(plan.cpus));
    switch (plan.affinity) {
        case AffinityKind::soft: fmt::print("  affinity    soft, every vCPU prefers CPUs {}\n", to_list(plan.soft_cpus)); break;
        case AffinityKind::hard: fmt::print("  affinity    hard, every vCPU pinned to CPUs {}\n", to_list(plan.hard_cpus)); break;
        case AffinityKind::none: fmt::print("  affinity    none\n"); break;
    }
    if (!plan.hard_cpus.empty() && plan.affinity != AffinityKind::hard)
        fmt::print("  hard        CPUs {} (keeps off the reserved CPUs)\n", to_list(plan.hard_cpus));
    fmt::print("  memory      {}\n",
               per_node_text(plan.memory_bytes_per_node, [](std::uint64_t b) { return format_size(b); }));
    if (std::string order = host != nullptr ? preferred_first_text(plan, request, *host) : ""; !order.empty())
        fmt::print("  fill order  {}\n", order);
    if (!plan.memory_bytes_per_tier.empty()) {
        fmt::print("  tiers       {}\n", memory_tiers_text(plan.memory_bytes_per_tier));
    }
    fmt::print("  vcpus       {}\n", per_node_text(plan.vcpus_per_node, [](int v) { return std::to_string(v); }));
    if (plan.outcome == PlanOutcome::placed && plan.policy != PlacementPolicy::any) {
        fmt::print("  score       {}\n", score_text(plan.score));
        fmt::print("  search      {}\n", to_string(plan.search));
        if (!plan.why_not_fewer_nodes.empty()) fmt::print("  why {} nodes  {}\n", plan.score.node_count, plan.why_not_fewer_nodes);
        if (!plan.runners_up.empty()) fmt::print("  runners-up:\n");
        for (const RunnerUp& r : plan.runners_up) {
            std::string rule(to_string(r.lost_on));
            std::ranges::replace(rule, '_', ' ');
            fmt::print("    nodes {:<10} lost on {}: {}\n", to_list(r.nodes), rule, r.reason);
        }
    }
}

std::string memory_tiers_text(const std::map<int, std::uint64_t>& bytes_per_tier) {
    std::string text;
    for (const auto& [tier, bytes] : bytes_per_tier)
        text += fmt::format("{}memory_tier{}: {}", text.empty() ? "" : ", ", tier, format_size(bytes));
    return text;
}

}  // namespace affine::cli
