#include <fmt/format.h>

#include "../xen/hypervisor.hpp"
#include "command.hpp"

namespace affine::cli {

std::string version_text() {
    auto xenctrl = xen::loadable_xenctrl();
    std::string xen_line = xenctrl ? fmt::format("Xen: yes ({} loadable; `affine xen` works in dom0 of a Xen host)",
                                                 *xenctrl)
                                   : "Xen: no (libxenctrl.so.4.* not found; `affine xen` needs dom0 of a Xen host)";
    return fmt::format("affine {}\nLinux: yes\n{}", AFFINE_VERSION, xen_line);
}

}  // namespace affine::cli
