// Where a Topology comes from: the live Linux host, a synthetic spec, a host file,
// or a description in hwloc's formats.
#pragma once

#include <string>
#include <string_view>

#include "affine/error.hpp"
#include "affine/topology.hpp"

namespace affine {

// Reads the topology of a Linux host from sysfs and procfs under `root` ("/" for the
// live host; a captured tree for tests). Allowed CPUs/nodes are those of the calling
// process (proc/self/status under `root`). Reads live system state.
Result<Topology> read_linux_topology(const std::string& root = "/");

// Builds a host from a synthetic spec
//   nodes=N,cores=C[,sockets=S][,smt=T][,mem=SIZE][,dist=D][,sdist=E][,slow=SIZE][,slowdist=F]
// N nodes spread evenly over S sockets (default S = N, so N must be a multiple of
// S), C physical cores per node, T threads per core (default 1), SIZE memory per
// node (default 4G, all free). Distances: 10 within a node, E between nodes of one
// socket (default (10 + D) / 2 rounded up: 16 for D = 21), D between sockets
// (default 21). CPUs are numbered node by node, core by core, thread by thread.
// slow=SIZE adds per socket a CPU-less node of SIZE memory (CXL-like), numbered
// after the others, in a lower memory tier (5; the CPU nodes are then in tier 4,
// the kernel's id for DRAM): distance F from the nodes of its socket (default D),
// F + D - 10 from the other sockets' nodes, D between two of them. No HMAT figures.
Result<Topology> synthetic_topology(std::string_view spec);

// Reads a host file: the JSON `affine topo --json` prints. Only the contract fields
// are required (cpus: id, online, node, core, package; nodes: id, cpus,
// memory_total_bytes, memory_free_bytes, distances); the rest defaults sensibly.
// Usage error, naming the field, when the file is malformed or inconsistent.
Result<Topology> topology_from_json(std::string_view json_text, const std::string& source);

// The JSON of `affine topo --json` (pretty-printed, stable field order).
std::string topology_to_json(const Topology& topology);

// Reads a host described for hwloc: `what` is an hwloc synthetic description
// ("node:2 core:4 pu:2") or the path of an hwloc XML file. Uses libhwloc.
Result<Topology> hwloc_topology(std::string_view what);

// Selects the host source named by `--host`:
//   "live" (or empty)   read_linux_topology("/")
//   "hwloc:DESC|FILE"   hwloc_topology(DESC|FILE)
//   a path to a file    topology_from_json(contents)
//   a directory         read_linux_topology(dir): a captured sys/ and proc/ tree
//   "key=value,..."     synthetic_topology(spec)
// Reads live system state or files as the spec says.
Result<Topology> load_host(std::string_view spec);

}  // namespace affine
