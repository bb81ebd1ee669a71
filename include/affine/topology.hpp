// The host as a value: CPUs, NUMA nodes, memory, distances, and what the caller may use.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/id_set.hpp"

namespace affine {

struct Cpu {
    int id = 0;
    bool online = true;
    // Host-wide physical core number: CPUs that share a core (SMT threads) share it.
    // Numbered in order of each core's lowest CPU, as lscpu does; -1 when unknown
    // (Linux removes the topology of an offline CPU).
    int core = 0;
    int package = 0;  // socket (physical package id); -1 when unknown
    // The die within its package (Linux's die_id, per package); nullopt where the
    // platform has none.
    std::optional<int> die;
    int node = 0;  // NUMA node the CPU belongs to; -1 only for an offline CPU of unknown node
    // Host-wide number of the level-3 cache the CPU shares with others, numbered in
    // order of each cache's lowest CPU (as `core`); nullopt when the host shows none.
    std::optional<int> l3 = std::nullopt;
};

// The levels of the CPU hierarchy the set grammar names (core:N, socket:N, die:N, l3:N).
enum class Level { core, package, die, l3 };

struct Node {
    int id = 0;
    CpuSet cpus;  // every CPU of the node, online or not
    std::uint64_t memory_total_bytes = 0;
    std::uint64_t memory_free_bytes = 0;
    // Distance from this node to each node id (10 = local, as in the ACPI SLIT).
    std::map<int, int> distances;

    [[nodiscard]] bool has_cpus() const { return !cpus.empty(); }
    [[nodiscard]] bool has_memory() const { return memory_total_bytes > 0; }
};

// A host's topology. CPUs are sorted by id and nodes by id; node ids may be sparse.
struct Topology {
    std::vector<Cpu> cpus;
    std::vector<Node> nodes;
    CpuSet allowed_cpus;    // the caller's Cpus_allowed_list (all online CPUs for a described host)
    NodeSet allowed_nodes;  // the caller's Mems_allowed_list (all nodes for a described host)
    std::optional<bool> numa_balancing;  // automatic NUMA balancing; nullopt when unknown
    std::string source;                  // where it was read from: "live", a file, a spec

    [[nodiscard]] const Cpu* cpu(int id) const;
    [[nodiscard]] const Node* node(int id) const;
    [[nodiscard]] CpuSet all_cpus() const;
    [[nodiscard]] CpuSet online_cpus() const;
    [[nodiscard]] NodeSet all_nodes() const;
    [[nodiscard]] NodeSet nodes_with_memory() const;
    // The CPUs of the given nodes (online or not).
    [[nodiscard]] CpuSet cpus_of(const NodeSet& nodes) const;
    // The nodes that hold at least one of the given CPUs.
    [[nodiscard]] NodeSet nodes_of(const CpuSet& cpus) const;
    // Distance between two nodes; 10 for a node with itself when the table is silent.
    [[nodiscard]] int distance(int from, int to) const;
    // Physical cores of a node: its CPUs with a known core, grouped by core.
    [[nodiscard]] std::vector<CpuSet> cores_of(int node) const;
    // The CPU groups of a level, in hwloc's logical order: the order of a depth-first
    // walk of the CPU tree (packages, dies, NUMA nodes, L3 caches, cores) whose
    // children are sorted by their lowest CPU. So `core:1` is hwloc-calc's core:1, the
    // second core of the first package, also where CPU ids alternate between
    // packages. Online CPUs only (offline ones have no known place). Dies are groups
    // only where a package holds more than one, as hwloc shows them.
    [[nodiscard]] std::vector<CpuSet> groups(Level level) const;
    // Largest CPU id + 1 (the size a CPU mask must cover).
    [[nodiscard]] int cpu_id_limit() const;
    [[nodiscard]] int node_id_limit() const;

    friend bool operator==(const Topology&, const Topology&) = default;
};

// Where a CPU sits, by the indexes the set grammar's location terms use: CPU `cpu`
// is in socket:`socket`, die:`die`, core:`core` and l3:`l3`. nullopt where the CPU
// has no such group (offline, or the host shows none).
struct CpuPlace {
    int cpu = 0;
    bool online = true;
    int node = 0;  // the kernel's node id, as node:N; -1 when unknown
    std::optional<int> socket = std::nullopt, die = std::nullopt, core = std::nullopt, l3 = std::nullopt;
};

// Every CPU's place, in CPU id order (the rows of `affine topo --cpus`).
std::vector<CpuPlace> cpu_places(const Topology& topology);

// Checks what every host source must hold and sorts CPUs and nodes by id; every
// source (sysfs, captured roots, host files, synthetic specs, hwloc, Xen, the
// simulated host's state) returns its Topology through it, so no other code meets
// a bad id. Holds: CPU and node ids in 0..max_id, each once; a CPU's node is a node
// of the host, or -1 (unknown) for an offline CPU; each node lists exactly the CPUs
// that name it; core, package, die and l3 are in 0..max_id or unknown (-1/nullopt);
// distances name nodes of the host and are not negative. `what` names the source in
// the error ("host file h.json"); `kind` is usage for what the user wrote, failed for
// what the system reported.
Result<Topology> checked_topology(Topology t, std::string_view what, ErrorKind kind = ErrorKind::usage);

// Refuses, before any system call sees them, CPUs the kernel would drop silently or
// refuse: a usage error for an empty set or CPUs the host does not have, a failure
// (EINVAL) for offline ones, each naming what the host has.
Result<void> check_cpus_usable(const Topology& host, const CpuSet& cpus);

bool operator==(const Cpu&, const Cpu&);
bool operator==(const Node&, const Node&);

}  // namespace affine
