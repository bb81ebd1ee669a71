#include "explain.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "affine/set_grammar.hpp"

namespace affine::xen {
namespace {

const char* errno_name(int code) {
    switch (code) {
    case EINVAL: return "EINVAL";
    case ESRCH: return "ESRCH";
    case EBUSY: return "EBUSY";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOMEM: return "ENOMEM";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    default: return "errno";
    }
}

}  // namespace

std::string verdict(int code) { return fmt::format("{} ({})", std::strerror(code), errno_name(code)); }

std::string explain_vcpu_refusal(const XenHost& host, const Domain& domain, int vcpu, const Error& error,
                                 const std::optional<CpuSet>& hard) {
    std::string why;
    if (error.code == EINVAL && vcpu >= domain.max_vcpus)
        why = fmt::format("domain {} has no vCPU {} (vCPUs: 0-{})", domain.domid, vcpu, domain.max_vcpus - 1);
    else if (error.code == ESRCH)
        why = fmt::format("vCPU {} of domain {} is not allocated", vcpu, domain.domid);
    else if (error.code == EINVAL && hard && !hard->intersects(host.pool_cpus))
        why = fmt::format("hard mask {} has no online CPU of the domain's cpupool (its CPUs: {})", to_list(*hard),
                          to_list(host.pool_cpus));
    else if (error.code == EBUSY)
        why = "the hypervisor has pinned it temporarily (--force overrides)";
    return fmt::format("vCPU {}: {}{}", vcpu, verdict(error.code), why.empty() ? "" : ": " + why);
}

std::string explain_node_affinity_refusal(const Topology& topology, int domid, const NodeSet& nodes,
                                          const Error& error) {
    std::string why;
    if (error.code == EINVAL && !nodes.intersects(topology.all_nodes()))
        why = fmt::format(": nodes {} are not online (online nodes: {})", to_list(nodes), to_list(topology.all_nodes()));
    else if (error.code == ESRCH)
        why = fmt::format(": domain {} does not exist", domid);
    return verdict(error.code) + why;
}

std::string rollback_text(const CpuSet& restored, const CpuSet& not_restored) {
    std::string text;
    if (!restored.empty()) text += fmt::format("; vCPUs {} restored to their previous masks", to_list(restored));
    if (!not_restored.empty())
        text += fmt::format("; vCPUs {} could NOT be restored and keep the new masks", to_list(not_restored));
    return text;
}

}  // namespace affine::xen
