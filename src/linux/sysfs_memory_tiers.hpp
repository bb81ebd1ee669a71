// Tiered memory as Linux shows it in sysfs: ACPI HMAT's access classes and
// memory-side caches per node, and the memory tiers the kernel made.
#pragma once

#include "affine/topology.hpp"
#include "sysfs.hpp"

namespace affine::linux_backend {

// Fills each node's memory_tier, access and memory_side_caches from
//   sys/devices/system/node/nodeN/accessC/initiators/{nodeM,read_bandwidth,
//       write_bandwidth,read_latency,write_latency}    (5.2+; MB/s and ns)
//   sys/devices/system/node/nodeN/memory_side_cache/indexL/{size,line_size,
//       indexing,write_policy}
//   sys/devices/virtual/memory_tiering/memory_tierT/nodelist   (6.1+)
// under the root of `fs`. What a kernel does not show stays empty; a figure of 0
// (the kernel's "not given by the firmware") is left out. Reads the file system.
void read_memory_tiers(const SysFs& fs, Topology& topology);

}  // namespace affine::linux_backend
