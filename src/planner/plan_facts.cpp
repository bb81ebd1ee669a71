#include "plan_facts.hpp"

#include <algorithm>
#include <map>

namespace affine::planner {

std::vector<int> distance_matrix_of(const Topology& t) {
    std::size_t n = t.nodes.size();
    std::vector<int> matrix(n * n, 20);
    for (std::size_t i = 0; i < n; ++i) {
        const Node& from = t.nodes[i];
        // Both the distance map and the nodes are sorted by id: walk them together.
        auto it = from.distances.begin();
        for (std::size_t j = 0; j < n; ++j) {
            int to = t.nodes[j].id;
            while (it != from.distances.end() && it->first < to) ++it;
            if (it != from.distances.end() && it->first == to) matrix[i * n + j] = it->second;
            else matrix[i * n + j] = i == j ? 10 : 20;  // as Topology::distance
        }
    }
    return matrix;
}

HostFacts::HostFacts(const PlacementHost& host, const PlacementRequest& request) : topology_(host.topology) {
    const Topology& t = host.topology;
    if (host.distance_matrix.size() == t.nodes.size() * t.nodes.size()) cached_ = &host.distance_matrix;
    nodes_.reserve(t.nodes.size());
    std::vector<int> index_of(static_cast<std::size_t>(t.node_id_limit()), -1);
    for (const Node& n : t.nodes) {
        index_of[static_cast<std::size_t>(n.id)] = static_cast<int>(nodes_.size());
        NodeFacts f;
        f.id = n.id;
        f.free = t.allowed_nodes.contains(n.id) ? n.memory_free_bytes : 0;
        f.total = t.allowed_nodes.contains(n.id) ? n.memory_total_bytes : 0;
        if (auto it = host.vcpus_per_node.find(n.id); it != host.vcpus_per_node.end()) f.vcpus = it->second;
        if (auto it = request.resident_bytes_per_node.find(n.id); it != request.resident_bytes_per_node.end())
            f.resident = it->second;
        f.self_distance = t.distance(n.id, n.id);
        nodes_.push_back(f);
    }
    // One pass over the CPUs: usable CPUs per node, and whole cores (a core counts
    // only when every one of its CPUs is usable).
    struct CoreState {
        int node_index = -1;
        bool whole = true;
    };
    int max_core = -1;
    for (const Cpu& c : t.cpus) max_core = std::max(max_core, c.core);
    std::vector<CoreState> cores(static_cast<std::size_t>(std::min(max_core + 1, 1 << 22)));
    std::map<int, CoreState> far_cores;  // core ids too large for the table (odd host files)
    for (const Cpu& c : t.cpus) {
        bool usable = c.online && t.allowed_cpus.contains(c.id) && !host.reserved.contains(c.id);
        int index = c.node >= 0 && c.node < t.node_id_limit() ? index_of[static_cast<std::size_t>(c.node)] : -1;
        if (usable && index >= 0) {
            nodes_[static_cast<std::size_t>(index)].cpus++;
            usable_.insert(c.id);
        }
        if (c.core < 0) continue;
        CoreState& core = c.core < static_cast<int>(cores.size()) ? cores[static_cast<std::size_t>(c.core)]
                                                                   : far_cores[c.core];
        core.whole = core.whole && usable && index >= 0 && (core.node_index < 0 || core.node_index == index);
        core.node_index = index;
    }
    auto count_core = [&](const CoreState& core) {
        if (core.node_index >= 0 && core.whole) nodes_[static_cast<std::size_t>(core.node_index)].cores++;
    };
    for (const CoreState& core : cores) count_core(core);
    for (const auto& [id, core] : far_cores) count_core(core);
}

std::vector<int> useful_nodes(const HostFacts& facts) {
    std::vector<int> useful;
    for (int i = 0; i < facts.size(); ++i)
        if (facts.node(i).free > 0 || facts.node(i).cpus > 0) useful.push_back(i);
    return useful;
}

}  // namespace affine::planner
