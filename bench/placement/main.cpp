// Side-by-side placement benchmark: affine's planner against re-implementations of
// the xenopsd, libxl and numad placers, on the scenarios of PLACEMENT-ANCHORS.md.
// Prints one markdown table; figures, not assertions.
#include <fmt/format.h>

#include <cstdio>

#include "affine/placement.hpp"
#include "harness.hpp"

namespace bench {
namespace {

constexpr std::uint64_t GiB = std::uint64_t{1} << 30;

// affine's planner behind the harness interface (policy best-effort).
class AffinePlacer final : public Placer {
public:
    [[nodiscard]] std::string name() const override { return "affine"; }

    void start(const HostState& host, std::string&) override {
        state_ = affine::make_placement_host(host.topology, host.reserved);
    }

    Decision decide(const HostState& host, const Vm& vm) override {
        // Bring the planner's copy of the host up to date (free memory, load): O(nodes).
        for (std::size_t i = 0; i < state_.topology.nodes.size(); ++i)
            state_.topology.nodes[i].memory_free_bytes = host.topology.nodes[i].memory_free_bytes;
        state_.vcpus_per_node.clear();
        for (const auto& [node, vcpus] : host.vcpus_per_node)
            state_.vcpus_per_node[node] = static_cast<int>(vcpus + 0.5);
        affine::PlacementRequest request;
        request.vcpus = vm.vcpus;
        request.memory_bytes = vm.memory_bytes;
        auto plan = affine::plan_placement(state_, request);
        if (!plan) return {Decision::Kind::refused, {}, {}};
        switch (plan->outcome) {
            case affine::PlanOutcome::placed: return {Decision::Kind::placed, plan->nodes, plan->memory_bytes_per_node};
            case affine::PlanOutcome::fallback: return {Decision::Kind::unplaced, {}, {}};
            case affine::PlanOutcome::refused: return {Decision::Kind::refused, {}, {}};
        }
        return {};
    }

private:
    affine::PlacementHost state_;
};

std::unique_ptr<Placer> make_affine() { return std::make_unique<AffinePlacer>(); }

// A host whose node distances are 10 + 11 |i - j|, equal memory and CPUs per node.
affine::Topology linear_host(int nodes, int cpus, std::uint64_t memory_total, int smt = 1) {
    affine::Topology t;
    t.source = fmt::format("{} nodes / {} CPUs", nodes, cpus);
    int per_node = cpus / nodes;
    int cpu = 0;
    for (int n = 0; n < nodes; ++n) {
        affine::Node node;
        node.id = n;
        node.memory_total_bytes = node.memory_free_bytes = memory_total / static_cast<std::uint64_t>(nodes);
        for (int m = 0; m < nodes; ++m) node.distances[m] = 10 + 11 * std::abs(n - m);
        for (int c = 0; c < per_node; ++c) {
            t.cpus.push_back(affine::Cpu{.id = cpu, .online = true, .core = cpu / smt, .package = n, .die = std::nullopt,
                                         .node = n});
            node.cpus.insert(cpu++);
        }
        t.nodes.push_back(std::move(node));
    }
    t.allowed_cpus = t.online_cpus();
    t.allowed_nodes = t.all_nodes();
    return t;
}

affine::Topology opteron_6272() {
    const int matrix[8][8] = {{10, 16, 16, 22, 16, 22, 16, 22}, {16, 10, 22, 16, 16, 22, 22, 16},
                              {16, 22, 10, 16, 16, 16, 16, 16}, {22, 16, 16, 10, 16, 16, 22, 22},
                              {16, 16, 16, 16, 10, 16, 16, 22}, {22, 22, 16, 16, 16, 10, 22, 16},
                              {16, 22, 16, 22, 16, 22, 10, 16}, {22, 16, 16, 22, 22, 16, 16, 10}};
    affine::Topology t = linear_host(8, 64, 128 * GiB, 2);  // 4 cores x 2 threads per node
    t.source = "Opteron 6272, 8 nodes";
    for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 8; ++j) t.nodes[static_cast<std::size_t>(i)].distances[j] = matrix[i][j];
    return t;
}

// The VM mix of the synthetic scenarios: 2/4/1/8 vCPUs with 4/8/2/12 GiB, in turn.
std::vector<Vm> vm_mix(int count) {
    const int vcpus[] = {2, 4, 1, 8};
    const std::uint64_t memory[] = {4, 8, 2, 12};
    std::vector<Vm> vms;
    for (int i = 0; i < count; ++i) vms.push_back({vcpus[i % 4], memory[i % 4] * GiB});
    return vms;
}

std::vector<Vm> same_vms(int count, int vcpus, std::uint64_t memory) {
    return std::vector<Vm>(static_cast<std::size_t>(count), Vm{vcpus, memory});
}

struct Scenario {
    std::string name;
    HostState host;
    std::vector<Vm> vms;
};

std::vector<Scenario> scenarios() {
    std::vector<Scenario> list;
    const std::pair<int, int> linear[] = {{1, 2}, {2, 4}, {4, 16}, {16, 256}, {32, 256}, {64, 256}};
    for (auto [nodes, cpus] : linear)
        for (int count : {1, 10, 40, 80})
            list.push_back({fmt::format("{}n/{}c, {} VMs", nodes, cpus, count),
                            {linear_host(nodes, cpus, 640 * GiB), {}, {}}, vm_mix(count)});
    list.push_back({"Opteron 8n, 10 VMs x 4 vCPUs 8G", {opteron_6272(), {}, {}}, same_vms(10, 4, 8 * GiB)});
    // 1.33 x a node's 16 GiB: two-node plans are the only good ones.
    list.push_back({"Opteron 8n, 6 VMs x 1.33 node", {opteron_6272(), {}, {}}, same_vms(6, 4, 16 * GiB * 133 / 100)});
    {
        // Two sockets of two nodes, 16 CPUs each; CPUs 0-7 (half of node 0) kept for
        // the system and 16-31 (all of node 1) for a pinned appliance.
        affine::Topology t = linear_host(4, 64, 256 * GiB, 2);
        for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) t.nodes[static_cast<std::size_t>(i)].distances[j] = i == j ? 10 : i / 2 == j / 2 ? 16 : 21;
        t.source = "4 nodes / 64 CPUs, reserved 0-7,16-31";
        list.push_back({"4n/64c reserved 0-7,16-31, 24 VMs", {t, affine::CpuSet::range(0, 7) | affine::CpuSet::range(16, 31), {}},
                        vm_mix(24)});
    }
    list.push_back({"128n/4096c, 200 VMs", {linear_host(128, 4096, 128 * 8 * GiB), {}, {}}, vm_mix(200)});
    list.push_back({"256n/16384c, 200 VMs", {linear_host(256, 16384, 256 * 8 * GiB), {}, {}}, vm_mix(200)});
    return list;
}

}  // namespace
}  // namespace bench

int main() {
    using namespace bench;
    std::vector<std::unique_ptr<Placer>> placers;
    placers.push_back(make_affine());
    placers.push_back(make_xenopsd_placer());
    placers.push_back(make_libxl_placer());
    placers.push_back(make_numad_placer());
    fmt::print("| scenario | placer | VMs | on one node | placed | started | mean dist | worst dist | "
               "worst overcommit | free-mem imbalance | time/plan | note |\n");
    fmt::print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (const Scenario& s : scenarios()) {
        for (auto& placer : placers) {
            Figures f = run_scenario(s.host, s.vms, *placer);
            fmt::print("| {} | {} | {} | {} | {} | {} | {:.1f} | {} | {:.2f} | {:.1f}% | {:.1f} us | {} |\n", s.name,
                       placer->name(), f.vms, f.one_node, f.placed, f.started, f.mean_distance, f.worst_distance,
                       f.worst_overcommit, f.memory_imbalance, f.micros_per_plan, f.note);
            std::fflush(stdout);
        }
    }
    return 0;
}
