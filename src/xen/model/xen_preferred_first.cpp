#include "affine/xen_preferred_first.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "affine/size.hpp"

namespace affine::xen {
namespace {

constexpr std::uint64_t mib = 1ULL << 20;

std::uint64_t free_bytes(const Topology& topology, int node) {
    const Node* n = topology.node(node);
    if (n == nullptr || !topology.allowed_nodes.contains(node)) return 0;
    return n->memory_free_bytes;
}

// What a node can give the domain: its free memory less the reserve, in whole MiB.
std::uint64_t room(const Topology& topology, int node) {
    std::uint64_t free = free_bytes(topology, node);
    return free > preferred_first_node_reserve_bytes ? (free - preferred_first_node_reserve_bytes) / mib * mib : 0;
}

}  // namespace

NodeSet PreferredFirstSplit::nodes() const {
    NodeSet out;
    for (const NodeShare& s : shares) out.insert(s.node);
    return out;
}

double mean_distance(const Topology& topology, int from, const std::map<int, std::uint64_t>& bytes_per_node) {
    double weighted = 0, total = 0;
    for (const auto& [node, bytes] : bytes_per_node) {
        weighted += static_cast<double>(bytes) * topology.distance(from, node);
        total += static_cast<double>(bytes);
    }
    return total > 0 ? weighted / total : 10.0;
}

std::optional<int> preferred_node(const PlacementHost& host, const Plan& plan) {
    const Topology& t = host.topology;
    std::optional<int> best;
    auto load = [&](int node) {
        auto it = host.vcpus_per_node.find(node);
        return it == host.vcpus_per_node.end() ? 0 : it->second;
    };
    for (int node : plan.nodes) {
        if ((plan.cpus & t.cpus_of(NodeSet{node})).empty()) continue;
        if (!best) {
            best = node;
            continue;
        }
        const std::uint64_t a = free_bytes(t, node), b = free_bytes(t, *best);
        if (a > b || (a == b && load(node) < load(*best))) best = node;  // ties: the lower id, seen first
    }
    return best;
}

Result<PreferredFirstSplit> split_preferred_first(const PlacementHost& host, int preferred,
                                                  std::uint64_t memory_bytes) {
    const Topology& t = host.topology;
    if (t.node(preferred) == nullptr || !t.allowed_nodes.contains(preferred))
        return usage_error(fmt::format("preferred node {} is not a node the domain may use", preferred));
    std::vector<int> order;
    for (const Node& n : t.nodes)
        if (n.id != preferred) order.push_back(n.id);
    std::ranges::sort(order, [&](int a, int b) {
        const int da = t.distance(preferred, a), db = t.distance(preferred, b);
        if (da != db) return da < db;
        const std::uint64_t fa = free_bytes(t, a), fb = free_bytes(t, b);
        if (fa != fb) return fa > fb;
        return a < b;
    });
    order.insert(order.begin(), preferred);

    PreferredFirstSplit split;
    split.preferred = preferred;
    split.memory_bytes = memory_bytes;
    std::uint64_t left = memory_bytes;
    std::map<int, std::uint64_t> laid_out;
    for (int node : order) {
        if (left == 0) break;
        const std::uint64_t take = std::min(left, room(t, node));
        if (take == 0) continue;
        const int distance = t.distance(preferred, node);
        split.shares.push_back({.node = node, .bytes = take, .distance = distance});
        laid_out[node] = take;
        left -= take;
    }
    if (left > 0)
        return failure(fmt::format("{} does not fit in the free memory of the nodes (less {} each for Xen): {} "
                                   "short",
                                   format_size(memory_bytes), format_size(preferred_first_node_reserve_bytes),
                                   format_size(left)),
                       ENOMEM);
    split.mean_distance = mean_distance(t, preferred, laid_out);
    return split;
}

Plan preferred_node_plan(const Plan& plan, const PreferredFirstSplit& split, const Topology& topology) {
    Plan p = plan;
    const CpuSet local = topology.cpus_of(NodeSet{split.preferred});
    p.cpus = plan.cpus & local;
    if (!p.soft_cpus.empty()) p.soft_cpus = plan.soft_cpus & local;
    if (plan.affinity == AffinityKind::hard) p.hard_cpus = plan.hard_cpus & local;
    p.nodes = split.nodes();
    p.memory_bytes_per_node.clear();
    for (const NodeShare& s : split.shares) p.memory_bytes_per_node[s.node] = s.bytes;
    int vcpus = 0;
    for (const auto& [node, count] : plan.vcpus_per_node) vcpus += count;
    p.vcpus_per_node = {{split.preferred, vcpus}};
    return p;
}

Result<PreferredFirstSteps> preferred_first_steps(const Plan& plan, const PreferredFirstSplit& split,
                                                  const XlDomain& domain, const Topology& topology) {
    if (split.shares.empty()) return usage_error("a preferred-first split without memory");
    auto overrides = xl_placement_overrides(preferred_node_plan(plan, split, topology), domain);
    if (!overrides) return std::unexpected(overrides.error());
    PreferredFirstSteps steps;
    steps.create_memory_bytes = split.shares.front().bytes;
    steps.maxmem_bytes = std::max(split.memory_bytes, domain.maxmem_mib * mib);
    steps.xl_overrides = std::move(*overrides);
    steps.xl_overrides.push_back(fmt::format("memory={}", steps.create_memory_bytes / mib));
    steps.xl_overrides.push_back(fmt::format("maxmem={}", steps.maxmem_bytes / mib));
    steps.create_node_affinity = NodeSet{split.preferred};
    std::uint64_t target = steps.create_memory_bytes;
    for (std::size_t i = 1; i < split.shares.size(); ++i) {
        target += split.shares[i].bytes;
        steps.populate.push_back(
            {.node = split.shares[i].node, .share_bytes = split.shares[i].bytes, .target_bytes = target});
    }
    steps.final_node_affinity = split.nodes();
    return steps;
}

std::string why_not_preferred_first(const Plan& plan, const XlDomain& domain, const Topology& topology,
                                    std::optional<int> preferred) {
    if (!plan.fits() || plan.nodes.count() < 2) return "the plan has one node";
    if (plan.affinity == AffinityKind::none || !preferred) return "the plan sets no CPU affinity";
    const int local = (plan.cpus & topology.cpus_of(NodeSet{*preferred})).count();
    if (local < domain.vcpus)
        return fmt::format("its {} vCPUs do not fit on node {} ({} usable CPUs)", domain.vcpus, *preferred, local);
    if (domain.type == "hvm")
        return "an HVM domain built with memory below maxmem gets populate-on-demand memory, not ballooned-in "
               "memory";
    return {};
}

}  // namespace affine::xen
