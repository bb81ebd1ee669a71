// A domain larger than any node, preferred node first: the split on made-up hosts
// (asymmetric distances, a nearest neighbour too small, ties by free memory), the
// choice of the preferred node, and the steps `xen create` runs.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "affine/host.hpp"
#include "affine/xen_preferred_first.hpp"

namespace affine::xen {
namespace {

constexpr std::uint64_t MiB = 1ULL << 20;
constexpr std::uint64_t reserve = preferred_first_node_reserve_bytes;

// 4 nodes x 1 CPU, 1G each; free memory and distances as given (row i: from node i).
PlacementHost host_of(const std::vector<std::uint64_t>& free_mib, const std::vector<std::vector<int>>& distances) {
    Topology t = *synthetic_topology("nodes=4,cores=1,mem=1G");
    for (std::size_t i = 0; i < t.nodes.size(); ++i) {
        t.nodes[i].memory_free_bytes = free_mib[i] * MiB;
        for (std::size_t j = 0; j < t.nodes.size(); ++j) t.nodes[i].distances[static_cast<int>(j)] = distances[i][j];
    }
    return make_placement_host(std::move(t));
}

const std::vector<std::vector<int>> ring = {
    {10, 21, 31, 31},
    {21, 10, 31, 31},
    {31, 31, 10, 21},
    {31, 31, 21, 10},
};

std::vector<NodeShare> shares(std::initializer_list<std::tuple<int, std::uint64_t, int>> list) {
    std::vector<NodeShare> out;
    for (auto [node, mib, distance] : list) out.push_back({.node = node, .bytes = mib * MiB, .distance = distance});
    return out;
}

TEST(PreferredFirst, ThePreferredNodeGivesAllItHasThenTheNearest) {
    PlacementHost h = host_of({600, 300, 700, 400}, ring);
    auto split = split_preferred_first(h, 2, 1000 * MiB);
    ASSERT_TRUE(split) << split.error().message;
    // Node 2 gives its 700M less the reserve; node 3 (21) the rest; nodes 0 and 1 nothing.
    const std::uint64_t p = 700 - reserve / MiB;
    EXPECT_EQ(split->shares, shares({{2, p, 10}, {3, 1000 - p, 21}}));
    EXPECT_EQ(split->nodes(), (NodeSet{2, 3}));
    EXPECT_NEAR(split->mean_distance, (p * 10.0 + (1000 - p) * 21.0) / 1000, 1e-9);
}

TEST(PreferredFirst, DistancesAreReadFromThePreferredNodesRow) {
    // Asymmetric: from node 0, node 3 is nearer (15) than node 1 (25), though the
    // way back says the opposite.
    const std::vector<std::vector<int>> asym = {
        {10, 25, 30, 15},
        {12, 10, 30, 40},
        {30, 30, 10, 30},
        {40, 12, 30, 10},
    };
    PlacementHost h = host_of({500, 500, 500, 500}, asym);
    auto split = split_preferred_first(h, 0, 800 * MiB);
    ASSERT_TRUE(split);
    const std::uint64_t p = 500 - reserve / MiB;
    EXPECT_EQ(split->shares, shares({{0, p, 10}, {3, 800 - p, 15}}));
}

TEST(PreferredFirst, ANearestNeighbourTooSmallGivesAllItHasAndTheNextGivesTheRest) {
    PlacementHost h = host_of({300, 800, 100, 700}, ring);
    auto split = split_preferred_first(h, 1, 1200 * MiB);
    ASSERT_TRUE(split);
    const std::uint64_t r = reserve / MiB;
    // Node 0 (21) has only 300M: the rest from the farther nodes, more free first.
    EXPECT_EQ(split->shares, shares({{1, 800 - r, 10}, {0, 300 - r, 21}, {3, 1200 - (800 - r) - (300 - r), 31}}));
}

TEST(PreferredFirst, TiesInDistanceGoToMoreFreeMemoryThenTheLowerId) {
    PlacementHost h = host_of({500, 200, 400, 400}, {{10, 20, 20, 20}, {20, 10, 20, 20}, {20, 20, 10, 20},
                                                     {20, 20, 20, 10}});
    auto split = split_preferred_first(h, 0, 1100 * MiB);
    ASSERT_TRUE(split);
    const std::uint64_t r = reserve / MiB;
    // Nodes 2 and 3 tie on distance and free memory: 2 first; node 1 (less free) last.
    EXPECT_EQ(split->shares,
              shares({{0, 500 - r, 10}, {2, 400 - r, 20}, {3, 1100 - (500 - r) - (400 - r), 20}}));
}

TEST(PreferredFirst, NodesOutsideTheAllowedOnesAndFullNodesGiveNothing) {
    PlacementHost h = host_of({500, 3, 400, 400}, ring);
    h.topology.allowed_nodes.erase(3);
    auto split = split_preferred_first(h, 0, 700 * MiB);
    ASSERT_TRUE(split);
    const std::uint64_t r = reserve / MiB;
    // Node 1 (the nearest) has less than the reserve; node 3 is not allowed.
    EXPECT_EQ(split->shares, shares({{0, 500 - r, 10}, {2, 700 - (500 - r), 31}}));
}

TEST(PreferredFirst, RefusedWhenTheNodesHaveNotTheMemory) {
    PlacementHost h = host_of({100, 100, 100, 100}, ring);
    auto split = split_preferred_first(h, 0, 400 * MiB);
    ASSERT_FALSE(split);
    EXPECT_EQ(split.error().code, ENOMEM);
    EXPECT_FALSE(split_preferred_first(h, 7, 100 * MiB));
}

TEST(PreferredFirst, AllLocalWhenThePreferredNodeSuffices) {
    PlacementHost h = host_of({500, 500, 500, 500}, ring);
    auto split = split_preferred_first(h, 3, 200 * MiB);
    ASSERT_TRUE(split);
    EXPECT_EQ(split->shares, shares({{3, 200, 10}}));
    EXPECT_EQ(split->mean_distance, 10.0);
}

// The planner's plan for a domain of `mib` on `h`, best-effort.
Plan plan_of(const PlacementHost& h, std::uint64_t mib, PlacementPolicy policy = PlacementPolicy::best_effort) {
    PlacementRequest r;
    r.vcpus = 1;
    r.memory_bytes = mib * MiB;
    r.policy = policy;
    return *plan_placement(h, r);
}

XlDomain guest(std::uint64_t mib) {
    XlDomain d;
    d.name = "big";
    d.memory_mib = d.maxmem_mib = mib;
    return d;
}

TEST(PreferredFirst, ThePreferredNodeIsThePlansNodeWithTheMostFreeMemory) {
    PlacementHost h = host_of({300, 700, 200, 200}, ring);
    Plan plan = plan_of(h, 900);
    ASSERT_TRUE(plan.fits());
    EXPECT_EQ(plan.nodes, (NodeSet{0, 1}));
    EXPECT_EQ(preferred_node(h, plan), 1);
    // Equal free memory: fewer vCPUs already there, then the lower id.
    PlacementHost even = host_of({500, 500, 500, 500}, ring);
    Plan p2 = plan_of(even, 900);
    EXPECT_EQ(preferred_node(even, p2), *p2.nodes.first());
    even.vcpus_per_node = {{*p2.nodes.first(), 2}};
    EXPECT_EQ(preferred_node(even, p2), *p2.nodes.last());
}

TEST(PreferredFirst, TheStepsBuildOnThePreferredNodeThenRaiseTheTargetNodeByNode) {
    PlacementHost h = host_of({300, 700, 200, 200}, ring);
    Plan plan = plan_of(h, 1100);
    ASSERT_TRUE(plan.fits());
    auto preferred = preferred_node(h, plan);
    ASSERT_EQ(preferred, 1);
    EXPECT_EQ(why_not_preferred_first(plan, guest(1100), h.topology, preferred), "");
    auto split = split_preferred_first(h, *preferred, 1100 * MiB);
    ASSERT_TRUE(split);
    auto steps = preferred_first_steps(plan, *split, guest(1100), h.topology);
    ASSERT_TRUE(steps) << steps.error().message;
    const std::uint64_t r = reserve / MiB;
    EXPECT_EQ(steps->xl_overrides, (std::vector<std::string>{"cpus_soft=\"1\"", fmt::format("memory={}", 700 - r),
                                                              "maxmem=1100"}));
    EXPECT_EQ(steps->create_memory_bytes, (700 - r) * MiB);
    EXPECT_EQ(steps->maxmem_bytes, 1100 * MiB);
    EXPECT_EQ(steps->create_node_affinity, (NodeSet{1}));
    // Node 0 (21) gives 296M, then a far node (31, more free first: 2 and 3 tie, 2).
    EXPECT_EQ(steps->populate,
              (std::vector<PopulateStep>{{.node = 0, .share_bytes = (300 - r) * MiB, .target_bytes = (1000 - 2 * r) * MiB},
                                         {.node = 2, .share_bytes = (100 + 2 * r) * MiB, .target_bytes = 1100 * MiB}}));
    EXPECT_EQ(steps->final_node_affinity, (NodeSet{0, 1, 2}));
}

TEST(PreferredFirst, HardPolicyPinsToThePreferredNodeAndALargerMaxmemIsKept) {
    PlacementHost h = host_of({300, 700, 200, 200}, ring);
    Plan plan = plan_of(h, 900, PlacementPolicy::best_effort_hard);
    auto split = split_preferred_first(h, 1, 900 * MiB);
    ASSERT_TRUE(split);
    XlDomain d = guest(900);
    d.maxmem_mib = 2048;
    auto steps = preferred_first_steps(plan, *split, d, h.topology);
    ASSERT_TRUE(steps);
    EXPECT_EQ(steps->xl_overrides, (std::vector<std::string>{"cpus=\"1\"", "cpus_soft=\"1\"",
                                                              fmt::format("memory={}", 700 - reserve / MiB),
                                                              "maxmem=2048"}));
    EXPECT_EQ(steps->populate.back().target_bytes, 900 * MiB);
}

TEST(PreferredFirst, ThePlanAsBuiltHasThePreferredNodesCpusAndTheShares) {
    PlacementHost h = host_of({300, 700, 200, 200}, ring);
    Plan plan = plan_of(h, 900);
    auto split = split_preferred_first(h, 1, 900 * MiB);
    ASSERT_TRUE(split);
    Plan built = preferred_node_plan(plan, *split, h.topology);
    EXPECT_EQ(built.cpus, (CpuSet{1}));
    EXPECT_EQ(built.soft_cpus, (CpuSet{1}));
    EXPECT_EQ(built.nodes, split->nodes());
    EXPECT_EQ(built.memory_bytes_per_node,
              (std::map<int, std::uint64_t>{{0, (200 + reserve / MiB) * MiB}, {1, (700 - reserve / MiB) * MiB}}));
    EXPECT_EQ(built.vcpus_per_node, (std::map<int, int>{{1, 1}}));
}

TEST(PreferredFirst, NotForOneNodeNoAffinityHvmOrTooManyVcpus) {
    PlacementHost h = host_of({300, 700, 200, 200}, ring);
    Plan one = plan_of(h, 500);
    EXPECT_NE(why_not_preferred_first(one, guest(500), h.topology, preferred_node(h, one)), "");
    Plan any = plan_of(h, 900, PlacementPolicy::any);
    EXPECT_NE(why_not_preferred_first(any, guest(900), h.topology, preferred_node(h, any)), "");
    Plan two = plan_of(h, 900);
    XlDomain hvm = guest(900);
    hvm.type = "hvm";
    EXPECT_NE(why_not_preferred_first(two, hvm, h.topology, 1), "");
    XlDomain wide = guest(900);
    wide.vcpus = 2;
    EXPECT_NE(why_not_preferred_first(two, wide, h.topology, 1), "");
}

}  // namespace
}  // namespace affine::xen
