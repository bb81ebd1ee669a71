// Conversion of an hwloc topology into affine's Topology (internal: hwloc types
// never appear in the public headers).
#pragma once

#include <hwloc.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "affine/topology.hpp"

namespace affine::detail {

// Converts a loaded hwloc topology. hwloc knows no free memory: every node's
// memory is reported free. Without a distance matrix, distances are 10 within a
// node and 20 between nodes (the Linux kernel's defaults when firmware gives none).
// Usage error when an index is out of affine's range (checked_topology).
// Also each node's access figures from hwloc's memory attributes
// (access_from_memattrs) and its memory-side caches (MemCache objects: level, size,
// line; direct-mapped or unknown indexing, unknown write policy, all hwloc keeps).
Result<Topology> topology_from_hwloc(hwloc_topology_t topology, const std::string& source);

// hwloc's memory attributes of one target node from one initiator (a CPU set), as
// hwloc gives them: bandwidth in MiB/s and latency in ns, the units of Linux's
// access files. `bandwidth` and `latency` are hwloc's generic attributes, the mean
// of read and write where both are known. A value hwloc does not hold is nullopt.
struct MemoryAttributeValues {
    CpuSet initiator_cpus;
    std::optional<std::uint64_t> read_bandwidth_mbps = std::nullopt, write_bandwidth_mbps = std::nullopt,
                                 bandwidth_mbps = std::nullopt;
    std::optional<std::uint64_t> read_latency_ns = std::nullopt, write_latency_ns = std::nullopt,
                                 latency_ns = std::nullopt;
};

// A node's access class 1 from hwloc's values (pure). hwloc's Linux backend reads
// access1 (the nearest CPUs), or access0 on kernels before 5.10, which had no other
// initiators than CPUs: either way the figures are class 1's. Class 0 (initiators of
// any kind) is not in hwloc: absent. An initiator is kept only when its CPU set is
// the online CPUs of whole nodes, which become the class's initiators; of several,
// the nearest (lowest read latency, then highest read bandwidth, then the first).
// Read and write figures are hwloc's; where neither direction is given, the generic
// figure is both, as Linux shows an HMAT "access" figure; otherwise the generic one
// adds nothing. nullopt when no initiator qualifies or no figure is left.
std::optional<MemoryAccess> access_from_memattrs(const Topology& t, std::span<const MemoryAttributeValues> values);

}  // namespace affine::detail
