// The planner's entry points: validation, the choice between the searches, and the
// plan built from the chosen node set (or the fallback). The jobs it calls live in
// plan_facts, plan_split, plan_score, plan_search and plan_explain.
#include "affine/placement.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "plan_explain.hpp"
#include "plan_search.hpp"
#include "plan_split.hpp"

namespace affine {
namespace {

using namespace planner;

Result<void> validate(const PlacementHost& host, const PlacementRequest& request, const HostFacts& facts) {
    std::string who = request.name.empty() ? "placement request" : fmt::format("placement request \"{}\"", request.name);
    if (request.vcpus < 1) return usage_error(fmt::format("{}: vcpus must be at least 1, not {}", who, request.vcpus));
    if (request.memory_bytes == 0) return usage_error(fmt::format("{}: memory must be more than 0 bytes", who));
    for (const auto& [node, bytes] : request.resident_bytes_per_node)
        if (host.topology.node(node) == nullptr)
            return usage_error(fmt::format("{}: resident memory on node {}, which the host does not have (nodes: {})",
                                           who, node, to_list(host.topology.all_nodes())));
    if (facts.usable_cpus().empty())
        return usage_error(fmt::format("{}: no usable CPU on the host: online {}, reserved {}", who,
                                       to_list(host.topology.online_cpus() & host.topology.allowed_cpus),
                                       to_list(host.reserved)));
    return {};
}

// Builds the plan for a chosen candidate, or the fallback/refusal when there is none.
Plan finish(const HostFacts& facts, const PlacementRequest& request, const Need& need, const Candidate* chosen) {
    Plan plan;
    plan.name = request.name;
    plan.policy = request.policy;
    const std::size_t n = facts.nodes().size();
    const bool any = request.policy == PlacementPolicy::any;

    std::uint64_t host_free = 0;
    for (const NodeFacts& f : facts.nodes()) host_free += f.free;
    std::vector<std::uint64_t> given(n, 0);
    std::vector<int> members;
    if (chosen != nullptr && !any) {
        plan.outcome = PlanOutcome::placed;
        members = chosen->members;
        std::vector<std::uint64_t> take;
        split_memory(facts, members, need.memory, take);
        for (std::size_t k = 0; k < members.size(); ++k) given[static_cast<std::size_t>(members[k])] = take[k];
    } else if (host_free >= need.memory) {
        // Striped in proportion to free memory: the Xen allocator without node affinity.
        plan.outcome = any ? PlanOutcome::placed : PlanOutcome::fallback;
        std::vector<std::uint64_t> weight(n);
        for (std::size_t i = 0; i < n; ++i) weight[i] = facts.node(static_cast<int>(i)).free;
        std::vector<std::uint64_t> room = weight;
        split_proportionally(need.memory, weight, room, given);
        for (std::size_t i = 0; i < n; ++i)
            if (given[i] > 0 || facts.node(static_cast<int>(i)).cpus > 0) members.push_back(static_cast<int>(i));
    } else {
        plan.outcome = PlanOutcome::refused;
    }
    if (plan.outcome == PlanOutcome::refused) {
        plan.fallback = fmt::format("cannot place: {} of memory requested, the host has {} free", format_size(need.memory),
                                    format_size(host_free));
        return plan;
    }

    for (int i : members) {
        plan.nodes.insert(facts.node(i).id);
        if (given[static_cast<std::size_t>(i)] > 0)
            plan.memory_bytes_per_node[facts.node(i).id] = given[static_cast<std::size_t>(i)];
    }
    bool confined = plan.outcome == PlanOutcome::placed &&
                    (request.policy == PlacementPolicy::best_effort || request.policy == PlacementPolicy::best_effort_hard);
    CpuSet plan_cpus = facts.usable_cpus() & facts.topology().cpus_of(plan.nodes);
    plan.cpus = confined ? plan_cpus : facts.usable_cpus();
    bool host_has_reserved = facts.usable_cpus() != (facts.topology().online_cpus() & facts.topology().allowed_cpus);
    if (confined && request.policy == PlacementPolicy::best_effort_hard) {
        plan.affinity = AffinityKind::hard;
        plan.hard_cpus = plan.cpus;
    } else if (confined) {
        plan.affinity = AffinityKind::soft;
        plan.soft_cpus = plan.cpus;
    }
    if (host_has_reserved && plan.hard_cpus.empty()) plan.hard_cpus = facts.usable_cpus();

    // Where the vCPUs count as load: the plan's nodes when confined, else the host.
    std::vector<long long> weight(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        bool counts = confined ? std::ranges::find(members, static_cast<int>(i)) != members.end() : true;
        if (counts) weight[i] = facts.node(static_cast<int>(i)).cpus;
    }
    std::vector<long long> vcpus = split_count(need.vcpus, weight);
    for (std::size_t i = 0; i < n; ++i)
        if (vcpus[i] > 0) plan.vcpus_per_node[facts.node(static_cast<int>(i)).id] = static_cast<int>(vcpus[i]);

    Candidate actual = make_candidate(facts, need, members);
    plan.score = score_of(actual, need);
    if (plan.outcome == PlanOutcome::fallback) {
        auto unit = [&](long long count) {
            return std::string(need.whole_cores ? "whole core" : "usable CPU") + (count == 1 ? "" : "s");
        };
        long long host_capacity = 0;
        for (const NodeFacts& f : facts.nodes()) host_capacity += need.capacity(f);
        std::string why = need.cpus_required && host_capacity < need.vcpus
                              ? fmt::format("{} vCPU{} but the host has {} {}", need.vcpus, need.vcpus == 1 ? "" : "s",
                                            host_capacity, unit(host_capacity))
                              : fmt::format("no node set within reachable distances holds {} and {} {}",
                                            format_size(need.memory), need.vcpus, unit(need.vcpus));
        plan.fallback = fmt::format("no node set fits ({}): no CPU affinity{}, memory striped over nodes {}", why,
                                    plan.hard_cpus.empty() ? "" : " beyond keeping off the reserved CPUs",
                                    to_list(plan.nodes));
    }
    return plan;
}

Plan assemble(const HostFacts& facts, const PlacementRequest& request, const Need& need, const Podium& podium,
              PlanSearch search) {
    if (podium.empty()) {
        Plan plan = finish(facts, request, need, nullptr);
        plan.search = search;
        return plan;
    }
    const Candidate& winner = podium.ranked().front();
    Plan plan = finish(facts, request, need, &winner);
    plan.search = search;
    for (std::size_t i = 1; i < podium.ranked().size(); ++i)
        plan.runners_up.push_back(runner_up(facts, podium.ranked()[i], winner, need));
    if (winner.members.size() > 1)
        plan.why_not_fewer_nodes = no_fewer_text(facts, need, static_cast<int>(winner.members.size()) - 1);
    return plan;
}

}  // namespace

PlacementHost make_placement_host(Topology topology, CpuSet reserved) {
    PlacementHost host;
    host.distance_matrix = distance_matrix_of(topology);
    host.topology = std::move(topology);
    host.reserved = std::move(reserved);
    return host;
}

Result<Plan> plan_placement(const PlacementHost& host, const PlacementRequest& request, const PlanOptions& options) {
    HostFacts facts(host, request);
    if (auto ok = validate(host, request, facts); !ok) return std::unexpected(ok.error());
    Need need(request);
    if (request.policy == PlacementPolicy::any) return finish(facts, request, need, nullptr);
    // When even the whole host falls short, there is nothing to search.
    std::uint64_t host_free = 0;
    long long host_capacity = 0;
    for (const NodeFacts& f : facts.nodes()) {
        host_free += f.free;
        host_capacity += need.capacity(f);
    }
    if (host_free < need.memory || (need.cpus_required && host_capacity < need.vcpus)) {
        Plan plan = finish(facts, request, need, nullptr);
        plan.search = PlanSearch::none;
        return plan;
    }
    std::vector<int> useful = useful_nodes(facts);
    Podium podium(need, static_cast<std::size_t>(std::max(options.runners_up, 0)) + 1);
    PlanSearch search = PlanSearch::exact;
    if (static_cast<int>(useful.size()) <= options.exact_node_limit)
        search_exact(facts, need, useful, podium);
    else
        search = search_large(facts, need, useful, podium);
    return assemble(facts, request, need, podium, search);
}

void apply_to_host_state(PlacementHost& host, const Plan& plan) {
    if (plan.outcome == PlanOutcome::refused) return;
    for (Node& node : host.topology.nodes) {
        if (auto it = plan.memory_bytes_per_node.find(node.id); it != plan.memory_bytes_per_node.end())
            node.memory_free_bytes -= std::min(node.memory_free_bytes, it->second);
    }
    for (const auto& [node, vcpus] : plan.vcpus_per_node) host.vcpus_per_node[node] += vcpus;
}

void release_from_host_state(PlacementHost& host, const std::map<int, std::uint64_t>& memory_bytes_per_node,
                             const std::map<int, int>& vcpus_per_node) {
    for (Node& node : host.topology.nodes) {
        if (auto it = memory_bytes_per_node.find(node.id); it != memory_bytes_per_node.end())
            node.memory_free_bytes = std::min(node.memory_total_bytes, node.memory_free_bytes + it->second);
    }
    for (const auto& [node, vcpus] : vcpus_per_node) {
        auto it = host.vcpus_per_node.find(node);
        if (it == host.vcpus_per_node.end()) continue;
        it->second = std::max(0, it->second - vcpus);
        if (it->second == 0) host.vcpus_per_node.erase(it);
    }
}

Result<PlacementPolicy> parse_placement_policy(std::string_view text) {
    std::string name(text);
    std::ranges::replace(name, '_', '-');
    for (auto p : {PlacementPolicy::any, PlacementPolicy::best_effort, PlacementPolicy::best_effort_hard,
                   PlacementPolicy::prio_mem_only})
        if (name == to_string(p)) return p;
    return usage_error(fmt::format("unknown placement policy \"{}\" (expected any, best-effort, best-effort-hard "
                                   "or prio-mem-only)",
                                   text));
}

std::string_view to_string(PlacementPolicy policy) {
    switch (policy) {
        case PlacementPolicy::any: return "any";
        case PlacementPolicy::best_effort: return "best-effort";
        case PlacementPolicy::best_effort_hard: return "best-effort-hard";
        case PlacementPolicy::prio_mem_only: return "prio-mem-only";
    }
    return "?";
}

std::string_view to_string(AffinityKind kind) {
    switch (kind) {
        case AffinityKind::none: return "none";
        case AffinityKind::soft: return "soft";
        case AffinityKind::hard: return "hard";
    }
    return "?";
}

std::string_view to_string(PlanOutcome outcome) {
    switch (outcome) {
        case PlanOutcome::placed: return "placed";
        case PlanOutcome::fallback: return "fallback";
        case PlanOutcome::refused: return "refused";
    }
    return "?";
}

std::string_view to_string(PlanSearch search) {
    switch (search) {
        case PlanSearch::exact: return "exact";
        case PlanSearch::greedy: return "greedy";
        case PlanSearch::exhaustive: return "exhaustive";
        case PlanSearch::none: return "none";
    }
    return "?";
}

std::string_view to_string(LostOn rule) {
    switch (rule) {
        case LostOn::node_count: return "node_count";
        case LostOn::resident_memory: return "resident_memory";
        case LostOn::worst_distance: return "worst_distance";
        case LostOn::projected_load: return "projected_load";
        case LostOn::free_memory_left: return "free_memory_left";
        case LostOn::node_ids: return "node_ids";
    }
    return "?";
}

}  // namespace affine
