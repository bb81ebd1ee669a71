#include <fmt/format.h>

#include "../xen/hypervisor.hpp"
#include "command.hpp"

namespace affine::cli {

std::string version_text() {
    xen::XenctrlFacts xenctrl = xen::xenctrl_facts();
    std::string xen_line =
        xenctrl.loadable
            ? fmt::format("Xen: yes ({} loadable; `affine xen` works in dom0 of a Xen host of that release)",
                          xenctrl.built_for)
            : fmt::format("Xen: no ({}; `affine xen` needs dom0 of a Xen host)", xenctrl.why_not);
    return fmt::format("affine {}\nLinux: yes\n{}", AFFINE_VERSION, xen_line);
}

}  // namespace affine::cli
