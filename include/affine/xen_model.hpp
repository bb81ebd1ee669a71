// The Xen hypervisor's affinity model: vCPU hard and soft masks, a domain's node
// affinity (auto or explicit) and where its pages go, with the results and error
// codes the real hypervisor gives (docs/xen.md; rules verified on Xen 4.17).
// Pure: no I/O. It is the simulated host's engine and the oracle the Xen
// backend's results are compared against.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/topology.hpp"

namespace affine::xen {

// Xen's compile-time node limit on x86 (MAX_NUMNODES): node maps have this many
// bits, and "every node" for node affinity means all of them.
inline constexpr int max_numnodes = 64;
inline constexpr std::uint64_t page_bytes = 4096;

// XEN_VCPUAFFINITY_* flags of xc_vcpu_setaffinity, same values.
enum class AffinityFlags : unsigned { none = 0, hard = 1, soft = 2, force = 4 };
constexpr AffinityFlags operator|(AffinityFlags a, AffinityFlags b) {
    return static_cast<AffinityFlags>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr bool has(AffinityFlags set, AffinityFlags flag) {
    return (static_cast<unsigned>(set) & static_cast<unsigned>(flag)) != 0;
}

enum class NodeAffinityMode { automatic, explicit_nodes };

// Where a domain's node affinity mode comes from: the hypervisor's own word (the
// model and the simulated host keep it), or inferred by affine from the masks (real
// Xen: libxenctrl has no call that reads d->auto_node_affinity).
enum class ModeSource { hypervisor, inferred };

struct Vcpu {
    int id = 0;
    CpuSet hard;  // stored masks, as GET returns them
    CpuSet soft;
    // Temporarily pinned by the hypervisor (SCHED_pin_override): changes give EBUSY
    // unless FORCE is passed, which ends the override.
    bool temporarily_pinned = false;

    friend bool operator==(const Vcpu&, const Vcpu&) = default;
};

struct Domain {
    int domid = 0;
    std::string name;  // the toolstack's name (xenstore); "" when it has none
    int max_vcpus = 0;
    std::vector<Vcpu> vcpus;  // the allocated vCPUs, by increasing id (< max_vcpus)
    NodeSet node_affinity;
    NodeAffinityMode node_affinity_mode = NodeAffinityMode::automatic;
    ModeSource node_affinity_mode_source = ModeSource::hypervisor;
    std::map<int, std::uint64_t> pages_per_node;  // node -> pages, nodes with pages only
    int last_alloc_node = -1;                     // d->last_alloc_node: round-robin start

    [[nodiscard]] const Vcpu* vcpu(int id) const;
    [[nodiscard]] Vcpu* vcpu(int id);
    [[nodiscard]] std::uint64_t total_pages() const;

    friend bool operator==(const Domain&, const Domain&) = default;
};

// A host as the hypervisor sees it. All domains are in cpupool 0, whose CPUs are
// `pool_cpus` (online CPUs only). Free memory per node is topology's
// memory_free_bytes.
struct XenHost {
    Topology topology;
    CpuSet pool_cpus;
    std::vector<Domain> domains;  // by increasing domid

    [[nodiscard]] const Domain* domain(int domid) const;
    [[nodiscard]] Domain* domain(int domid);
    // nr_cpu_ids: CPU ids past it are not in any map the hypervisor returns.
    [[nodiscard]] int cpu_id_limit() const { return topology.cpu_id_limit(); }
    // The node ids that are online (have CPUs or memory), as Xen's node_online_map.
    [[nodiscard]] NodeSet online_nodes() const;

    friend bool operator==(const XenHost&, const XenHost&) = default;
};

// What xc_vcpu_setaffinity hands back in its in/out maps: the effective masks for
// the flags given (nullopt for a mask that was not set).
struct EffectiveAffinity {
    std::optional<CpuSet> hard;  // hard ∩ pool CPUs
    std::optional<CpuSet> soft;  // soft ∩ pool CPUs ∩ hard; may be empty (soft ignored)
};

// A host with no domains: cpupool 0 holds every online CPU.
XenHost make_xen_host(Topology topology);

// Adds a domain with `max_vcpus` vCPUs, `allocated` of them allocated (hard = soft =
// every CPU, as a fresh vCPU), node affinity automatic. domid: the lowest free one
// when nullopt. Errors: EEXIST when the domid is taken, EINVAL for allocated >
// max_vcpus or max_vcpus < 1.
Result<int> create_domain(XenHost& host, int max_vcpus, int allocated, std::optional<int> domid = std::nullopt);

// Removes a domain and frees its pages. ESRCH when it does not exist, EINVAL for
// domain 0 (the control domain, which Xen does not let itself destroy).
Result<void> destroy_domain(XenHost& host, int domid);

// XEN_DOMCTL_setvcpuaffinity. Errors, as Xen gives them: ESRCH no such domain;
// EINVAL vcpu >= max_vcpus, or flags with neither HARD nor SOFT, or a hard mask
// with no CPU of the pool; ESRCH vCPU not allocated; EBUSY temporarily pinned
// without FORCE. Bits past cpu_id_limit are dropped as Xen drops them. If the soft
// step fails after hard was set, hard is restored. Node affinity is recomputed in
// auto mode.
Result<EffectiveAffinity> set_vcpu_affinity(XenHost& host, int domid, int vcpu, const CpuSet& hard,
                                            const CpuSet& soft, AffinityFlags flags);

// XEN_DOMCTL_getvcpuaffinity: the stored masks (not intersected with the pool).
// ESRCH / EINVAL as for set.
Result<Vcpu> get_vcpu_affinity(const XenHost& host, int domid, int vcpu);

// XEN_DOMCTL_setnodeaffinity: EINVAL when `nodes` holds no online node, ESRCH no
// such domain. All max_numnodes nodes: back to auto mode; otherwise explicit, node
// affinity = nodes (ids >= max_numnodes are dropped, as the map has no room).
// Returns the node affinity afterwards.
Result<NodeSet> set_node_affinity(XenHost& host, int domid, const NodeSet& nodes);

// Sets the CPUs of cpupool 0 to the online CPUs of `cpus`; every domain in auto
// mode gets the node affinity the auto rule gives for the new pool.
void set_pool_cpus(XenHost& host, const CpuSet& cpus);

// Every node id Xen's map can hold: what "all" must send to mean auto mode.
NodeSet every_node();

// The auto rule: H = union of hard ∩ pool, S = union of soft ∩ H; nodes of S if not
// empty, else of H. A domain without vCPUs keeps `fallback`.
NodeSet auto_node_affinity(const XenHost& host, const Domain& domain, const NodeSet& fallback);

// The effective soft mask of a vCPU: soft ∩ pool ∩ hard (empty means soft is ignored).
CpuSet effective_soft(const XenHost& host, const Vcpu& vcpu);
CpuSet effective_hard(const XenHost& host, const Vcpu& vcpu);

// The nodes, in order, the allocator tries for the domain's next page: node
// affinity nodes round-robin after last_alloc_node, then the other online nodes.
std::vector<int> allocation_order(const XenHost& host, const Domain& domain);

// Allocates `pages` pages to the domain the way Xen's heap allocator does, page by
// page: each page from the next node of its node affinity (round-robin) with free
// memory, else from the other online nodes in id order. Updates free memory and the
// domain's pages. ENOMEM (nothing allocated) when the host lacks the memory.
Result<std::map<int, std::uint64_t>> allocate_pages(XenHost& host, int domid, std::uint64_t pages);

}  // namespace affine::xen
