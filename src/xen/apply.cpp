#include "apply.hpp"

#include <fmt/format.h>

#include <cerrno>

#include "affine/set_grammar.hpp"
#include "explain.hpp"

namespace affine::xen {
namespace {

CpuSet vcpus_of(const ChangedVcpus& changed) {
    CpuSet ids;
    for (const VcpuBatch::Changed& c : changed) ids.insert(c.vcpu);
    return ids;
}

// The failure of a refused batch, after the rollback. The state is committed first:
// the simulated host must keep what was restored.
std::unexpected<Error> refused(Hypervisor& hv, const XenHost& host, const Domain& before, const VcpuBatch& batch,
                               const std::optional<CpuSet>& hard) {
    (void)hv.commit();
    return failure(explain_vcpu_refusal(host, before, *batch.refused_vcpu, batch.error, hard) +
                       rollback_text(batch.restored, batch.not_restored),
                   batch.error.code);
}

}  // namespace

VcpuBatch set_vcpus_affinity(Hypervisor& hv, const Domain& before, const std::vector<int>& vcpus, const CpuSet& hard,
                             const CpuSet& soft, AffinityFlags flags) {
    VcpuBatch batch;
    for (int v : vcpus) {
        auto r = hv.set_vcpu_affinity(before.domid, v, hard, soft, flags);
        if (r) {
            batch.changed.push_back({v, *r});
            continue;
        }
        batch.refused_vcpu = v;
        batch.error = r.error();
        CpuSet changed;
        for (const VcpuBatch::Changed& c : batch.changed) changed.insert(c.vcpu);
        restore_vcpus(hv, before, changed, batch);
        break;
    }
    return batch;
}

void restore_vcpus(Hypervisor& hv, const Domain& before, const CpuSet& vcpus, VcpuBatch& batch) {
    for (int v : vcpus) {
        const Vcpu* old = before.vcpu(v);
        bool back = old != nullptr &&
                    hv.set_vcpu_affinity(before.domid, v, old->hard, old->soft,
                                         AffinityFlags::hard | AffinityFlags::soft | AffinityFlags::force)
                        .has_value();
        (back ? batch.restored : batch.not_restored).insert(v);
    }
}

Result<ChangedVcpus> apply_vcpu_affinity(Hypervisor& hv, const XenHost& host, const Domain& before,
                                         const std::vector<int>& vcpus, const std::optional<CpuSet>& hard,
                                         const std::optional<CpuSet>& soft, bool force) {
    if (!hard && !soft) return usage_error("nothing to change: neither a hard nor a soft mask");
    AffinityFlags flags = AffinityFlags::none;
    if (hard) flags = flags | AffinityFlags::hard;
    if (soft) flags = flags | AffinityFlags::soft;
    if (force) flags = flags | AffinityFlags::force;
    VcpuBatch batch = set_vcpus_affinity(hv, before, vcpus, hard.value_or(CpuSet{}), soft.value_or(CpuSet{}), flags);
    if (!batch.ok()) return refused(hv, host, before, batch, hard);
    if (auto done = hv.commit(); !done) return std::unexpected(done.error());
    return std::move(batch.changed);
}

Result<AppliedPlacement> apply_placement(Hypervisor& hv, const XenHost& host, const Domain& before,
                                         const XenPlacementActions& actions) {
    AppliedPlacement applied;
    if (actions.empty()) return applied;
    VcpuBatch batch;
    if (actions.set_vcpus) {
        std::vector<int> targets;
        for (const Vcpu& v : before.vcpus) targets.push_back(v.id);
        batch = set_vcpus_affinity(hv, before, targets, actions.hard, actions.soft,
                                   AffinityFlags::hard | AffinityFlags::soft);
        if (!batch.ok()) return refused(hv, host, before, batch, actions.hard);
    }
    if (actions.node_affinity) {
        auto set = hv.set_node_affinity(before.domid, *actions.node_affinity);
        if (!set) {
            restore_vcpus(hv, before, vcpus_of(batch.changed), batch);
            (void)hv.commit();
            const NodeSet& nodes = *actions.node_affinity;
            return failure(fmt::format("node affinity {}: {}{}", nodes == every_node() ? "all (auto)" : to_list(nodes),
                                       explain_node_affinity_refusal(host.topology, before.domid, nodes, set.error()),
                                       rollback_text(batch.restored, batch.not_restored)),
                           set.error().code);
        }
        applied.node_affinity = actions.node_affinity;
    }
    if (auto done = hv.commit(); !done) return std::unexpected(done.error());
    applied.vcpus = std::move(batch.changed);
    return applied;
}

Result<void> apply_node_affinity(Hypervisor& hv, int domid, const NodeSet& nodes) {
    auto set = hv.set_node_affinity(domid, nodes);
    if (!set) {
        auto topology = hv.topology();
        if (!topology) return std::unexpected(set.error());
        return failure(explain_node_affinity_refusal(*topology, domid, nodes, set.error()), set.error().code);
    }
    if (auto done = hv.commit(); !done) return done;
    if (nodes != every_node()) return {};
    // Read back: every node must have put the domain back in auto mode.
    auto host = snapshot(hv);
    if (!host) return std::unexpected(host.error());
    const Domain* d = host->domain(domid);
    if (d == nullptr) return failure(fmt::format("domain {} does not exist", domid), ESRCH);
    if (d->node_affinity_mode != NodeAffinityMode::automatic)
        return failure(fmt::format("all nodes were sent but the node affinity read back ({}) is not what auto mode "
                                   "gives",
                                   to_list(d->node_affinity)));
    return {};
}

}  // namespace affine::xen
