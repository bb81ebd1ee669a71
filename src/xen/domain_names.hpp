// Domains by name, as xl names them: the names are in xenstore
// (/local/domain/N/name), read through libxenstore loaded at run time; the
// simulated host keeps them in its state.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "affine/error.hpp"
#include "hypervisor.hpp"

namespace affine::xen {

// Every domain's name from xenstore, by domid. Failure with one line when
// libxenstore cannot be loaded or xenstored does not answer. Reads live state.
Result<std::map<int, std::string>> read_xenstore_domain_names();

// The domid a command-line argument names, as xl reads it: digits are a domid
// (0-32751), anything else a domain's name. Usage error for a bad domid; failure
// (ESRCH) for a name no domain has, and failure when names cannot be read (no
// xenstore). Reads live state only for a name.
Result<int> resolve_domain(Hypervisor& hv, std::string_view text);

}  // namespace affine::xen
