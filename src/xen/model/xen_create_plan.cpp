#include "affine/xen_create_plan.hpp"

#include <algorithm>

#include "affine/xen_placement.hpp"

namespace affine::xen {

PlacementHost xen_create_placement_host(const XenHost& host, const CpuSet& reserved,
                                        const std::optional<CpuSet>& hard_limit,
                                        const std::map<int, std::uint64_t>& first_free) {
    Topology t = host.topology;
    for (Node& n : t.nodes)
        if (auto it = first_free.find(n.id); it != first_free.end())
            n.memory_free_bytes = std::min(n.memory_free_bytes, it->second);
    t.allowed_cpus = t.allowed_cpus & host.pool_cpus;
    if (hard_limit) {
        t.allowed_cpus = t.allowed_cpus & *hard_limit;
        t.allowed_nodes = t.allowed_nodes & t.nodes_of(*hard_limit);
    }
    PlacementHost p = make_placement_host(std::move(t), reserved);
    // The new domain has no vCPU yet: every existing vCPU is load.
    p.vcpus_per_node = vcpu_load_per_node(host);
    return p;
}

PlacementRequest xen_create_request(const XlDomain& domain, PlacementPolicy policy) {
    PlacementRequest r;
    r.name = domain.name;
    r.vcpus = domain.vcpus;
    r.memory_bytes = domain.memory_mib << 20;
    r.policy = policy;
    return r;
}

}  // namespace affine::xen
