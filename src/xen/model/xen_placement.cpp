#include "affine/xen_placement.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <numeric>
#include <vector>

#include "core/natural.hpp"

namespace affine::xen {

std::map<int, int> vcpu_load_per_node(const XenHost& host, std::optional<int> except_domid) {
    using detail::Natural;
    // A vCPU whose mask has s CPUs, c of them on node n, counts c/s on n. The shares
    // are summed exactly: per mask size, the CPUs on each node; then all over one
    // common denominator, the lcm of the mask sizes.
    std::map<std::uint32_t, std::map<int, std::uint64_t>> on_node_by_size;
    int counted = 0;
    for (const Domain& d : host.domains) {
        if (except_domid && d.domid == *except_domid) continue;
        for (const Vcpu& v : d.vcpus) {
            CpuSet mask = effective_soft(host, v);
            if (mask.empty()) mask = effective_hard(host, v);
            if (mask.empty()) continue;  // cannot run in the pool: no load anywhere
            auto& on_node = on_node_by_size[static_cast<std::uint32_t>(mask.count())];
            for (const Node& n : host.topology.nodes)
                if (auto c = (mask & n.cpus).count(); c > 0) on_node[n.id] += static_cast<std::uint64_t>(c);
            ++counted;
        }
    }
    Natural denominator(1);
    for (const auto& [size, on_node] : on_node_by_size) {
        std::uint32_t rest = 0;
        (void)denominator.divided_by(size, rest);
        denominator = denominator.times(size / std::gcd(size, rest));
    }
    std::map<int, Natural> share;  // numerators over `denominator`
    for (const auto& [size, on_node] : on_node_by_size) {
        std::uint32_t rest = 0;
        Natural unit = denominator.divided_by(size, rest);
        for (const auto& [node, cpus] : on_node) share[node] += unit.times(cpus);
    }
    // Largest remainder: the whole vCPUs of each share, then one vCPU at a time to the
    // largest remainders, ties to the lowest node id.
    std::map<int, int> load;
    struct Remainder {
        int node;
        Natural value;
    };
    std::vector<Remainder> remainders;
    int given = 0;
    for (const auto& [node, numerator] : share) {
        int low = 0;  // the largest whole <= numerator / denominator (at most `counted`)
        for (int high = counted; low < high;) {
            int mid = (low + high + 1) / 2;
            if (denominator.times(static_cast<std::uint64_t>(mid)) <= numerator) low = mid;
            else high = mid - 1;
        }
        load[node] = low;
        given += low;
        Natural rest = numerator;
        rest -= denominator.times(static_cast<std::uint64_t>(low));
        remainders.push_back({node, std::move(rest)});
    }
    std::ranges::stable_sort(remainders, [](const Remainder& a, const Remainder& b) { return a.value > b.value; });
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

Result<DomainPlacement> domain_placement(const Plan& plan) {
    if (plan.outcome == PlanOutcome::refused) return usage_error("the plan was refused: " + plan.fallback);
    DomainPlacement d;
    d.hard_cpus = plan.hard_cpus;
    d.soft_cpus = plan.soft_cpus;
    if (plan.outcome == PlanOutcome::placed && plan.policy == PlacementPolicy::prio_mem_only)
        for (const auto& [node, bytes] : plan.memory_bytes_per_node) d.node_affinity.insert(node);
    return d;
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
