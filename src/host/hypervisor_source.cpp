#include "hypervisor_source.hpp"

#include <fmt/format.h>

#include <string>

#include "xen/sim/sim_hypervisor.hpp"

namespace affine {

Result<std::unique_ptr<xen::Hypervisor>> open_hypervisor(std::string_view spec) {
    if (spec.empty() || spec == "xen") return xen::open_xenctrl();
    if (names_simulated_host(spec)) return xen::open_sim_hypervisor(std::string(spec.substr(4)));
    return usage_error(fmt::format("--host {}: expected xen (this host's hypervisor) or sim:STATEFILE "
                                   "(a simulated host made by `affine xen sim-init`)",
                                   spec));
}

bool names_simulated_host(std::string_view spec) { return spec.starts_with("sim:"); }

}  // namespace affine
