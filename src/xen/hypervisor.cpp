#include "hypervisor.hpp"

#include <fmt/format.h>

#include <cerrno>

namespace affine::xen {

Result<XenHost> snapshot(Hypervisor& hv) {
    auto topology = hv.topology();
    if (!topology) return std::unexpected(topology.error());
    XenHost host = make_xen_host(std::move(*topology));
    auto pool = hv.pool_cpus(0);
    if (!pool) return std::unexpected(pool.error());
    host.pool_cpus = *pool;
    auto infos = hv.domains();
    if (!infos) return std::unexpected(infos.error());
    for (const DomainInfo& info : *infos) {
        Domain d;
        d.domid = info.domid;
        d.max_vcpus = info.vcpu_id_limit;
        for (int v = 0; v < info.vcpu_id_limit; ++v) {
            auto vcpu = hv.vcpu_affinity(info.domid, v);
            if (!vcpu && vcpu.error().code == ESRCH) continue;  // not allocated
            if (!vcpu) return std::unexpected(vcpu.error());
            d.vcpus.push_back(*vcpu);
        }
        auto nodes = hv.node_affinity(info.domid);
        if (!nodes) return std::unexpected(nodes.error());
        d.node_affinity = *nodes;
        host.domains.push_back(std::move(d));
    }
    for (Domain& d : host.domains) {
        KnownMode known = node_affinity_mode(hv, host, d);
        d.node_affinity_mode = known.mode;
        d.node_affinity_mode_source = known.source;
    }
    return host;
}

Result<DomainFreeMemory> Hypervisor::domain_free_memory(const Topology& topology) {
    DomainFreeMemory free;
    free.dma_bits_source = "no memory kept for last";
    for (const Node& n : topology.nodes) free.first[n.id] = n.memory_free_bytes;
    return free;
}

KnownMode node_affinity_mode(Hypervisor& hv, const XenHost& host, const Domain& domain) {
    if (auto known = hv.node_affinity_mode(domain.domid)) return {*known, ModeSource::hypervisor};
    // A domain without vCPUs keeps the all-nodes map it was created with in auto mode.
    NodeSet automatic = auto_node_affinity(host, domain, every_node());
    return {domain.node_affinity == automatic ? NodeAffinityMode::automatic : NodeAffinityMode::explicit_nodes,
            ModeSource::inferred};
}

}  // namespace affine::xen
