// The factory of the Xen front end: the hypervisor named by `--host`, real or
// simulated. The one place that knows both implementations of xen::Hypervisor.
#pragma once

#include <memory>
#include <string_view>

#include "xen/hypervisor.hpp"
#include "affine/error.hpp"

namespace affine {

// "" or "xen": this host's hypervisor through libxenctrl (xen::open_xenctrl);
// "sim:FILE": the simulated host whose state is FILE (made by `affine xen sim-init`),
// which also offers Hypervisor::simulation(). Usage error for anything else.
Result<std::unique_ptr<xen::Hypervisor>> open_hypervisor(std::string_view spec);

// Whether `spec` names a simulated host, whose hypervisor offers simulation(): the
// simulation commands refuse any other before opening it.
bool names_simulated_host(std::string_view spec);

}  // namespace affine
