#include "affine/topology.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "affine/set_grammar.hpp"

namespace affine {

bool operator==(const Cpu& a, const Cpu& b) {
    return a.id == b.id && a.online == b.online && a.core == b.core && a.package == b.package &&
           a.die == b.die && a.node == b.node;
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
        if (wanted.contains(c.id)) s.insert(c.node);
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

int Topology::cpu_id_limit() const { return cpus.empty() ? 0 : cpus.back().id + 1; }

int Topology::node_id_limit() const { return nodes.empty() ? 0 : nodes.back().id + 1; }

}  // namespace affine
