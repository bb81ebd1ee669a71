#include "affine/topology.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>

#include "affine/set_grammar.hpp"

namespace affine {

bool operator==(const Cpu& a, const Cpu& b) {
    return a.id == b.id && a.online == b.online && a.core == b.core && a.package == b.package &&
           a.die == b.die && a.node == b.node && a.l3 == b.l3;
}

bool operator==(const Node& a, const Node& b) {
    return a.id == b.id && a.cpus == b.cpus && a.memory_total_bytes == b.memory_total_bytes &&
           a.memory_free_bytes == b.memory_free_bytes && a.distances == b.distances &&
           a.memory_tier == b.memory_tier && a.access == b.access && a.memory_side_caches == b.memory_side_caches;
}

std::string_view to_string(CacheIndexing indexing) {
    switch (indexing) {
    case CacheIndexing::direct_mapped: return "direct-mapped";
    case CacheIndexing::indexed: return "indexed";
    case CacheIndexing::other: return "other";
    case CacheIndexing::unknown: break;
    }
    return "unknown";
}

std::string_view to_string(CacheWritePolicy policy) {
    switch (policy) {
    case CacheWritePolicy::write_back: return "write-back";
    case CacheWritePolicy::write_through: return "write-through";
    case CacheWritePolicy::other: return "other";
    case CacheWritePolicy::unknown: break;
    }
    return "unknown";
}

std::optional<CacheIndexing> cache_indexing_named(std::string_view name) {
    for (auto v : {CacheIndexing::direct_mapped, CacheIndexing::indexed, CacheIndexing::other, CacheIndexing::unknown})
        if (to_string(v) == name) return v;
    return std::nullopt;
}

std::optional<CacheWritePolicy> cache_write_policy_named(std::string_view name) {
    for (auto v : {CacheWritePolicy::write_back, CacheWritePolicy::write_through, CacheWritePolicy::other,
                   CacheWritePolicy::unknown})
        if (to_string(v) == name) return v;
    return std::nullopt;
}

const MemoryAccess* Node::access_from(int initiator) const {
    for (int wanted : {1, 0})
        for (const MemoryAccess& a : access)
            if (a.access_class == wanted && a.initiators.contains(initiator)) return &a;
    return nullptr;
}

const Cpu* Topology::cpu(int id) const {
    auto it = std::lower_bound(cpus.begin(), cpus.end(), id,
                               [](const Cpu& c, int v) { return c.id < v; });
    return it != cpus.end() && it->id == id ? &*it : nullptr;
}

const Node* Topology::node(int id) const {
    auto it = std::lower_bound(nodes.begin(), nodes.end(), id,
                               [](const Node& n, int v) { return n.id < v; });
    return it != nodes.end() && it->id == id ? &*it : nullptr;
}

CpuSet Topology::all_cpus() const {
    CpuSet s;
    for (const auto& c : cpus) s.insert(c.id);
    return s;
}

CpuSet Topology::online_cpus() const {
    CpuSet s;
    for (const auto& c : cpus)
        if (c.online) s.insert(c.id);
    return s;
}

NodeSet Topology::all_nodes() const {
    NodeSet s;
    for (const auto& n : nodes) s.insert(n.id);
    return s;
}

NodeSet Topology::nodes_with_memory() const {
    NodeSet s;
    for (const auto& n : nodes)
        if (n.has_memory()) s.insert(n.id);
    return s;
}

CpuSet Topology::cpus_of(const NodeSet& wanted) const {
    CpuSet s;
    for (const auto& n : nodes)
        if (wanted.contains(n.id)) s |= n.cpus;
    return s;
}

NodeSet Topology::nodes_of(const CpuSet& wanted) const {
    NodeSet s;
    for (const auto& c : cpus)
        if (c.node >= 0 && wanted.contains(c.id)) s.insert(c.node);
    return s;
}

int Topology::distance(int from, int to) const {
    if (const Node* n = node(from)) {
        if (auto it = n->distances.find(to); it != n->distances.end()) return it->second;
    }
    return from == to ? 10 : 20;
}

std::vector<MemoryTier> Topology::memory_tiers() const {
    std::map<int, NodeSet> tiers;
    for (const Node& n : nodes)
        if (n.memory_tier) tiers[*n.memory_tier].insert(n.id);
    std::vector<MemoryTier> out;
    for (auto& [id, members] : tiers) out.push_back({id, std::move(members)});
    return out;
}

NodeSet Topology::top_tier_nodes() const {
    for (const MemoryTier& tier : memory_tiers()) {
        // A tier of memory-less nodes only would hold no memory to place.
        for (int id : tier.nodes)
            if (node(id)->has_memory()) return tier.nodes;
    }
    return all_nodes();
}

std::vector<CpuSet> Topology::cores_of(int node_id) const {
    std::map<int, CpuSet> groups;
    for (const auto& c : cpus)
        if (c.node == node_id && c.core >= 0) groups[c.core].insert(c.id);
    std::vector<CpuSet> cores;
    cores.reserve(groups.size());
    for (auto& [key, set] : groups) cores.push_back(std::move(set));
    return cores;
}

Result<void> check_cpus_usable(const Topology& host, const CpuSet& cpus) {
    if (cpus.empty()) return usage_error("the CPU set is empty");
    CpuSet missing = cpus - host.all_cpus();
    if (!missing.empty())
        return usage_error(fmt::format("CPU {} does not exist on this host (CPUs: {})", to_list(missing),
                                       to_list(host.all_cpus())));
    CpuSet offline = cpus - host.online_cpus();
    if (!offline.empty())
        return failure(fmt::format("CPU {} is offline (online: {})", to_list(offline), to_list(host.online_cpus())),
                       EINVAL);
    return {};
}

Result<Topology> checked_topology(Topology t, std::string_view what, ErrorKind kind) {
    auto bad = [&](const std::string& where, const std::string& why) {
        return std::unexpected(Error{kind, fmt::format("{}: {}: {}", what, where, why), 0});
    };
    auto in_range = [](int id) { return id >= 0 && id <= max_id; };
    const std::string allowed = fmt::format("ids are 0 to {}", max_id);
    std::ranges::sort(t.cpus, {}, &Cpu::id);
    std::ranges::sort(t.nodes, {}, &Node::id);
    for (std::size_t i = 0; i < t.cpus.size(); ++i) {
        const Cpu& c = t.cpus[i];
        std::string where = fmt::format("CPU {}", c.id);
        if (!in_range(c.id)) return bad(where, fmt::format("id out of range ({})", allowed));
        if (i > 0 && t.cpus[i - 1].id == c.id) return bad(where, "listed twice");
        for (auto [name, value] : {std::pair{"core", c.core}, {"package", c.package}})
            if (value != -1 && !in_range(value))
                return bad(where, fmt::format("{} {} out of range ({}, or -1 when unknown)", name, value, allowed));
        for (auto [name, value] : {std::pair{"die", c.die}, {"l3", c.l3}})
            if (value && !in_range(*value))
                return bad(where, fmt::format("{} {} out of range ({})", name, *value, allowed));
    }
    for (std::size_t i = 0; i < t.nodes.size(); ++i) {
        std::string where = fmt::format("node {}", t.nodes[i].id);
        if (!in_range(t.nodes[i].id)) return bad(where, fmt::format("id out of range ({})", allowed));
        if (i > 0 && t.nodes[i - 1].id == t.nodes[i].id) return bad(where, "listed twice");
        for (const auto& [to, distance] : t.nodes[i].distances)
            if (!in_range(to)) return bad(where, fmt::format("distance to node {}: id out of range ({})", to, allowed));
    }
    // The two views of CPU-to-node must agree, or plans would be built on sand.
    for (const Cpu& c : t.cpus) {
        if (c.node == -1 && !c.online) continue;  // an offline CPU the kernel no longer places
        const Node* node = t.node(c.node);
        if (node == nullptr)
            return bad(fmt::format("CPU {}", c.id), fmt::format("its node {} is not a node of the host (nodes: {})", c.node,
                                                              t.nodes.empty() ? "none" : to_list(t.all_nodes())));
        if (!node->cpus.contains(c.id))
            return bad(fmt::format("node {}.cpus", node->id),
                       fmt::format("does not list CPU {}, whose node is {}", c.id, c.node));
    }
    for (Node& node : t.nodes) {
        for (int cpu : node.cpus) {
            const Cpu* c = t.cpu(cpu);
            if (c == nullptr || c->node != node.id)
                return bad(fmt::format("node {}.cpus", node.id),
                           fmt::format("lists CPU {}, which is not one of its CPUs", cpu));
        }
        for (const auto& [to, d] : node.distances) {
            if (t.node(to) == nullptr)
                return bad(fmt::format("node {}.distances", node.id), fmt::format("names unknown node {}", to));
            if (d < 0) return bad(fmt::format("node {}.distances", node.id), fmt::format("negative distance {}", d));
        }
        std::string where = fmt::format("node {}", node.id);
        if (node.memory_tier && !in_range(*node.memory_tier))
            return bad(where, fmt::format("memory tier {} out of range ({})", *node.memory_tier, allowed));
        std::set<int> classes;
        for (const MemoryAccess& a : node.access) {
            if (a.access_class != 0 && a.access_class != 1)
                return bad(where, fmt::format("access class {}: classes are 0 and 1", a.access_class));
            if (!classes.insert(a.access_class).second)
                return bad(where, fmt::format("access class {} listed twice", a.access_class));
            NodeSet unknown = a.initiators - t.all_nodes();
            if (!unknown.empty())
                return bad(where, fmt::format("access class {}: initiator {} is not a node of the host",
                                              a.access_class, to_list(unknown)));
        }
        std::set<int> levels;
        for (const MemorySideCache& c : node.memory_side_caches) {
            if (c.level < 1 || c.level > max_id)
                return bad(where, fmt::format("memory-side cache level {} out of range (1 to {})", c.level, max_id));
            if (!levels.insert(c.level).second)
                return bad(where, fmt::format("memory-side cache level {} listed twice", c.level));
        }
        std::ranges::sort(node.access, {}, &MemoryAccess::access_class);
        std::ranges::sort(node.memory_side_caches, {}, &MemorySideCache::level);
    }
    // A die that is its whole package is no level of its own (hwloc's rule): Linux
    // gives every CPU a die_id, 0 on hosts without dies, which must not read as a die.
    std::map<int, std::set<int>> dies_of_package;
    for (const Cpu& c : t.cpus)
        if (c.die) dies_of_package[c.package].insert(*c.die);
    for (Cpu& c : t.cpus)
        if (c.die && dies_of_package[c.package].size() < 2) c.die.reset();
    return t;
}

int Topology::cpu_id_limit() const { return cpus.empty() ? 0 : cpus.back().id + 1; }

int Topology::node_id_limit() const { return nodes.empty() ? 0 : nodes.back().id + 1; }

}  // namespace affine
