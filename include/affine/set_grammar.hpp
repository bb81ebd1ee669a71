// The one grammar for CPU and node sets, and the forms sets are printed in.
//
//   list  := term ("," term)*          applied left to right
//   term  := "^" atom | atom            "^" removes the atom from what came before
//   atom  := N | A-B | A-B:S | all | LOC:N | LOC:A-B[:S]
//   LOC   := node | nodes | core | cores | socket | sockets | package | packages
//          | die | dies | l3 | l3s | pu | pus | numa | numas
//   or the whole text a hex mask: 0x... optionally in the kernel's 32-bit comma
//   groups (0xff,ffffffff); bit 0 is id 0.
//
// In a CPU set, numbers are CPU ids and node:/nodes: name the CPUs of those nodes;
// in a node set, numbers and node:/nodes: both name node ids. node:N is the kernel's
// node id. core:N, socket:N (= package:N), die:N and l3:N are hwloc's logical
// indexes, as hwloc-calc reads them: the N-th such group in the host's topology
// order (Topology::groups), not the ids the kernel prints; they name the group's
// online CPUs (in a node set: the nodes holding them). pu:N and numa:N are hwloc's
// names: the N-th online CPU in hwloc's logical order (core by core) and the N-th
// node with memory (in the order of their first CPU, then those without CPUs). `all` is every CPU (or node)
// of the host. Every id must exist on the host: nothing is dropped.
#pragma once

#include <string>
#include <string_view>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/topology.hpp"

namespace affine {

// Parses `text` as a CPU set of `host`. Usage error naming the column and what was
// expected, or the id that does not exist and what does; an empty result is an error.
Result<CpuSet> parse_cpu_set(std::string_view text, const Topology& host);

// Parses `text` as a node set of `host`; same rules as parse_cpu_set.
Result<NodeSet> parse_node_set(std::string_view text, const Topology& host);

// Parses a classic affinity bit mask, decimal ("3") or hex ("0x3", also in 32-bit
// comma groups): bit i is CPU i. Does not check the CPUs against a host.
Result<CpuSet> parse_cpu_mask(std::string_view text);

// Parses a list as the kernel prints it ("0-3,8-11", trailing newline allowed; an
// empty text is the empty set), without a host: ids are not checked. Use
// IdSet::from_words to turn the result into a NodeSet.
Result<CpuSet> parse_id_list(std::string_view text);

// Compact list with ranges: "0-3,8-11"; "" for the empty set.
template <typename Tag>
std::string to_list(const IdSet<Tag>& set);

// taskset-style hex mask: "0xf0f"; "0x0" for the empty set.
template <typename Tag>
std::string to_hex(const IdSet<Tag>& set);

// The kernel's form (as in /proc/PID/status Cpus_allowed): 32-bit groups of hex
// digits separated by commas, high group first, covering at least `bits` ids:
// "ff,ffffffff".
template <typename Tag>
std::string to_kernel_mask(const IdSet<Tag>& set, int bits = 0);

}  // namespace affine
