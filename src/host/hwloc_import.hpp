// Conversion of an hwloc topology into affine's Topology (internal: hwloc types
// never appear in the public headers).
#pragma once

#include <hwloc.h>

#include <string>

#include "affine/topology.hpp"

namespace affine::detail {

// Converts a loaded hwloc topology. hwloc knows no free memory: every node's
// memory is reported free. Without a distance matrix, distances are 10 within a
// node and 20 between nodes (the Linux kernel's defaults when firmware gives none).
// Usage error when an index is out of affine's range (checked_topology).
Result<Topology> topology_from_hwloc(hwloc_topology_t topology, const std::string& source);

}  // namespace affine::detail
