// Placing an existing Xen domain: the load rule, the planner's host and request made
// from a Xen host model, and what is set on the domain for each policy.
#include <gtest/gtest.h>

#include <cerrno>

#include "affine/host.hpp"
#include "affine/xen_placement.hpp"

namespace affine::xen {
namespace {

constexpr std::uint64_t MiB = 1ULL << 20;
constexpr auto HARD = AffinityFlags::hard;
constexpr auto SOFT = AffinityFlags::soft;

// 2 nodes x 2 CPUs, 1 GiB each, dom0 with 4 unpinned vCPUs.
XenHost two_nodes() {
    XenHost host = make_xen_host(*synthetic_topology("nodes=2,cores=2,mem=1G"));
    EXPECT_TRUE(create_domain(host, 4, 4, 0));
    return host;
}

// A domain with `vcpus` allocated vCPUs, memory placed by the allocator.
int add_domain(XenHost& host, int vcpus, std::uint64_t bytes, std::optional<NodeSet> nodes = std::nullopt) {
    int domid = *create_domain(host, vcpus, vcpus);
    if (nodes) {
        EXPECT_TRUE(set_node_affinity(host, domid, *nodes));
    }
    EXPECT_TRUE(allocate_pages(host, domid, bytes / page_bytes));
    return domid;
}

void soft_pin(XenHost& host, int domid, const CpuSet& soft) {
    for (const Vcpu& v : host.domain(domid)->vcpus)
        ASSERT_TRUE(set_vcpu_affinity(host, domid, v.id, {}, soft, SOFT));
}

// Two shares whose remainders differ by 7e-10: 9750/39001 + 9751/39003 on node 0
// (remainder just below 1/2) and the rest on node 1 (just above). The exact sum
// gives the second vCPU to node 1; doubles compared with a tolerance called it a
// tie and gave it to node 0.
TEST(XenLoad, SharesAreSummedExactly) {
    auto topology = synthetic_topology("nodes=2,cores=32768,mem=1G");  // node 1 from CPU 32768
    ASSERT_TRUE(topology) << topology.error().message;
    XenHost host = make_xen_host(std::move(*topology));
    ASSERT_TRUE(create_domain(host, 2, 2, 1));
    Domain& d = *host.domain(1);
    d.vcpus[0].hard = d.vcpus[0].soft = CpuSet::range(32768 - 9750, 32768 - 9750 + 39001 - 1);
    d.vcpus[1].hard = d.vcpus[1].soft = CpuSet::range(32768 - 9751, 32768 - 9751 + 39003 - 1);
    EXPECT_EQ(vcpu_load_per_node(host), (std::map<int, int>{{1, 2}}));
}

TEST(XenVcpuLoad, UnpinnedVcpusSpreadOverTheNodesOfTheirMask) {
    XenHost host = two_nodes();
    EXPECT_EQ(vcpu_load_per_node(host), (std::map<int, int>{{0, 2}, {1, 2}}));
}

TEST(XenVcpuLoad, SoftPinnedVcpusCountWhereTheirSoftMaskIs) {
    XenHost host = two_nodes();
    soft_pin(host, 0, CpuSet{2, 3});
    EXPECT_EQ(vcpu_load_per_node(host), (std::map<int, int>{{1, 4}}));
}

TEST(XenVcpuLoad, AnEmptyEffectiveSoftFallsBackToHard) {
    XenHost host = two_nodes();
    // Soft on node 1, hard on node 0: the scheduler ignores soft; the vCPU runs on 0.
    ASSERT_TRUE(set_vcpu_affinity(host, 0, 0, CpuSet{0, 1}, CpuSet{2, 3}, HARD | SOFT));
    ASSERT_TRUE(set_vcpu_affinity(host, 0, 1, CpuSet{0}, CpuSet{3}, HARD | SOFT));
    auto load = vcpu_load_per_node(host);
    // vCPUs 0, 1 on node 0; vCPUs 2, 3 unpinned: 1 + 1.
    EXPECT_EQ(load, (std::map<int, int>{{0, 3}, {1, 1}}));
}

TEST(XenVcpuLoad, AVcpuThatCannotRunInThePoolDoesNotCount) {
    XenHost host = two_nodes();
    ASSERT_TRUE(set_vcpu_affinity(host, 0, 0, CpuSet{3}, {}, HARD));
    host.pool_cpus = CpuSet{0, 1, 2};  // CPU 3 left the pool afterwards
    auto load = vcpu_load_per_node(host);
    int total = 0;
    for (const auto& [node, vcpus] : load) total += vcpus;
    EXPECT_EQ(total, 3);
    // Three vCPUs free on CPUs 0-2: 2/3 of each on node 0 -> 2 on node 0, 1 on node 1.
    EXPECT_EQ(load, (std::map<int, int>{{0, 2}, {1, 1}}));
}

TEST(XenVcpuLoad, SharesAreRoundedByLargestRemainderTiesToTheLowestNode) {
    XenHost host = make_xen_host(*synthetic_topology("nodes=2,cores=2,mem=1G"));
    ASSERT_TRUE(create_domain(host, 3, 3, 0));
    // 1.5 + 1.5: floors 1 + 1, the third vCPU to node 0.
    EXPECT_EQ(vcpu_load_per_node(host), (std::map<int, int>{{0, 2}, {1, 1}}));
    // A mask with 2 CPUs on node 0 and 1 on node 1: exactly 2/3 and 1/3 per vCPU.
    for (int v = 0; v < 3; ++v) ASSERT_TRUE(set_vcpu_affinity(host, 0, v, CpuSet{0, 1, 2}, {}, HARD));
    EXPECT_EQ(vcpu_load_per_node(host), (std::map<int, int>{{0, 2}, {1, 1}}));
    // One vCPU on node 1 only, two free on 0-2: 4/3 and 5/3 -> floors 1 + 1, the
    // larger remainder (node 1) takes the third.
    ASSERT_TRUE(set_vcpu_affinity(host, 0, 0, CpuSet{3}, {}, HARD));
    EXPECT_EQ(vcpu_load_per_node(host), (std::map<int, int>{{0, 1}, {1, 2}}));
}

TEST(XenVcpuLoad, TheDomainBeingPlacedIsNotLoad) {
    XenHost host = two_nodes();
    int dom = add_domain(host, 2, 64 * MiB);
    soft_pin(host, dom, CpuSet{0, 1});
    EXPECT_EQ(vcpu_load_per_node(host), (std::map<int, int>{{0, 4}, {1, 2}}));
    EXPECT_EQ(vcpu_load_per_node(host, dom), (std::map<int, int>{{0, 2}, {1, 2}}));
}

TEST(XenPlacementHost, PoolCpusLoadAndTheDomainsMemoryGivenBack) {
    XenHost host = two_nodes();
    int dom = add_domain(host, 2, 128 * MiB, NodeSet{1});
    host.pool_cpus = CpuSet{0, 1, 2};
    std::map<int, std::uint64_t> memory{{1, 128 * MiB}};
    const std::uint64_t free1 = host.topology.node(1)->memory_free_bytes;
    PlacementHost p = xen_placement_host(host, CpuSet{0}, dom, memory);
    EXPECT_EQ(p.topology.allowed_cpus, (CpuSet{0, 1, 2}));
    EXPECT_EQ(p.reserved, CpuSet{0});
    EXPECT_EQ(p.topology.node(1)->memory_free_bytes, free1 + 128 * MiB);
    EXPECT_EQ(p.topology.node(0)->memory_free_bytes, host.topology.node(0)->memory_free_bytes);
    EXPECT_EQ(p.vcpus_per_node, (std::map<int, int>{{0, 3}, {1, 1}}));  // dom0 on CPUs 0-2
    EXPECT_EQ(p.distance_matrix.size(), 4U);
}

TEST(XenPlacementRequest, VcpusMemoryAndResidentMemory) {
    XenHost host = two_nodes();
    int dom = add_domain(host, 2, 128 * MiB);
    std::map<int, std::uint64_t> memory{{0, 96 * MiB}, {1, 32 * MiB}};
    auto r = xen_placement_request(*host.domain(dom), memory, PlacementPolicy::best_effort_hard, false);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->vcpus, 2);
    EXPECT_EQ(r->memory_bytes, 128 * MiB);
    EXPECT_EQ(r->policy, PlacementPolicy::best_effort_hard);
    EXPECT_TRUE(r->resident_bytes_per_node.empty());
    r = xen_placement_request(*host.domain(dom), memory, PlacementPolicy::best_effort, true, 512 * MiB);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->memory_bytes, 512 * MiB);
    EXPECT_EQ(r->resident_bytes_per_node, memory);
}

