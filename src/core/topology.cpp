#include "affine/topology.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "affine/set_grammar.hpp"

namespace affine {

bool operator==(const Cpu& a, const Cpu& b) {
    return a.id == b.id && a.online == b.online && a.core == b.core && a.package == b.package &&
           a.die == b.die && a.node == b.node && a.l3 == b.l3;
}

bool operator==(const Node& a, const Node& b) {
    return a.id == b.id && a.cpus == b.cpus && a.memory_total_bytes == b.memory_total_bytes &&
           a.memory_free_bytes == b.memory_free_bytes && a.distances == b.distances;
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
    for (const Node& node : t.nodes) {
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
    }
    return t;
}

int Topology::cpu_id_limit() const { return cpus.empty() ? 0 : cpus.back().id + 1; }

int Topology::node_id_limit() const { return nodes.empty() ? 0 : nodes.back().id + 1; }

}  // namespace affine
