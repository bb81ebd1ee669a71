#include <fmt/format.h>

#include "xen/hypervisor.hpp"
#include "affine/kernel_features.hpp"
#include "command.hpp"

namespace affine::cli {

std::string_view version_number() { return AFFINE_VERSION; }

std::string version_text() {
    KernelFeatures kernel = probe_kernel_features();
    xen::XenctrlFacts xenctrl = xen::xenctrl_facts();
    std::string xen_line =
        xenctrl.loadable
            ? fmt::format("{} loaded (`affine xen` works in dom0 of a Xen host of that release)", xenctrl.built_for)
            : fmt::format("no ({}; `affine xen` needs dom0 of a Xen host)", xenctrl.why_not);
    return fmt::format("affine {}\n"
                       "kernel features, probed now:\n"
                       "  MPOL_PREFERRED_MANY memory policy: {}\n"
                       "  cgroup v2 cpuset: {}\n"
                       "  proc connector (process events): {}\n"
                       "libxenctrl: {}",
                       AFFINE_VERSION, kernel.preferred_many.detail, kernel.cgroup_cpuset.detail,
                       kernel.proc_connector.detail, xen_line);
}

}  // namespace affine::cli