TEST(XenPlacementRequest, NothingToPlace) {
    XenHost host = two_nodes();
    int no_vcpus = *create_domain(host, 2, 0);
    auto r = xen_placement_request(*host.domain(no_vcpus), {{0, MiB}}, PlacementPolicy::best_effort, false);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::failed);
    EXPECT_NE(r.error().message.find("no allocated vCPU"), std::string::npos);
    int no_memory = *create_domain(host, 1, 1);
    r = xen_placement_request(*host.domain(no_memory), {}, PlacementPolicy::best_effort, false);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("--memory"), std::string::npos);
    EXPECT_TRUE(xen_placement_request(*host.domain(no_memory), {}, PlacementPolicy::best_effort, false, MiB));
}

struct Placed {
    XenHost host;
    int dom;
    Plan plan;
    XenPlacementActions actions;
};

Placed place(PlacementPolicy policy, bool follow_memory, CpuSet reserved = {}, bool explicit_nodes = true) {
    Placed p{two_nodes(), 0, {}, {}};
    p.dom = add_domain(p.host, 2, 128 * MiB, explicit_nodes ? std::optional<NodeSet>(NodeSet{1}) : std::nullopt);
    std::map<int, std::uint64_t> memory;
    for (const auto& [node, pages] : p.host.domain(p.dom)->pages_per_node) memory[node] = pages * page_bytes;
    PlacementHost ph = xen_placement_host(p.host, reserved, p.dom, memory);
    auto request = xen_placement_request(*p.host.domain(p.dom), memory, policy, follow_memory);
    EXPECT_TRUE(request);
    auto plan = plan_placement(ph, *request);
    EXPECT_TRUE(plan);
    p.plan = *plan;
    p.actions = xen_placement_actions(p.plan, *p.host.domain(p.dom), p.host.topology.all_cpus());
    return p;
}

