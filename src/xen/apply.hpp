// Changes to a domain made as one transaction on a Hypervisor: all of it or, when
// the hypervisor refuses a step, nothing (what was changed is given back). The
// front ends only parse and print; the steps, the rollback and the explanation of
// a refusal are here.
#pragma once

#include <optional>
#include <vector>

#include "affine/error.hpp"
#include "affine/xen_model.hpp"
#include "affine/xen_placement.hpp"
#include "hypervisor.hpp"

namespace affine::xen {

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

// The vCPU masks that were set, as the hypervisor handed them back.
using ChangedVcpus = std::vector<VcpuBatch::Changed>;

// `affine xen vcpu-pin`: sets `hard` and/or `soft` (nullopt: leave that mask) on the
// vCPUs `vcpus` of `before` (the domain as `host`, a snapshot, holds it), FORCE with
// `force`; then commits. When the hypervisor refuses a vCPU, the vCPUs changed
// before it get their masks back and the failure (errno of the refusal) says which
// vCPU, why (explain_vcpu_refusal) and what was restored. Usage error when neither
// mask is given.
Result<ChangedVcpus> apply_vcpu_affinity(Hypervisor& hv, const XenHost& host, const Domain& before,
                                         const std::vector<int>& vcpus, const std::optional<CpuSet>& hard,
                                         const std::optional<CpuSet>& soft, bool force);

// What apply_placement set on the domain.
struct AppliedPlacement {
    ChangedVcpus vcpus;                    // empty when the plan sets no vCPU mask
    std::optional<NodeSet> node_affinity;  // the node affinity sent (every_node(): auto)
};

// `affine xen place`: carries out `actions` (xen_placement_actions of a plan) on
// `before`: both masks of every allocated vCPU in one batch, then the node affinity;
// then commits. All or nothing: a refused vCPU restores the vCPUs before it; a
// refused node affinity restores every vCPU. The failure says which step, the
// hypervisor's verdict and what was restored.
Result<AppliedPlacement> apply_placement(Hypervisor& hv, const XenHost& host, const Domain& before,
                                         const XenPlacementActions& actions);

// `affine xen node-affinity DOM NODES`: sets the node affinity and commits; when
// every node was sent, reads back that the domain is in auto mode again. The failure
// explains a refusal (explain_node_affinity_refusal).
Result<void> apply_node_affinity(Hypervisor& hv, int domid, const NodeSet& nodes);

}  // namespace affine::xen
