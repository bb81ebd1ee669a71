#include "harness.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace bench {
namespace {

// Splits `bytes` over `nodes` equally, capped by free memory (what is left over is
// re-split over the nodes with room): the Xen allocator's round-robin over a
// domain's node affinity. Returns what did not fit.
std::uint64_t split_equally(std::uint64_t bytes, const std::vector<int>& nodes, const std::map<int, std::uint64_t>& free,
                            std::map<int, std::uint64_t>& out) {
    std::vector<int> open;
    for (int n : nodes)
        if (free.at(n) > out[n]) open.push_back(n);
    while (bytes > 0 && !open.empty()) {
        std::uint64_t share = std::max<std::uint64_t>(1, bytes / open.size());
        std::vector<int> still;
        for (int n : open) {
            std::uint64_t give = std::min({share, free.at(n) - out[n], bytes});
            out[n] += give;
            bytes -= give;
            if (free.at(n) > out[n]) still.push_back(n);
        }
        open = std::move(still);
    }
    return bytes;
}

// Striped over every node in proportion to its free memory (no node affinity).
void stripe(std::uint64_t bytes, const std::map<int, std::uint64_t>& free, std::map<int, std::uint64_t>& out) {
    std::uint64_t total = 0;
    for (const auto& [n, f] : free) total += f - std::min(f, out[n]);
    if (total == 0) return;
    std::uint64_t left = bytes;
    for (const auto& [n, f] : free) {
        std::uint64_t room = f - std::min(f, out[n]);
        auto give = static_cast<std::uint64_t>(static_cast<long double>(bytes) * room / total);
        give = std::min({give, room, left});
        out[n] += give;
        left -= give;
    }
    for (const auto& [n, f] : free) {
        std::uint64_t give = std::min(f - std::min(f, out[n]), left);
        out[n] += give;
        left -= give;
    }
}

}  // namespace

Figures run_scenario(const HostState& initial, const std::vector<Vm>& vms, Placer& placer) {
    HostState host = initial;
    Figures f;
    f.vms = static_cast<int>(vms.size());
    placer.start(host, f.note);

    const affine::Topology& t = host.topology;
    affine::CpuSet usable = (t.online_cpus() & t.allowed_cpus) - host.reserved;
    std::map<int, int> usable_per_node;
    for (const affine::Node& n : t.nodes) usable_per_node[n.id] = (n.cpus & usable).count();
    std::map<int, std::size_t> index;
    for (const affine::Node& n : t.nodes) index[n.id] = index.size();
    std::vector<int> distance(t.nodes.size() * t.nodes.size());
    for (const affine::Node& a : t.nodes)
        for (const affine::Node& b : t.nodes) distance[index[a.id] * t.nodes.size() + index[b.id]] = t.distance(a.id, b.id);

    double seconds = 0;
    double distance_sum = 0;
    for (const Vm& vm : vms) {
        auto begin = std::chrono::steady_clock::now();
        Decision d = placer.decide(host, vm);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();

        std::map<int, std::uint64_t> free;
        std::uint64_t host_free = 0;
        for (const affine::Node& n : host.topology.nodes) {
            free[n.id] = t.allowed_nodes.contains(n.id) ? n.memory_free_bytes : 0;
            host_free += free[n.id];
        }
        if (host_free < vm.memory_bytes || d.kind == Decision::Kind::refused) continue;
        ++f.started;

        std::map<int, std::uint64_t> memory;
        std::vector<int> cpu_nodes;
        if (d.kind == Decision::Kind::placed) {
            ++f.placed;
            if (d.nodes.count() == 1) ++f.one_node;
            if (!d.memory_per_node.empty()) {
                memory = d.memory_per_node;
                for (const auto& [n, bytes] : memory)
                    if (bytes > free[n]) {
                        std::fprintf(stderr, "%s over-commits node %d\n", placer.name().c_str(), n);
                        std::exit(1);
                    }
            } else {
                std::uint64_t left = split_equally(vm.memory_bytes, d.nodes.ids(), free, memory);
                if (left > 0) stripe(left, free, memory);  // spill, as the allocator would
            }
            for (int n : d.nodes)
                if (usable_per_node[n] > 0) cpu_nodes.push_back(n);
        } else {
            stripe(vm.memory_bytes, free, memory);
        }
        if (cpu_nodes.empty())
            for (const auto& [n, c] : usable_per_node)
                if (c > 0) cpu_nodes.push_back(n);

        // vCPUs spread over the usable CPUs they may run on.
        double cpus = 0;
        for (int n : cpu_nodes) cpus += usable_per_node[n];
        for (int n : cpu_nodes) host.vcpus_per_node[n] += vm.vcpus * usable_per_node[n] / cpus;
        std::vector<int> span = cpu_nodes;
        for (auto& node : host.topology.nodes) {
            std::uint64_t bytes = memory.contains(node.id) ? memory[node.id] : 0;
            node.memory_free_bytes -= std::min(node.memory_free_bytes, bytes);
            if (bytes > 0 && std::ranges::find(span, node.id) == span.end()) span.push_back(node.id);
        }
        int worst = 0;
        for (int a : span)
            for (int b : span) worst = std::max(worst, distance[index[a] * t.nodes.size() + index[b]]);
        distance_sum += worst;
        f.worst_distance = std::max(f.worst_distance, worst);
    }
    f.mean_distance = f.started > 0 ? distance_sum / f.started : 0;
    f.micros_per_plan = vms.empty() ? 0 : seconds * 1e6 / static_cast<double>(vms.size());
    double lowest = 1;
    double highest = 0;
    for (const affine::Node& n : host.topology.nodes) {
        if (usable_per_node[n.id] > 0)
            f.worst_overcommit = std::max(f.worst_overcommit, host.vcpus_per_node[n.id] / usable_per_node[n.id]);
        if (n.memory_total_bytes == 0) continue;
        double share = static_cast<double>(n.memory_free_bytes) / static_cast<double>(n.memory_total_bytes);
        lowest = std::min(lowest, share);
        highest = std::max(highest, share);
    }
    f.memory_imbalance = highest >= lowest ? 100 * (highest - lowest) : 0;
    return f;
}

}  // namespace bench
