#include "affine/xen_placement.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <vector>

namespace affine::xen {

std::map<int, int> vcpu_load_per_node(const XenHost& host, std::optional<int> except_domid) {
    const Topology& t = host.topology;
    std::map<int, double> share;
    int counted = 0;
    for (const Domain& d : host.domains) {
        if (except_domid && d.domid == *except_domid) continue;
        for (const Vcpu& v : d.vcpus) {
            CpuSet mask = effective_soft(host, v);
            if (mask.empty()) mask = effective_hard(host, v);
            if (mask.empty()) continue;  // cannot run in the pool: no load anywhere
            const double size = static_cast<double>(mask.count());
            for (const Node& n : t.nodes) {
                auto on_node = (mask & n.cpus).count();
                if (on_node > 0) share[n.id] += static_cast<double>(on_node) / size;
            }
            ++counted;
        }
    }
    // Largest remainder. The shares are sums of fractions; a share meant to be a
    // whole number may come out a hair below it, hence the tolerance.
    constexpr double tolerance = 1e-9;
    std::map<int, int> load;
    struct Remainder {
        int node;
        double value;
    };
    std::vector<Remainder> remainders;
    int given = 0;
    for (const auto& [node, s] : share) {
        int whole = static_cast<int>(std::floor(s + tolerance));
        load[node] = whole;
        given += whole;
        remainders.push_back({node, std::max(0.0, s - whole)});
    }
    std::ranges::stable_sort(remainders, [&](const Remainder& a, const Remainder& b) {
        if (std::abs(a.value - b.value) > tolerance) return a.value > b.value;
        return a.node < b.node;
    });
    for (std::size_t i = 0; given < counted && i < remainders.size(); ++i, ++given) ++load[remainders[i].node];
    std::erase_if(load, [](const auto& entry) { return entry.second == 0; });
    return load;
}

PlacementHost xen_placement_host(const XenHost& host, const CpuSet& reserved, int domid,
                                 const std::map<int, std::uint64_t>& domain_memory) {
    Topology t = host.topology;
    // CPUs outside the domain's cpupool cannot run it: not usable, as CPUs the
    // caller may not use are not on Linux.
    t.allowed_cpus = t.allowed_cpus & host.pool_cpus;
    PlacementHost p = make_placement_host(std::move(t), reserved);
    p.vcpus_per_node = vcpu_load_per_node(host, domid);
    release_from_host_state(p, domain_memory, {});
    return p;
}

Result<PlacementRequest> xen_placement_request(const Domain& domain, const std::map<int, std::uint64_t>& domain_memory,
                                               PlacementPolicy policy, bool follow_memory,
                                               std::optional<std::uint64_t> memory_bytes) {
    if (domain.vcpus.empty())
        return failure(fmt::format("domain {} has no allocated vCPU: there is nothing to place (affinity is set "
                                   "per vCPU)",
                                   domain.domid),
                       ESRCH);
    std::uint64_t resident = 0;
    for (const auto& [node, bytes] : domain_memory) resident += bytes;
    PlacementRequest r;
    r.name = fmt::format("domain {}", domain.domid);
    r.vcpus = static_cast<int>(domain.vcpus.size());
    r.memory_bytes = memory_bytes.value_or(resident);
    r.policy = policy;
    if (r.memory_bytes == 0)
        return failure(fmt::format("domain {} has no memory yet: give --memory SIZE to plan for the memory it "
                                   "will have",
                                   domain.domid));
    if (follow_memory)
        for (const auto& [node, bytes] : domain_memory)
            if (bytes > 0) r.resident_bytes_per_node[node] = bytes;
    return r;
}

XenPlacementActions xen_placement_actions(const Plan& plan, const Domain& domain, const CpuSet& every_cpu) {
    XenPlacementActions a;
    if (plan.outcome != PlanOutcome::placed) return a;
    auto placement = domain_placement(plan);
    if (!placement) return a;
    if (!placement->hard_cpus.empty() || !placement->soft_cpus.empty()) {
        a.set_vcpus = true;
        a.hard = placement->hard_cpus.empty() ? every_cpu : placement->hard_cpus;
        a.soft = placement->soft_cpus.empty() ? every_cpu : placement->soft_cpus;
    }
    if (!placement->node_affinity.empty())
        a.node_affinity = placement->node_affinity;
    else if (plan.affinity != AffinityKind::none && domain.node_affinity_mode == NodeAffinityMode::explicit_nodes)
        a.node_affinity = every_node();
    return a;
}

}  // namespace affine::xen
