// The rules that turn a launch request (--cpus, --nodes, --mem-policy) into the
// affinity and memory policy a command starts with. Pure: no I/O.
#include <fmt/format.h>

#include "affine/launch_policy.hpp"
#include "affine/set_grammar.hpp"

namespace affine {

std::string to_string(MemPolicy policy) {
    switch (policy) {
    case MemPolicy::automatic: return "auto";
    case MemPolicy::local: return "local";
    case MemPolicy::bind: return "bind";
    case MemPolicy::preferred: return "preferred";
    case MemPolicy::interleave: return "interleave";
    case MemPolicy::weighted_interleave: return "weighted-interleave";
    }
    return "?";
}

Result<MemPolicy> parse_mem_policy(std::string_view text) {
    for (MemPolicy p : {MemPolicy::automatic, MemPolicy::local, MemPolicy::bind, MemPolicy::preferred,
                        MemPolicy::interleave, MemPolicy::weighted_interleave})
        if (text == to_string(p)) return p;
    return usage_error(fmt::format("unknown memory policy \"{}\": expected bind, preferred, interleave, "
                                   "weighted-interleave or local",
                                   text));
}

Result<ResolvedLaunch> resolve_launch_policy(const LaunchPolicy& policy, const Topology& host) {
    ResolvedLaunch r;
    if (policy.cpus) {
        const CpuSet& cpus = *policy.cpus;
        if (auto usable = check_cpus_usable(host, cpus); !usable) return std::unexpected(usable.error());
        r.cpus = cpus;
    }
    MemPolicy mode = policy.mode;
    if (mode == MemPolicy::local && policy.nodes)
        return usage_error("--mem-policy local takes no --nodes: it allocates on the node of the CPU that "
                           "touches the memory");
    if (mode == MemPolicy::automatic) {
        if (policy.nodes) {
            mode = MemPolicy::bind;
            r.notes.push_back(fmt::format("memory bound to nodes {} (--nodes without --mem-policy means bind)",
                                          to_list(*policy.nodes)));
        } else if (policy.cpus) {
            r.mode = MemPolicy::local;
            r.notes.push_back(fmt::format("memory follows the CPUs: local allocation, so new pages come from "
                                          "node {} (the nodes of CPUs {})",
                                          to_list(host.nodes_of(*policy.cpus)), to_list(*policy.cpus)));
            return r;
        } else {
            return r;  // nothing asked about memory: the inherited policy stays
        }
    }
    if (mode == MemPolicy::local) {
        r.mode = MemPolicy::local;
        return r;
    }
    NodeSet nodes;
    if (policy.nodes) {
        nodes = *policy.nodes;
    } else if (policy.cpus) {
        NodeSet of_cpus = host.nodes_of(*policy.cpus);
        nodes = of_cpus & host.nodes_with_memory();
        if (nodes.empty())
            return usage_error(fmt::format("--mem-policy {} needs nodes with memory, and the nodes of CPUs {} "
                                           "(node {}) have none; give --nodes (nodes with memory: {})",
                                           to_string(mode), to_list(*policy.cpus), to_list(of_cpus),
                                           to_list(host.nodes_with_memory())));
        r.notes.push_back(fmt::format("memory nodes {} taken from CPUs {}", to_list(nodes), to_list(*policy.cpus)));
    } else {
        return usage_error(fmt::format("--mem-policy {} needs --nodes (or --cpus, whose nodes it then uses)",
                                       to_string(mode)));
    }
    if (nodes.empty()) return usage_error("--nodes names no node");
    NodeSet missing = nodes - host.all_nodes();
    if (!missing.empty())
        return usage_error(fmt::format("node {} does not exist on this host (nodes: {})", to_list(missing),
                                       to_list(host.all_nodes())));
    NodeSet memoryless = nodes - host.nodes_with_memory();
    if (!memoryless.empty())
        return usage_error(fmt::format("node {} has no memory, so --mem-policy {} cannot allocate there "
                                       "(nodes with memory: {})",
                                       to_list(memoryless), to_string(mode), to_list(host.nodes_with_memory())));
    NodeSet outside = nodes - host.allowed_nodes;
    if (!outside.empty() && !host.allowed_nodes.empty())
        return usage_error(fmt::format("node {} is outside this process's cpuset (Mems_allowed_list {})",
                                       to_list(outside), to_list(host.allowed_nodes)));
    r.mode = mode;
    r.nodes = nodes;
    return r;
}

Result<LaunchPolicy> launch_policy_for(const Plan& plan) {
    if (plan.outcome == PlanOutcome::refused) return usage_error("the plan was refused: " + plan.fallback);
    LaunchPolicy launch;
    // Linux has no soft affinity: a soft plan confines the work to the plan's CPUs;
    // a plan without CPU affinity still keeps it off reserved CPUs (hard_cpus).
    CpuSet cpus = plan.affinity == AffinityKind::none ? plan.hard_cpus : plan.cpus;
    if (!cpus.empty()) launch.cpus = cpus;
    NodeSet memory_nodes;
    for (const auto& [node, bytes] : plan.memory_bytes_per_node)
        if (bytes > 0) memory_nodes.insert(node);
    if (plan.outcome == PlanOutcome::fallback) {
        launch.mode = MemPolicy::interleave;  // striped, as the plan says
        launch.nodes = memory_nodes;
        return launch;
    }
    switch (plan.policy) {
        case PlacementPolicy::any:
            // No memory policy: with CPUs given, memory follows them (the auto rule).
            return launch;
        case PlacementPolicy::best_effort:
        case PlacementPolicy::prio_mem_only:
            launch.mode = MemPolicy::preferred;  // MPOL_PREFERRED_MANY over several nodes
            break;
        case PlacementPolicy::best_effort_hard:
            launch.mode = MemPolicy::bind;
            break;
    }
    launch.nodes = memory_nodes;
    return launch;
}

}  // namespace affine
