// The simulated Xen host: the model of include/affine/xen_model.hpp behind the
// Hypervisor interface, its state kept in a JSON file between commands.
#pragma once

#include <memory>
#include <string>

#include "state/state_file.hpp"
#include "xen/hypervisor.hpp"
#include "affine/xen_model.hpp"

namespace affine::xen {

class SimHypervisor final : public Hypervisor, public SimulationControl {
public:
    // `state` is the state file, locked: it stays locked while this object lives,
    // so that commands on one simulated host run one after the other.
    SimHypervisor(XenHost host, StateFile state) : host_(std::move(host)), state_(std::move(state)) {}

    [[nodiscard]] std::string name() const override { return "sim:" + state_.path(); }
    Result<Topology> topology() override { return host_.topology; }
    Result<int> cpu_id_limit() override { return host_.cpu_id_limit(); }
    Result<int> node_id_limit() override { return max_numnodes; }
    Result<CpuSet> pool_cpus(int domid) override;
    Result<std::vector<DomainInfo>> domains() override;
    Result<Vcpu> vcpu_affinity(int domid, int vcpu) override { return get_vcpu_affinity(host_, domid, vcpu); }
    Result<EffectiveAffinity> set_vcpu_affinity(int domid, int vcpu, const CpuSet& hard, const CpuSet& soft,
                                                AffinityFlags flags) override {
        return xen::set_vcpu_affinity(host_, domid, vcpu, hard, soft, flags);
    }
    Result<NodeSet> node_affinity(int domid) override;
    Result<void> set_node_affinity(int domid, const NodeSet& nodes) override;
    std::optional<NodeAffinityMode> node_affinity_mode(int domid) override;
    Result<DomainMemory> memory_per_node() override;
    // The names kept in the state (dom0 is "Domain-0", as xen-init-dom0 names it).
    Result<std::map<int, std::string>> domain_names() override;
    // Writes the state file (atomically, under the lock taken when it was opened).
    Result<void> commit() override;

    SimulationControl* simulation() override { return this; }

    Result<int> create_domain(const NewDomain& domain) override;
    Result<void> destroy_domain(int domid) override;
    Result<void> set_pool_cpus(const CpuSet& cpus) override;
    Result<void> set_temporarily_pinned(int domid, int vcpu, bool pinned) override;
    Result<void> set_memory_target(int domid, std::uint64_t bytes) override;

    [[nodiscard]] const XenHost& state() const { return host_; }

private:
    XenHost host_;
    StateFile state_;
};

// Opens the simulated host whose state is in `path`, holding its lock (waiting for
// another command on it to finish) until the returned object is destroyed: a
// command reads, changes and writes the state as one step. Usage error when the
// file does not exist (it is made by `affine xen sim-init`) or is not a state file.
Result<std::unique_ptr<Hypervisor>> open_sim_hypervisor(const std::string& path);

// A fresh simulated host on `topology`: dom0 with `dom0_vcpus` vCPUs (hard = soft =
// every CPU, node affinity auto) and `dom0_memory` bytes placed by the allocator.
Result<XenHost> initial_sim_host(Topology topology, int dom0_vcpus, std::uint64_t dom0_memory);

// The state file's JSON, and back. Usage error naming the field when malformed.
std::string sim_state_json(const XenHost& host);
Result<XenHost> sim_state_from_json(std::string_view text, const std::string& source);

// Writes a state file (atomically, under its lock).
Result<void> write_sim_state(const XenHost& host, const std::string& path);

}  // namespace affine::xen
