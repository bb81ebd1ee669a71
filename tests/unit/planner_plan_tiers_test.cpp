// The planner on tiered made-up hosts: a CPU-less slow node next to each socket,
// HMAT latency against SLIT distance, and a node with HBM.
#include <gtest/gtest.h>

#include "affine/host.hpp"
#include "affine/tiered_placement.hpp"

namespace affine {
namespace {

constexpr std::uint64_t GiB = std::uint64_t{1} << 30;

Topology host(std::string_view spec) {
    auto t = synthetic_topology(spec);
    EXPECT_TRUE(t) << (t ? "" : t.error().message);
    return t.value_or(Topology{});
}

Plan plan(const Topology& t, int vcpus, std::uint64_t memory, MemoryTierUse use = MemoryTierUse::top_first,
          PlacementPolicy policy = PlacementPolicy::best_effort) {
    PlacementRequest r;
    r.vcpus = vcpus;
    r.memory_bytes = memory;
    r.policy = policy;
    auto p = plan_tiered_placement(make_placement_host(t), r, use);
    EXPECT_TRUE(p) << (p ? "" : p.error().message);
    return p.value_or(Plan{});
}

// Two sockets of one node (4 CPUs, 4G), each with a 16G CPU-less node of a lower
// tier: nodes 2 (socket 0) and 3 (socket 1).
const char* const cxl = "nodes=2,cores=4,mem=4G,slow=16G";

TEST(TieredPlacement, SlowNodesBelongToTheirSocket) {
    Topology t = host(cxl);
    EXPECT_EQ(nearest_initiator(t, 2), 0);
    EXPECT_EQ(nearest_initiator(t, 3), 1);
    EXPECT_EQ(nearest_initiator(t, 0), std::nullopt);  // has CPUs
    EXPECT_EQ(memory_order(t, 0, t.all_nodes()), (std::vector<int>{0, 2}));
    EXPECT_EQ(memory_order(t, 1, t.all_nodes()), (std::vector<int>{1, 3}));
}

TEST(TieredPlacement, MemoryNodesOfHomes) {
    Topology t = host(cxl);
    EXPECT_EQ(memory_nodes_of(t, NodeSet{0}, MemoryTierUse::top_first), (NodeSet{0, 2}));
    EXPECT_EQ(memory_nodes_of(t, NodeSet{0, 1}, MemoryTierUse::top_first), (NodeSet{0, 1, 2, 3}));
    EXPECT_EQ(memory_nodes_of(t, NodeSet{1}, MemoryTierUse::top_only), NodeSet{1});
    EXPECT_EQ(memory_nodes_of(t, NodeSet{}, MemoryTierUse::top_first), NodeSet{});
    EXPECT_EQ(bytes_per_tier(t, {{0, GiB}, {2, 2 * GiB}, {3, GiB}}), (std::map<int, std::uint64_t>{{4, GiB}, {5, 3 * GiB}}));
    EXPECT_TRUE(bytes_per_tier(host("nodes=2,cores=1"), {{0, GiB}}).empty());  // no tiers shown
    EXPECT_EQ(to_string(MemoryTierUse::top_only), "top");
    EXPECT_EQ(to_string(MemoryTierUse::top_first), "any");
}

TEST(TieredPlacement, TopTierFirst) {
    Plan p = plan(host(cxl), 4, 2 * GiB);
    ASSERT_TRUE(p.fits());
    EXPECT_EQ(p.nodes, NodeSet{0});
    EXPECT_EQ(p.memory_bytes_per_node, (std::map<int, std::uint64_t>{{0, 2 * GiB}}));
    EXPECT_EQ(p.memory_bytes_per_tier, (std::map<int, std::uint64_t>{{4, 2 * GiB}}));
}

TEST(TieredPlacement, LowerTierWhenTheTopIsFull) {
    // 6G on one socket: its 4G of DRAM, then 2G of its slow node; one home.
    Plan p = plan(host(cxl), 4, 6 * GiB);
    ASSERT_TRUE(p.fits());
    EXPECT_EQ(p.nodes, NodeSet{0});
    EXPECT_EQ(p.memory_bytes_per_node, (std::map<int, std::uint64_t>{{0, 4 * GiB}, {2, 2 * GiB}}));
    EXPECT_EQ(p.memory_bytes_per_tier, (std::map<int, std::uint64_t>{{4, 4 * GiB}, {5, 2 * GiB}}));
}

TEST(TieredPlacement, TopOnlyTakesTwoSocketsOrRefuses) {
    Plan p = plan(host(cxl), 4, 6 * GiB, MemoryTierUse::top_only);
    ASSERT_TRUE(p.fits());
    EXPECT_EQ(p.nodes, (NodeSet{0, 1}));
    EXPECT_EQ(p.memory_bytes_per_tier, (std::map<int, std::uint64_t>{{4, 6 * GiB}}));
    for (const auto& [node, bytes] : p.memory_bytes_per_node) EXPECT_LT(node, 2);
    Plan refused = plan(host(cxl), 4, 9 * GiB, MemoryTierUse::top_only);
    EXPECT_EQ(refused.outcome, PlanOutcome::refused);
    EXPECT_NE(refused.fallback.find("fastest memory tier (nodes 0-1)"), std::string::npos) << refused.fallback;
}

TEST(TieredPlacement, ACpuLessNodeIsNeverHome) {
    // Memory only: plan_placement alone would take one 16G CPU-less node.
    Topology t = host(cxl);
    for (auto policy : {PlacementPolicy::prio_mem_only, PlacementPolicy::best_effort, PlacementPolicy::any}) {
        for (std::uint64_t memory : {GiB, 10 * GiB, 30 * GiB}) {
            Plan p = plan(t, 1, memory, MemoryTierUse::top_first, policy);
            ASSERT_NE(p.outcome, PlanOutcome::refused);
            EXPECT_TRUE((p.nodes & NodeSet{2, 3}).empty()) << to_string(policy) << " " << memory;
            std::uint64_t sum = 0;
            for (const auto& [node, bytes] : p.memory_bytes_per_node) {
                sum += bytes;
                EXPECT_LE(bytes, t.node(node)->memory_free_bytes);
            }
            EXPECT_EQ(sum, memory);
        }
    }
}

TEST(TieredPlacement, HmatLatencyBeforeDistance) {
    // Node 2 (CPU-less) is nearer node 1 by SLIT, but HMAT says node 0 reaches it
    // faster: it is node 0's overflow.
    Topology t = host("nodes=3,cores=2,mem=4G");
    Node& far = t.nodes[2];
    far.cpus = {};
    std::erase_if(t.cpus, [](const Cpu& c) { return c.node == 2; });
    t.allowed_cpus = t.online_cpus();
    t.nodes[0].distances[2] = t.nodes[2].distances[0] = 30;
    t.nodes[1].distances[2] = t.nodes[2].distances[1] = 20;
    far.access = {MemoryAccess{.access_class = 1, .initiators = {0}, .read_latency_ns = 80}};
    EXPECT_EQ(nearest_initiator(t, 2), 0);
    far.access.clear();
    EXPECT_EQ(nearest_initiator(t, 2), 1);  // without HMAT, SLIT decides
}

TEST(TieredPlacement, HighBandwidthMemoryFirst) {
    // Node 0: CPUs and 8G of DRAM (tier 4); node 1: 2G of HBM without CPUs, a faster
    // tier (a lower id), as on a flat-mode Xeon Max.
    Topology t = host("nodes=2,cores=4,mem=8G");
    t.nodes[1].cpus = {};
    std::erase_if(t.cpus, [](const Cpu& c) { return c.node == 1; });
    t.allowed_cpus = t.online_cpus();
    t.nodes[1].memory_total_bytes = t.nodes[1].memory_free_bytes = 2 * GiB;
    t.nodes[0].memory_tier = 4;
    t.nodes[1].memory_tier = 3;
    t.nodes[0].access = {MemoryAccess{.access_class = 1, .initiators = {0}, .read_bandwidth_mbps = 200000,
                                      .read_latency_ns = 110}};
    t.nodes[1].access = {MemoryAccess{.access_class = 1, .initiators = {0}, .read_bandwidth_mbps = 800000,
                                      .read_latency_ns = 130}};
    EXPECT_EQ(memory_order(t, 0, t.all_nodes()), (std::vector<int>{1, 0}));
    Plan p = plan(t, 2, 3 * GiB);
    ASSERT_TRUE(p.fits());
    EXPECT_EQ(p.nodes, NodeSet{0});
    EXPECT_EQ(p.memory_bytes_per_node, (std::map<int, std::uint64_t>{{0, GiB}, {1, 2 * GiB}}));
    EXPECT_EQ(p.memory_bytes_per_tier, (std::map<int, std::uint64_t>{{3, 2 * GiB}, {4, GiB}}));
    // Only the top tier: the HBM alone, homed on node 0.
    Plan hbm = plan(t, 2, 2 * GiB, MemoryTierUse::top_only);
    ASSERT_TRUE(hbm.fits());
    EXPECT_EQ(hbm.nodes, NodeSet{0});
    EXPECT_EQ(hbm.memory_bytes_per_node, (std::map<int, std::uint64_t>{{1, 2 * GiB}}));
    EXPECT_EQ(plan(t, 2, 3 * GiB, MemoryTierUse::top_only).outcome, PlanOutcome::refused);
}

TEST(TieredPlacement, UntieredHostsPlanAsBefore) {
    Topology t = host("nodes=4,sockets=2,cores=2,mem=2G");
    PlacementRequest r;
    r.vcpus = 3;
    r.memory_bytes = 3 * GiB;
    auto plain = plan_placement(make_placement_host(t), r);
    auto tiered = plan_tiered_placement(make_placement_host(t), r);
    ASSERT_TRUE(plain && tiered);
    EXPECT_EQ(tiered->nodes, plain->nodes);
    EXPECT_EQ(tiered->memory_bytes_per_node, plain->memory_bytes_per_node);
    EXPECT_TRUE(tiered->memory_bytes_per_tier.empty());
    EXPECT_FALSE(parse_memory_tier_use("fast"));
    EXPECT_EQ(parse_memory_tier_use("top"), MemoryTierUse::top_only);
}

}  // namespace
}  // namespace affine
