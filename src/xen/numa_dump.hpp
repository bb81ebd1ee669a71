// The hypervisor's NUMA dump (debug key 'u'): where each domain's memory is, the
// only source Xen offers for it. Pure text parsing.
#pragma once

#include <string_view>

#include "hypervisor.hpp"

namespace affine::xen {

// Parses the console text after debug key 'u': the last "Memory location of each
// domain:" block, pages converted to bytes. One pass.
DomainMemory parse_numa_dump(std::string_view console);

}  // namespace affine::xen
