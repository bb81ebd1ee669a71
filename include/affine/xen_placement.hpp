// Placement of an existing Xen domain (`affine xen place`): the planner's view of a
// Xen host and what to set on the domain to carry a plan out. Pure: it reads a
// XenHost model (xen_model.hpp, e.g. a snapshot of the live hypervisor) and does no
// I/O; reading the hypervisor and applying the result are the front end's steps.
//
// The load rule (how other domains' vCPUs count as load, vcpus_per_node):
//   Each allocated vCPU of every other domain runs on its effective mask: its
//   effective soft mask (soft ∩ cpupool ∩ hard) when not empty, else its effective
//   hard mask (hard ∩ cpupool); a vCPU whose hard mask holds no CPU of the pool
//   cannot run and does not count. A vCPU counts on each node in proportion to the
//   CPUs of its mask on that node (a vCPU soft-pinned to node 1 counts 1 on node 1;
//   one free to run on a 2-node host with 2 CPUs a node counts 1/2 on each). The
//   shares are summed per node, exactly (over one common denominator, no floating
//   point), and rounded to whole vCPUs by largest remainder
//   (floor, then one vCPU at a time to the largest remainders, ties to the lowest
//   node id), so the total is exactly the number of vCPUs counted. Why proportional
//   and not "the node with most of its mask": the schedulers spread vCPUs over all
//   the CPUs they may use, and counting every unpinned vCPU on one node would make
//   that node look busy and steer every placement away from it.
//   vCPUs count whether running or not (a paused domain keeps its claim), as the
//   planner counts the vCPUs it has placed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/placement.hpp"
#include "affine/xen_model.hpp"

namespace affine::xen {

// vCPUs per node under the load rule above, of every domain but `except_domid`.
// Nodes with no vCPU are absent.
std::map<int, int> vcpu_load_per_node(const XenHost& host, std::optional<int> except_domid = std::nullopt);

// The planner's host for placing domain `domid` on `host`: the topology with the
// hypervisor's free memory per node, only the CPUs of cpupool 0 usable (others are
// taken out of allowed_cpus), `reserved` CPUs never chosen, the other domains' vCPUs
// as load (the rule above; the domain's own vCPUs are not load, since it is the one
// being placed), and the domain's own memory (`domain_memory`, bytes per node, as
// the NUMA dump gives it) added back to the free memory of its nodes: it is the
// memory the plan places.
PlacementHost xen_placement_host(const XenHost& host, const CpuSet& reserved, int domid,
                                 const std::map<int, std::uint64_t>& domain_memory);

// The request for placing an existing domain: its allocated vCPUs, its memory
// (the sum of `domain_memory`, or `memory_bytes` when given: a domain about to grow),
// the policy, and with `follow_memory` its memory per node as resident memory (the
// planner then prefers the nodes that already hold it: memory does not move in Xen).
// Failure (ESRCH) when the domain has no allocated vCPU, failure when it has no
// memory and no `memory_bytes` is given: there is nothing to plan for.
Result<PlacementRequest> xen_placement_request(const Domain& domain, const std::map<int, std::uint64_t>& domain_memory,
                                               PlacementPolicy policy, bool follow_memory,
                                               std::optional<std::uint64_t> memory_bytes = std::nullopt);

// What a Xen domain needs to carry out a plan, as xenopsd does at build time: the
// hard and soft affinity of every vCPU (empty: all CPUs) and, for prio-mem-only, an
// explicit node affinity (empty: leave auto mode, node affinity follows the vCPUs).
struct DomainPlacement {
    CpuSet hard_cpus;
    CpuSet soft_cpus;
    NodeSet node_affinity;
};
// Usage error for a refused plan.
Result<DomainPlacement> domain_placement(const Plan& plan);

// What to set on the domain to carry out a plan, as xenopsd does at build time:
//   - vCPU masks, when the plan gives a hard or a soft mask: both masks of every
//     vCPU are set in one call (best-effort: soft = the plan's CPUs, hard = every
//     CPU, or the plan's hard_cpus when CPUs are reserved; best-effort-hard: hard =
//     the plan's CPUs, soft = every CPU; prio-mem-only and any: only when CPUs are
//     reserved, hard = hard_cpus);
//   - node affinity: prio-mem-only sets the plan's nodes explicitly; a soft or hard
//     plan puts an explicit node affinity back to auto mode (every node), so that
//     the node affinity follows the new masks as after xenopsd's placement; an auto
//     node affinity is left as it is (it follows by itself).
// A plan that did not place (fallback, refused) gives no action: the domain is left
// as it is. `every_cpu` is the set "every CPU" stands for (the host's CPUs).
struct XenPlacementActions {
    bool set_vcpus = false;
    CpuSet hard;
    CpuSet soft;
    std::optional<NodeSet> node_affinity;  // every_node(): back to auto mode

    [[nodiscard]] bool empty() const { return !set_vcpus && !node_affinity; }
};
XenPlacementActions xen_placement_actions(const Plan& plan, const Domain& domain, const CpuSet& every_cpu);

}  // namespace affine::xen
