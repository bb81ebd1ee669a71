#include "affine/xen_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "affine/set_grammar.hpp"
#include "affine/size.hpp"

namespace affine::xen {
namespace {

std::unexpected<Error> xen_error(int code, std::string message) { return failure(std::move(message), code); }

// Xen keeps nr_cpu_ids bits of a CPU map: the rest never reaches the scheduler.
CpuSet clip_to_host(const XenHost& host, const CpuSet& cpus) {
    return cpus & CpuSet::range(0, host.cpu_id_limit() - 1);
}

CpuSet every_cpu(const XenHost& host) { return CpuSet::range(0, host.cpu_id_limit() - 1); }

// The vCPU lookup of XEN_DOMCTL_{set,get}vcpuaffinity, in Xen's order of checks.
Result<const Vcpu*> find_vcpu(const XenHost& host, int domid, int vcpu) {
    const Domain* d = host.domain(domid);
    if (d == nullptr) return xen_error(ESRCH, fmt::format("domain {} does not exist", domid));
    if (vcpu < 0 || vcpu >= d->max_vcpus)
        return xen_error(EINVAL, fmt::format("domain {} has max_vcpus {}: no vCPU {}", domid, d->max_vcpus, vcpu));
    const Vcpu* v = d->vcpu(vcpu);
    if (v == nullptr) return xen_error(ESRCH, fmt::format("vCPU {} of domain {} is not allocated", vcpu, domid));
    return v;
}

void update_node_affinity(const XenHost& host, Domain& d) {
    if (d.node_affinity_mode == NodeAffinityMode::automatic)
        d.node_affinity = auto_node_affinity(host, d, d.node_affinity);
}

// cycle_node(): the next node of `mask` after `node`, wrapping to the first.
int cycle_node(int node, const NodeSet& mask) {
    for (int n : mask)
        if (n > node) return n;
    return mask.first().value_or(-1);
}

std::size_t node_index(const XenHost& host, int node) {
    auto it = std::ranges::find(host.topology.nodes, node, &Node::id);
    return static_cast<std::size_t>(it - host.topology.nodes.begin());
}

// get_free_buddy(): from `start` round the node affinity, then the other online
// nodes in id order.
std::vector<int> search_order(const XenHost& host, const Domain& domain, int start) {
    std::vector<int> order;
    const NodeSet affinity = domain.node_affinity & host.online_nodes();
    for (int n : affinity)
        if (n >= start) order.push_back(n);
    for (int n : affinity)
        if (n < start) order.push_back(n);
    for (int n : host.online_nodes() - affinity) order.push_back(n);
    return order;
}

}  // namespace

const Vcpu* Domain::vcpu(int id) const {
    auto it = std::ranges::find(vcpus, id, &Vcpu::id);
    return it == vcpus.end() ? nullptr : &*it;
}
Vcpu* Domain::vcpu(int id) {
    auto it = std::ranges::find(vcpus, id, &Vcpu::id);
    return it == vcpus.end() ? nullptr : &*it;
}
std::uint64_t Domain::total_pages() const {
    std::uint64_t total = 0;
    for (const auto& [node, pages] : pages_per_node) total += pages;
    return total;
}

const Domain* XenHost::domain(int domid) const {
    auto it = std::ranges::find(domains, domid, &Domain::domid);
    return it == domains.end() ? nullptr : &*it;
}
Domain* XenHost::domain(int domid) {
    auto it = std::ranges::find(domains, domid, &Domain::domid);
    return it == domains.end() ? nullptr : &*it;
}
NodeSet XenHost::online_nodes() const {
    NodeSet nodes;
    for (const Node& n : topology.nodes)
        if (n.has_cpus() || n.has_memory()) nodes.insert(n.id);
    return nodes;
}

void set_pool_cpus(XenHost& host, const CpuSet& cpus) {
    host.pool_cpus = cpus & host.topology.online_cpus();
    for (Domain& d : host.domains) update_node_affinity(host, d);
}

NodeSet every_node() { return NodeSet::range(0, max_numnodes - 1); }

XenHost make_xen_host(Topology topology) {
    XenHost host;
    host.pool_cpus = topology.online_cpus();
    host.topology = std::move(topology);
    return host;
}

Result<int> create_domain(XenHost& host, int max_vcpus, int allocated, std::optional<int> domid) {
    if (max_vcpus < 1 || allocated < 0 || allocated > max_vcpus)
        return xen_error(EINVAL, fmt::format("max_vcpus must be at least 1 and allocated vCPUs at most max_vcpus "
                                             "(given max_vcpus {}, allocated {})",
                                             max_vcpus, allocated));
    int id = 0;
    if (domid) {
        if (host.domain(*domid) != nullptr) return xen_error(EEXIST, fmt::format("domain {} exists", *domid));
        id = *domid;
    } else {
        while (host.domain(id) != nullptr) ++id;
    }
    Domain d;
    d.domid = id;
    d.max_vcpus = max_vcpus;
    // domain_create(): node_affinity = NODE_MASK_ALL, auto on; vCPUs start with every CPU.
    d.node_affinity = every_node();
    for (int v = 0; v < allocated; ++v) d.vcpus.push_back(Vcpu{v, every_cpu(host), every_cpu(host), false});
    update_node_affinity(host, d);
    host.domains.push_back(std::move(d));
    std::ranges::sort(host.domains, {}, &Domain::domid);
    return id;
}

Result<void> destroy_domain(XenHost& host, int domid) {
    Domain* d = host.domain(domid);
    // Xen refuses to destroy the domain making the call (XEN_DOMCTL_destroydomain
    // from dom0 on dom0): the host would lose its control domain.
    if (domid == 0) return xen_error(EINVAL, "domain 0 is the control domain (dom0): it cannot be destroyed");
    if (d == nullptr) return xen_error(ESRCH, fmt::format("domain {} does not exist", domid));
    for (const auto& [node, pages] : d->pages_per_node)
        for (Node& n : host.topology.nodes)
            if (n.id == node) n.memory_free_bytes += pages * page_bytes;
    std::erase_if(host.domains, [&](const Domain& x) { return x.domid == domid; });
    return {};
}

CpuSet effective_hard(const XenHost& host, const Vcpu& vcpu) { return vcpu.hard & host.pool_cpus; }
CpuSet effective_soft(const XenHost& host, const Vcpu& vcpu) { return vcpu.soft & host.pool_cpus & vcpu.hard; }

NodeSet auto_node_affinity(const XenHost& host, const Domain& domain, const NodeSet& fallback) {
    if (domain.vcpus.empty()) return fallback;
    CpuSet hard;
    CpuSet soft;
    for (const Vcpu& v : domain.vcpus) {
        hard |= v.hard;
        soft |= v.soft;
    }
    hard &= host.pool_cpus;
    soft &= hard;
    return host.topology.nodes_of(soft.empty() ? hard : soft);
}

Result<EffectiveAffinity> set_vcpu_affinity(XenHost& host, int domid, int vcpu, const CpuSet& hard,
                                            const CpuSet& soft, AffinityFlags flags) {
    auto found = find_vcpu(host, domid, vcpu);
    if (!found) return std::unexpected(found.error());
    if (!has(flags, AffinityFlags::hard) && !has(flags, AffinityFlags::soft))
        return xen_error(EINVAL, "neither the hard nor the soft flag is set");
    Domain& d = *host.domain(domid);
    Vcpu& v = *d.vcpu(vcpu);
    if (has(flags, AffinityFlags::force)) v.temporarily_pinned = false;

    EffectiveAffinity out;
    const CpuSet old_hard = v.hard;
    if (has(flags, AffinityFlags::hard)) {
        CpuSet wanted = clip_to_host(host, hard);
        if (!wanted.intersects(host.pool_cpus))
            return xen_error(EINVAL, fmt::format("hard mask {} has no CPU of the pool ({})", to_list(wanted),
                                                 to_list(host.pool_cpus)));
        if (v.temporarily_pinned)
            return xen_error(EBUSY, fmt::format("vCPU {} of domain {} is temporarily pinned by the hypervisor",
                                                vcpu, domid));
        v.hard = wanted;
        update_node_affinity(host, d);
        out.hard = v.hard & host.pool_cpus;
    }
    if (has(flags, AffinityFlags::soft)) {
        if (v.temporarily_pinned) {
            // The caller expects nothing to have happened: undo the hard step.
            if (has(flags, AffinityFlags::hard)) {
                v.hard = old_hard;
                update_node_affinity(host, d);
            }
            return xen_error(EBUSY, fmt::format("vCPU {} of domain {} is temporarily pinned by the hypervisor",
                                                vcpu, domid));
        }
        v.soft = clip_to_host(host, soft);
        update_node_affinity(host, d);
        out.soft = v.soft & host.pool_cpus & v.hard;
    }
    return out;
}

Result<Vcpu> get_vcpu_affinity(const XenHost& host, int domid, int vcpu) {
    auto found = find_vcpu(host, domid, vcpu);
    if (!found) return std::unexpected(found.error());
    return **found;
}

Result<NodeSet> set_node_affinity(XenHost& host, int domid, const NodeSet& nodes) {
    Domain* d = host.domain(domid);
    if (d == nullptr) return xen_error(ESRCH, fmt::format("domain {} does not exist", domid));
    NodeSet wanted = nodes & every_node();
    if (!wanted.intersects(host.online_nodes()))
        return xen_error(EINVAL, fmt::format("nodes {} hold no online node (online: {})", to_list(wanted),
                                             to_list(host.online_nodes())));
    if (wanted == every_node()) {
        d->node_affinity_mode = NodeAffinityMode::automatic;
    } else {
        d->node_affinity_mode = NodeAffinityMode::explicit_nodes;
        d->node_affinity = wanted;
    }
    update_node_affinity(host, *d);
    return d->node_affinity;
}

std::vector<int> allocation_order(const XenHost& host, const Domain& domain) {
    return search_order(host, domain, cycle_node(domain.last_alloc_node, domain.node_affinity & host.online_nodes()));
}

Result<std::map<int, std::uint64_t>> allocate_pages(XenHost& host, int domid, std::uint64_t pages) {
    Domain* d = host.domain(domid);
    if (d == nullptr) return xen_error(ESRCH, fmt::format("domain {} does not exist", domid));
    std::map<int, std::uint64_t> free_pages;
    std::uint64_t total_free = 0;
    for (int n : host.online_nodes()) {
        free_pages[n] = host.topology.node(n)->memory_free_bytes / page_bytes;
        total_free += free_pages[n];
    }
    if (pages > total_free)
        return xen_error(ENOMEM, fmt::format("{} of memory wanted, {} free on the host",
                                             format_size(pages * page_bytes), format_size(total_free * page_bytes)));
    std::map<int, std::uint64_t> placed;
    const NodeSet affinity = d->node_affinity & host.online_nodes();
    for (std::uint64_t p = 0; p < pages; ++p) {
        // Every page starts its search one node further round the node affinity.
        d->last_alloc_node = cycle_node(d->last_alloc_node, affinity);
        for (int n : search_order(host, *d, d->last_alloc_node)) {
            if (free_pages[n] == 0) continue;
            --free_pages[n];
            ++placed[n];
            break;
        }
    }
    for (const auto& [node, count] : placed) {
        host.topology.nodes[node_index(host, node)].memory_free_bytes -= count * page_bytes;
        d->pages_per_node[node] += count;
    }
    return placed;
}

}  // namespace affine::xen
