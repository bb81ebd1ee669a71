// The Linux topology reader over the SysFs seam: what read_linux_topology(root)
// (affine/host.hpp) does, for a SysFs the caller made (a test records its reads).
#pragma once

#include "affine/error.hpp"
#include "affine/topology.hpp"
#include "sysfs.hpp"

namespace affine::linux_backend {

// Reads the CPUs, their packages, dies, cores and L3 caches, the nodes with their
// memory and distances, and the memory tiers under the root of `fs`. Each core's
// topology files and each L3's cache files are read once, from its first CPU.
Result<Topology> read_topology(const SysFs& fs);

}  // namespace affine::linux_backend
