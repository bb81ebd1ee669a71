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
    // platform has none or the package holds one die (checked_topology).
    std::optional<int> die;
    int node = 0;  // NUMA node the CPU belongs to; -1 only for an offline CPU of unknown node
    // Host-wide number of the level-3 cache the CPU shares with others, numbered in
    // order of each cache's lowest CPU (as `core`); nullopt when the host shows none.
    std::optional<int> l3 = std::nullopt;
};

// The levels of the CPU hierarchy the set grammar names (core:N, socket:N, die:N, l3:N).
enum class Level { core, package, die, l3 };

// One of Linux's access classes of a memory node (nodeN/accessC/initiators/, from
// ACPI HMAT): how fast the node's memory is from its nearest initiators. Class 0
// names the nearest initiators of any kind (CPUs or devices), class 1 the nearest
// nodes with CPUs. A figure the firmware does not give is nullopt, never a guess.
struct MemoryAccess {
    int access_class = 0;
    NodeSet initiators;  // the initiator nodes the figures hold for
    std::optional<std::uint64_t> read_bandwidth_mbps = std::nullopt;   // MB/s
    std::optional<std::uint64_t> write_bandwidth_mbps = std::nullopt;  // MB/s
    std::optional<std::uint64_t> read_latency_ns = std::nullopt;
    std::optional<std::uint64_t> write_latency_ns = std::nullopt;

    friend bool operator==(const MemoryAccess&, const MemoryAccess&) = default;
};

// The kernel's numbers for a memory-side cache's indexing and write policy
// (memory_side_cache/indexN/indexing, write_policy), named; `unknown` where the
// source does not say (a missing file; hwloc keeps no write policy, and of the
// indexing only whether the cache is direct-mapped).
enum class CacheIndexing { direct_mapped = 0, indexed = 1, other = 2, unknown };
enum class CacheWritePolicy { write_back = 0, write_through = 1, other = 2, unknown };

// A cache in front of a node's memory (nodeN/memory_side_cache/indexL: level L).
struct MemorySideCache {
    int level = 1;
    std::uint64_t size_bytes = 0;
    std::uint64_t line_bytes = 0;
    CacheIndexing indexing = CacheIndexing::unknown;
    CacheWritePolicy write_policy = CacheWritePolicy::unknown;

    friend bool operator==(const MemorySideCache&, const MemorySideCache&) = default;
};

// "direct-mapped", "indexed", "other", "unknown"; "write-back", "write-through",
// "other", "unknown".
std::string_view to_string(CacheIndexing indexing);
std::string_view to_string(CacheWritePolicy policy);
// The names above back to values; nullopt for any other text.
std::optional<CacheIndexing> cache_indexing_named(std::string_view name);
std::optional<CacheWritePolicy> cache_write_policy_named(std::string_view name);

struct Node {
    int id = 0;
    CpuSet cpus;  // every CPU of the node, online or not
    std::uint64_t memory_total_bytes = 0;
    std::uint64_t memory_free_bytes = 0;
    // Distance from this node to each node id (10 = local, as in the ACPI SLIT).
    std::map<int, int> distances;
    // The kernel's memory tier of the node: N of memory_tierN (an abstract-distance
    // chunk, not a rank: a lower id is faster memory). nullopt when unknown.
    std::optional<int> memory_tier = std::nullopt;
    // HMAT's access classes of the node's memory, by class; empty without HMAT.
    std::vector<MemoryAccess> access;
    // Its memory-side caches, by level; empty when none is described.
    std::vector<MemorySideCache> memory_side_caches;

    [[nodiscard]] bool has_cpus() const { return !cpus.empty(); }
    [[nodiscard]] bool has_memory() const { return memory_total_bytes > 0; }
    // The figures for reaching this node from node `initiator`: the CPU class (1)
    // when it names the initiator, else class 0; nullptr when neither does.
    [[nodiscard]] const MemoryAccess* access_from(int initiator) const;
};

// A memory tier as the kernel made it: its id (memory_tierN) and its nodes.
struct MemoryTier {
    int id = 0;
    NodeSet nodes;

    friend bool operator==(const MemoryTier&, const MemoryTier&) = default;
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
    // The memory tiers of the nodes, fastest first (lowest id first); empty when the
    // host shows none.
    [[nodiscard]] std::vector<MemoryTier> memory_tiers() const;
    // The nodes of the fastest tier that holds memory; every node when the host
    // shows no tiers.
    [[nodiscard]] NodeSet top_tier_nodes() const;
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
// distances name nodes of the host and are not negative; memory tiers are ids from
// 0 to max_id; access classes are 0 or 1, each once, their initiators nodes of the
// host; memory-side cache levels are 1 or more, each once. Clears the die of a CPU
// whose package holds no other die (Linux's die_id 0 on a host without dies is no
// die; hwloc shows none either). `what` names the source in
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
