// Why the hypervisor refused a change, in the user's terms (as procfs.hpp explains
// the Linux kernel's refusals): its verdict named as in Xen's sources, and the
// reason read from the state of the domain before the change.
#pragma once

#include <optional>
#include <string>

#include "affine/error.hpp"
#include "affine/xen_model.hpp"
#include "hypervisor.hpp"

namespace affine::xen {

// "Invalid argument (EINVAL)": the hypervisor's errno with Xen's name for it.
std::string verdict(int code);

// Why XEN_DOMCTL_setvcpuaffinity refused vCPU `vcpu` of `domain` with `error`:
// "vCPU 5: Invalid argument (EINVAL): domain 3 has no vCPU 5 (vCPUs: 0-3)". `hard`
// is the hard mask that was sent, if any. `host` is the state before the change.
std::string explain_vcpu_refusal(const XenHost& host, const Domain& domain, int vcpu, const Error& error,
                                 const std::optional<CpuSet>& hard);

// Why XEN_DOMCTL_setnodeaffinity refused `nodes` for domain `domid`:
// "Invalid argument (EINVAL): nodes 5 are not online (online nodes: 0-1)".
std::string explain_node_affinity_refusal(const Topology& topology, int domid, const NodeSet& nodes,
                                          const Error& error);

// What became of the vCPUs a refused batch had changed: "; vCPUs 0-1 restored to
// their previous masks" and/or "; vCPUs 2 could NOT be restored ...", or "".
std::string rollback_text(const CpuSet& restored, const CpuSet& not_restored);

}  // namespace affine::xen