TEST(XenPlacement, FollowMemoryPicksTheNodeHoldingTheMemory) {
    // Equal load and free memory: node 0 wins on its id without follow-memory.
    EXPECT_EQ(place(PlacementPolicy::best_effort, false).plan.nodes, NodeSet{0});
    EXPECT_EQ(place(PlacementPolicy::best_effort, true).plan.nodes, NodeSet{1});
}

TEST(XenPlacementActions, BestEffortIsSoftWithHardAllAndAutoNodeAffinity) {
    Placed p = place(PlacementPolicy::best_effort, true);
    EXPECT_TRUE(p.actions.set_vcpus);
    EXPECT_EQ(p.actions.soft, (CpuSet{2, 3}));
    EXPECT_EQ(p.actions.hard, CpuSet::range(0, 3));
    // The domain's node affinity was explicit: back to auto, so it follows.
    ASSERT_TRUE(p.actions.node_affinity);
    EXPECT_EQ(*p.actions.node_affinity, every_node());
    // Carried out on the model, the node affinity follows the soft masks.
    for (const Vcpu& v : p.host.domain(p.dom)->vcpus)
        ASSERT_TRUE(set_vcpu_affinity(p.host, p.dom, v.id, p.actions.hard, p.actions.soft, HARD | SOFT));
    ASSERT_TRUE(set_node_affinity(p.host, p.dom, *p.actions.node_affinity));
    EXPECT_EQ(p.host.domain(p.dom)->node_affinity, NodeSet{1});
    EXPECT_EQ(p.host.domain(p.dom)->node_affinity_mode, NodeAffinityMode::automatic);
}

TEST(XenPlacementActions, AutoNodeAffinityIsLeftToFollow) {
    Placed p = place(PlacementPolicy::best_effort, false, {}, false);
    EXPECT_TRUE(p.actions.set_vcpus);
    EXPECT_FALSE(p.actions.node_affinity);
}

TEST(XenPlacementActions, BestEffortHardIsHardWithSoftAll) {
    Placed p = place(PlacementPolicy::best_effort_hard, true);
    EXPECT_TRUE(p.actions.set_vcpus);
    EXPECT_EQ(p.actions.hard, (CpuSet{2, 3}));
    EXPECT_EQ(p.actions.soft, CpuSet::range(0, 3));
}

TEST(XenPlacementActions, PrioMemOnlySetsExplicitNodeAffinityOnly) {
    Placed p = place(PlacementPolicy::prio_mem_only, true);
    EXPECT_FALSE(p.actions.set_vcpus);
    ASSERT_TRUE(p.actions.node_affinity);
    EXPECT_EQ(*p.actions.node_affinity, NodeSet{1});
}

TEST(XenPlacementActions, AnySetsNothingUnlessCpusAreReserved) {
    EXPECT_TRUE(place(PlacementPolicy::any, false).actions.empty());
    Placed p = place(PlacementPolicy::any, false, CpuSet{0});
    EXPECT_TRUE(p.actions.set_vcpus);
    EXPECT_EQ(p.actions.hard, (CpuSet{1, 2, 3}));
    EXPECT_EQ(p.actions.soft, CpuSet::range(0, 3));
    EXPECT_FALSE(p.actions.node_affinity);
}

TEST(XenPlacementActions, ReservedCpusAreKeptOutOfHardForSoftPlans) {
    Placed p = place(PlacementPolicy::best_effort, false, CpuSet{0});
    // Node 0 has one usable CPU left: the two vCPUs go to node 1.
    EXPECT_EQ(p.plan.nodes, NodeSet{1});
    EXPECT_EQ(p.actions.soft, (CpuSet{2, 3}));
    EXPECT_EQ(p.actions.hard, (CpuSet{1, 2, 3}));
}

TEST(XenPlacementActions, AFallbackPlanSetsNothing) {
    XenHost host = two_nodes();
    int dom = add_domain(host, 4, 128 * MiB);
    // 4 vCPUs with node 0's CPUs reserved: no node set holds them.
    PlacementHost ph = xen_placement_host(host, CpuSet{0, 1}, dom, {{0, 64 * MiB}, {1, 64 * MiB}});
    auto request = xen_placement_request(*host.domain(dom), {{0, 64 * MiB}, {1, 64 * MiB}},
                                         PlacementPolicy::best_effort, false);
    auto plan = plan_placement(ph, *request);
    ASSERT_TRUE(plan);
    EXPECT_FALSE(plan->fits());
    EXPECT_TRUE(xen_placement_actions(*plan, *host.domain(dom), host.topology.all_cpus()).empty());
}

}  // namespace
}  // namespace affine::xen
