// One interface for "a Xen hypervisor", two implementations: the real one through
// libxenctrl (loaded at run time, xenctrl_backend.cpp) and the simulated host
// (src/sim/). The `affine xen` commands are written once against it; the factory
// that picks one by `--host` is open_hypervisor (src/host/hypervisor_source.hpp).
// Nothing here knows the simulator: it implements this interface, not the reverse.
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

class SimulationControl;

struct DomainInfo {
    int domid = 0;
    int vcpu_id_limit = 0;  // highest allocated vCPU id + 1 (0: none allocated)
    int online_vcpus = 0;  // allocated and up
    std::uint64_t memory_bytes = 0;
};

// Free memory per node as a new domain's allocations meet it. Xen allocates a
// domain's pages above its DMA width first, on the domain's nodes, then on any
// node; memory below it (on the lowest node) only when no node has other memory
// left. Only the memory above is a node's to give.
struct DomainFreeMemory {
    unsigned dma_bits = 0;                // 0: Xen keeps no memory for last
    std::string dma_bits_source;          // how it was found, for the user
    std::map<int, std::uint64_t> first;   // per node: free above 2^dma_bits
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
    // Free memory per node of `topology` (as topology() read it), split at Xen's DMA
    // width. The default (the simulated host) keeps nothing for last: every free
    // byte is first.
    virtual Result<DomainFreeMemory> domain_free_memory(const Topology& topology);
    // Every domain's name by domid (xl's names). The real host reads xenstore
    // (domain_names.cpp): failure when xenstored cannot be reached.
    virtual Result<std::map<int, std::string>> domain_names();
    // Makes the changes made so far last (the simulated host writes its state file).
    virtual Result<void> commit() { return {}; }
    // The changes only a simulated host can make (the `xen sim-*` commands), or
    // nullptr for a real hypervisor.
    virtual SimulationControl* simulation() { return nullptr; }
};

// A domain to create on a simulated host.
struct NewDomain {
    int max_vcpus = 1;
    int allocated_vcpus = 0;            // allocated now (as xc_domain_create: none)
    std::optional<NodeSet> node_affinity;  // explicit, set before the memory is populated
    std::uint64_t memory_bytes = 0;     // populated by the model's allocator
    std::string name;                   // "" for none; a name in use gives EEXIST
    // Hard and soft masks of vCPUs 0, 1, ... (allocated ones), set before the memory
    // is populated, as libxl builds a domain; vCPUs past the lists keep every CPU.
    std::vector<CpuSet> vcpu_hard;
    std::vector<CpuSet> vcpu_soft;
};

// What a simulated host can do beyond a hypervisor's calls: make the situations the
// tests need (domains, cpupool CPUs, a temporary pinning). Each change is made on
// the model (xen_model.hpp) with its rules; Hypervisor::commit() makes it last.
class SimulationControl {
public:
    virtual ~SimulationControl() = default;
    // The new domain's domid (the lowest free one).
    virtual Result<int> create_domain(const NewDomain& domain) = 0;
    virtual Result<void> destroy_domain(int domid) = 0;
    // The CPUs of cpupool 0 (offline CPUs are dropped); auto node affinities follow.
    virtual Result<void> set_pool_cpus(const CpuSet& cpus) = 0;
    // Marks a vCPU as pinned by the hypervisor (changes then give EBUSY) or not.
    virtual Result<void> set_temporarily_pinned(int domid, int vcpu, bool pinned) = 0;
    // A new memory target the guest balloons up to at once: the pages it lacks are
    // populated by the model's allocator under its node affinity (`xl mem-set` and a
    // balloon driver). ENOMEM (nothing allocated) when the host lacks the memory;
    // EINVAL for a target below what the domain holds (ballooning down is not
    // simulated).
    virtual Result<void> set_memory_target(int domid, std::uint64_t bytes) = 0;
};

// The real hypervisor (xenctrl_backend.cpp). Failure with one line when libxenctrl cannot be loaded or
// this is not dom0 of a Xen host.
Result<std::unique_ptr<Hypervisor>> open_xenctrl();

// What this affine knows of libxenctrl, for `affine --version`: the soname of the
// Xen release whose headers it was built against (the only library it loads) and
// whether that library can be loaded here. Loads and unloads the library; does not
// open the hypervisor.
struct XenctrlFacts {
    std::string built_for;  // "libxenctrl.so.4.17"; "" when built without Xen support
    bool loadable = false;
    std::string why_not;    // when not loadable: why, in one line
};
XenctrlFacts xenctrl_facts();

// What affine knows of the host and its domains, read through `hv`: a model to
// reason with (placement, auto-mode inference). Each domain's node affinity mode
// says whether it was read or inferred (node_affinity_mode). Reads live state.
Result<XenHost> snapshot(Hypervisor& hv);

// Whether a domain's node affinity is automatic, and how that is known: the
// hypervisor's word when it has one, else inferred: the node affinity equals what
// the auto rule gives for the current vCPU masks (an explicit affinity equal to it
// cannot be told apart).
struct KnownMode {
    NodeAffinityMode mode = NodeAffinityMode::automatic;
    ModeSource source = ModeSource::hypervisor;
};
KnownMode node_affinity_mode(Hypervisor& hv, const XenHost& host, const Domain& domain);

}  // namespace affine::xen
