// One interface for "a Xen hypervisor": the real one through libxenctrl (loaded at
// run time) or the simulated host (src/sim/). The `affine xen` commands are written
// once against it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/topology.hpp"
#include "affine/xen_model.hpp"

namespace affine::xen {

struct DomainInfo {
    int domid = 0;
    int vcpu_id_limit = 0;  // highest allocated vCPU id + 1 (0: none allocated)
    int online_vcpus = 0;  // allocated and up
    std::uint64_t memory_bytes = 0;
};

// Bytes per node, per domid, as the hypervisor's NUMA dump reports them.
using DomainMemory = std::map<int, std::map<int, std::uint64_t>>;

class Hypervisor {
public:
    virtual ~Hypervisor() = default;

    // "xen" for the real hypervisor, "sim:FILE" for the simulated host.
    [[nodiscard]] virtual std::string name() const = 0;
    // CPUs (core, socket, node), nodes (size, free memory, distances). Live state.
    virtual Result<Topology> topology() = 0;
    // The number of CPU ids and node ids the hypervisor's maps carry (nr_cpu_ids and
    // MAX_NUMNODES): ids beyond cannot be sent.
    virtual Result<int> cpu_id_limit() = 0;
    virtual Result<int> node_id_limit() = 0;
    // The CPUs of the cpupool the domain runs in.
    virtual Result<CpuSet> pool_cpus(int domid) = 0;
    virtual Result<std::vector<DomainInfo>> domains() = 0;
    // Stored hard and soft masks of a vCPU (XEN_DOMCTL_getvcpuaffinity).
    virtual Result<Vcpu> vcpu_affinity(int domid, int vcpu) = 0;
    // XEN_DOMCTL_setvcpuaffinity: the effective masks the hypervisor returned, or its
    // errno (Error::code).
    virtual Result<EffectiveAffinity> set_vcpu_affinity(int domid, int vcpu, const CpuSet& hard,
                                                        const CpuSet& soft, AffinityFlags flags) = 0;
    virtual Result<NodeSet> node_affinity(int domid) = 0;
    virtual Result<void> set_node_affinity(int domid, const NodeSet& nodes) = 0;
    // Whether node affinity is automatic, when the hypervisor says so; nullopt when
    // it cannot be read (libxenctrl has no call for d->auto_node_affinity).
    virtual std::optional<NodeAffinityMode> node_affinity_mode(int domid) = 0;
    // Every domain's memory per node (the NUMA dump, debug key 'u').
    virtual Result<DomainMemory> memory_per_node() = 0;
    // Every domain's name by domid (xl's names). The real host reads xenstore
    // (domain_names.cpp): failure when xenstored cannot be reached.
    virtual Result<std::map<int, std::string>> domain_names();
    // Makes the changes made so far last (the simulated host writes its state file).
    virtual Result<void> commit() { return {}; }
};

// The hypervisor named by `--host`: "" or "xen" the real one (libxenctrl), or
// "sim:FILE" a simulated host whose state is FILE (made by `affine xen sim-init`).
Result<std::unique_ptr<Hypervisor>> open_hypervisor(std::string_view spec);

// The real hypervisor. Failure with one line when libxenctrl cannot be loaded or
// this is not dom0 of a Xen host.
Result<std::unique_ptr<Hypervisor>> open_xenctrl();

// Whether libxenctrl can be loaded here, and which file: "libxenctrl.so.4.17" or
// nullopt. Does not open the hypervisor.
std::optional<std::string> loadable_xenctrl();

// Parses the hypervisor's NUMA dump (the console text after debug key 'u'): the
// last "Memory location of each domain:" block, pages converted to bytes. One pass.
DomainMemory parse_numa_dump(std::string_view console);

// What affine knows of the host and its domains, read through `hv`: a model to
// reason with (placement, auto-mode inference). Reads live state.
Result<XenHost> snapshot(Hypervisor& hv);

// The same masks set on several vCPUs of a domain, one XEN_DOMCTL_setvcpuaffinity
// each, in order. A domain is never left half changed: when a vCPU is refused, the
// vCPUs already changed get their masks of `before` (the domain as it was read
// before the batch) back, with HARD|SOFT|FORCE, and the batch stops.
struct VcpuBatch {
    struct Changed {
        int vcpu = 0;
        EffectiveAffinity effective;  // what the hypervisor handed back
    };
    std::vector<Changed> changed;  // all of them when the batch succeeded
    // When a vCPU was refused: which, the hypervisor's error, and what became of the
    // vCPUs changed before it.
    std::optional<int> refused_vcpu;
    Error error;
    CpuSet restored;      // vCPU ids given their previous masks back
    CpuSet not_restored;  // vCPU ids that keep the new masks (the restore was refused)

    [[nodiscard]] bool ok() const { return !refused_vcpu; }
};
VcpuBatch set_vcpus_affinity(Hypervisor& hv, const Domain& before, const std::vector<int>& vcpus, const CpuSet& hard,
                             const CpuSet& soft, AffinityFlags flags);

// Gives the vCPUs `vcpus` of `before.domid` their masks of `before` back (HARD|SOFT|
// FORCE, one call each): the undo of a batch that succeeded but whose next step
// failed. Fills `restored` and `not_restored` of `batch`.
void restore_vcpus(Hypervisor& hv, const Domain& before, const CpuSet& vcpus, VcpuBatch& batch);

// Whether a domain's node affinity is automatic: the hypervisor's word when it has
// one, else inferred: the node affinity equals what the auto rule gives for the
// current vCPU masks (an explicit affinity equal to it cannot be told apart).
NodeAffinityMode node_affinity_mode(Hypervisor& hv, const XenHost& host, const Domain& domain);

}  // namespace affine::xen
