// Planning a new domain from its xl configuration: the planner's host (free memory,
// load of every existing vCPU, the user's hard affinity as a limit) and request.
#include <gtest/gtest.h>

#include "affine/host.hpp"
#include "affine/xen_create_plan.hpp"

namespace affine::xen {
namespace {

constexpr std::uint64_t MiB = 1ULL << 20;

// 4 nodes x 1 CPU, 768M each; dom0 with 4 unpinned vCPUs.
XenHost four_nodes() {
    XenHost host = make_xen_host(*synthetic_topology("nodes=4,cores=1,mem=768M"));
    EXPECT_TRUE(create_domain(host, 4, 4, 0));
    return host;
}

XlDomain guest(int vcpus, std::uint64_t mib) {
    XlDomain d;
    d.name = "g";
    d.vcpus = d.max_vcpus = vcpus;
    d.memory_mib = d.maxmem_mib = mib;
    return d;
}

TEST(XenCreatePlan, TheRequestIsTheOnlineVcpusAndTheBuildMemory) {
    XlDomain d = guest(2, 512);
    d.max_vcpus = 8;
    d.maxmem_mib = 4096;
    PlacementRequest r = xen_create_request(d, PlacementPolicy::best_effort_hard);
    EXPECT_EQ(r.name, "g");
    EXPECT_EQ(r.vcpus, 2);
    EXPECT_EQ(r.memory_bytes, 512 * MiB);
    EXPECT_EQ(r.policy, PlacementPolicy::best_effort_hard);
}

TEST(XenCreatePlan, EveryExistingVcpuIsLoadAndFreeMemoryIsTheHypervisors) {
    XenHost host = four_nodes();
    host.topology.nodes[2].memory_free_bytes = 100 * MiB;
    int other = *create_domain(host, 2, 2);
    for (int v = 0; v < 2; ++v)
        ASSERT_TRUE(set_vcpu_affinity(host, other, v, {}, CpuSet{1}, AffinityFlags::soft));
    PlacementHost p = xen_create_placement_host(host, {}, std::nullopt);
    EXPECT_EQ(p.vcpus_per_node, (std::map<int, int>{{0, 1}, {1, 3}, {2, 1}, {3, 1}}));
    Plan plan = *plan_placement(p, xen_create_request(guest(1, 256), PlacementPolicy::best_effort));
    // Node 1 is busy, node 2 has not the memory: node 0 (lowest id of the rest).
    EXPECT_EQ(plan.nodes, (NodeSet{0}));
    EXPECT_EQ(plan.soft_cpus, (CpuSet{0}));
}

TEST(XenCreatePlan, OnlyTheMemoryXenGivesFirstCounts) {
    // Node 0 is the emptiest, but most of its free memory is below Xen's DMA width,
    // which a domain gets only when no node has other memory left.
    XenHost host = four_nodes();
    host.topology.nodes[0].memory_free_bytes = 700 * MiB;
    for (int n = 1; n < 4; ++n) host.topology.nodes[static_cast<std::size_t>(n)].memory_free_bytes = 400 * MiB;
    const std::map<int, std::uint64_t> first{{0, 100 * MiB}, {1, 400 * MiB}, {2, 400 * MiB}, {3, 400 * MiB}};
    PlacementHost all = xen_create_placement_host(host, {}, std::nullopt);
    EXPECT_EQ(plan_placement(all, xen_create_request(guest(1, 256), PlacementPolicy::best_effort))->nodes,
              (NodeSet{0}));
    PlacementHost p = xen_create_placement_host(host, {}, std::nullopt, first);
    EXPECT_EQ(p.topology.node(0)->memory_free_bytes, 100 * MiB);
    Plan plan = *plan_placement(p, xen_create_request(guest(1, 256), PlacementPolicy::best_effort));
    EXPECT_TRUE(plan.fits());
    EXPECT_FALSE(plan.nodes.contains(0));
    // A figure above the hypervisor's total is not believed.
    PlacementHost q = xen_create_placement_host(host, {}, std::nullopt, {{1, 900 * MiB}});
    EXPECT_EQ(q.topology.node(1)->memory_free_bytes, 400 * MiB);
}

TEST(XenCreatePlan, AHardAffinityIsALimitForCpusAndMemory) {
    XenHost host = four_nodes();
    PlacementHost p = xen_create_placement_host(host, {}, CpuSet{2, 3});
    EXPECT_EQ(p.topology.allowed_cpus, (CpuSet{2, 3}));
    EXPECT_EQ(p.topology.allowed_nodes, (NodeSet{2, 3}));
    Plan plan = *plan_placement(p, xen_create_request(guest(1, 256), PlacementPolicy::best_effort));
    EXPECT_TRUE(plan.fits());
    EXPECT_TRUE(NodeSet({2, 3}).contains(*plan.nodes.begin()));
    // Memory that fits only across the limit's nodes: two nodes, never another.
    plan = *plan_placement(p, xen_create_request(guest(1, 1200), PlacementPolicy::best_effort));
    EXPECT_EQ(plan.nodes, (NodeSet{2, 3}));
    // More than the limit's nodes hold: not placed, though the host has it.
    plan = *plan_placement(p, xen_create_request(guest(1, 1600), PlacementPolicy::best_effort));
    EXPECT_FALSE(plan.fits());
}

TEST(XenCreatePlan, ReservedCpusAndCpusOutsideThePoolAreNeverChosen) {
    XenHost host = four_nodes();
    host.pool_cpus = CpuSet{0, 1, 2};
    PlacementHost p = xen_create_placement_host(host, CpuSet{0}, std::nullopt);
    Plan plan = *plan_placement(p, xen_create_request(guest(1, 128), PlacementPolicy::best_effort));
    EXPECT_TRUE(plan.fits());
    EXPECT_FALSE(plan.cpus.contains(0));
    EXPECT_FALSE(plan.cpus.contains(3));
    EXPECT_EQ(plan.hard_cpus, (CpuSet{1, 2}));
}

}  // namespace
}  // namespace affine::xen
