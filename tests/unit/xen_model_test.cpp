// The rules of the Xen affinity model (docs/xen.md), each with its edge cases.
#include <gtest/gtest.h>

#include <cerrno>

#include "affine/host.hpp"
#include "affine/xen_model.hpp"

namespace affine::xen {
namespace {

// 2 nodes x 2 CPUs, 1 GiB each: the QEMU host of the system test.
XenHost two_nodes(int dom0_vcpus = 4) {
    XenHost host = make_xen_host(*synthetic_topology("nodes=2,cores=2,mem=1G"));
    EXPECT_TRUE(create_domain(host, dom0_vcpus, dom0_vcpus, 0));
    return host;
}

constexpr auto HARD = AffinityFlags::hard;
constexpr auto SOFT = AffinityFlags::soft;
constexpr auto FORCE = AffinityFlags::force;

TEST(XenModel, NewDomainStartsWithEveryCpuAndAutoNodes) {
    XenHost host = two_nodes();
    const Domain& d = *host.domain(0);
    for (const Vcpu& v : d.vcpus) {
        EXPECT_EQ(v.hard, CpuSet::range(0, 3));
        EXPECT_EQ(v.soft, CpuSet::range(0, 3));
    }
    EXPECT_EQ(d.node_affinity, (NodeSet{0, 1}));
    EXPECT_EQ(d.node_affinity_mode, NodeAffinityMode::automatic);
}

TEST(XenModel, PoolChangeMovesAutoNodeAffinityOnly) {
    XenHost host = two_nodes();
    ASSERT_TRUE(create_domain(host, 2, 2, 1));
    ASSERT_TRUE(set_node_affinity(host, 1, NodeSet{1}));
    set_pool_cpus(host, CpuSet{2, 3, 9});  // CPU 9 does not exist: dropped
    EXPECT_EQ(host.pool_cpus, (CpuSet{2, 3}));
    EXPECT_EQ(host.domain(0)->node_affinity, NodeSet{1});  // auto: follows the pool
    set_pool_cpus(host, CpuSet{0});
    EXPECT_EQ(host.domain(0)->node_affinity, NodeSet{0});
    EXPECT_EQ(host.domain(1)->node_affinity, NodeSet{1});  // explicit: kept
}

TEST(XenModel, HardIsReturnedIntersectedWithThePool) {
    XenHost host = two_nodes();
    auto r = set_vcpu_affinity(host, 0, 0, CpuSet::range(0, 7), {}, HARD);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r->hard, CpuSet::range(0, 3));  // all-ones in, 0f out
    EXPECT_FALSE(r->soft);
    host.pool_cpus = CpuSet{0, 1, 2};
    r = set_vcpu_affinity(host, 0, 0, CpuSet{2, 3}, {}, HARD);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r->hard, CpuSet{2});
    // GET returns the stored mask, not intersected.
    EXPECT_EQ(get_vcpu_affinity(host, 0, 0)->hard, (CpuSet{2, 3}));
}

TEST(XenModel, HardWithoutAPoolCpuIsEinvalAndChangesNothing) {
    XenHost host = two_nodes();
    host.pool_cpus = CpuSet{0, 1, 2};
    auto r = set_vcpu_affinity(host, 0, 0, CpuSet{3}, CpuSet{3}, HARD | SOFT);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, EINVAL);
    EXPECT_EQ(get_vcpu_affinity(host, 0, 0)->hard, CpuSet::range(0, 3));
    EXPECT_EQ(get_vcpu_affinity(host, 0, 0)->soft, CpuSet::range(0, 3));
}

TEST(XenModel, ErrorsInXensOrder) {
    XenHost host = two_nodes();
    EXPECT_EQ(set_vcpu_affinity(host, 7, 0, CpuSet{0}, {}, HARD).error().code, ESRCH);   // no domain
    EXPECT_EQ(set_vcpu_affinity(host, 0, 4, CpuSet{0}, {}, HARD).error().code, EINVAL);  // >= max_vcpus
    EXPECT_EQ(set_vcpu_affinity(host, 0, 0, CpuSet{0}, {}, AffinityFlags::none).error().code, EINVAL);
    EXPECT_EQ(set_vcpu_affinity(host, 0, 0, CpuSet{0}, {}, FORCE).error().code, EINVAL);
    ASSERT_TRUE(create_domain(host, 2, 0, 1));                                            // none allocated
    EXPECT_EQ(set_vcpu_affinity(host, 1, 0, CpuSet{0}, {}, HARD).error().code, ESRCH);
    EXPECT_EQ(set_vcpu_affinity(host, 1, 2, CpuSet{0}, {}, HARD).error().code, EINVAL);
    EXPECT_EQ(get_vcpu_affinity(host, 1, 1).error().code, ESRCH);
}

TEST(XenModel, SoftIsNeverValidatedAndMayBeEffectivelyEmpty) {
    XenHost host = two_nodes();
    // Soft disjoint from hard: accepted, effective soft empty.
    auto r = set_vcpu_affinity(host, 0, 0, CpuSet{0, 1}, CpuSet{2, 3}, HARD | SOFT);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r->hard, (CpuSet{0, 1}));
    EXPECT_TRUE(r->soft->empty());
    EXPECT_EQ(get_vcpu_affinity(host, 0, 0)->soft, (CpuSet{2, 3}));
    EXPECT_TRUE(effective_soft(host, *host.domain(0)->vcpu(0)).empty());
    // Hard inside soft: effective soft is hard.
    r = set_vcpu_affinity(host, 0, 1, CpuSet{2}, CpuSet::range(0, 3), HARD | SOFT);
    EXPECT_EQ(*r->soft, CpuSet{2});
}

TEST(XenModel, TemporaryPinIsEbusyUnlessForced) {
    XenHost host = two_nodes();
    host.domain(0)->vcpu(1)->temporarily_pinned = true;
    EXPECT_EQ(set_vcpu_affinity(host, 0, 1, CpuSet{0}, {}, HARD).error().code, EBUSY);
    EXPECT_EQ(set_vcpu_affinity(host, 0, 1, {}, CpuSet{0}, SOFT).error().code, EBUSY);
    auto r = set_vcpu_affinity(host, 0, 1, CpuSet{0}, {}, HARD | FORCE);
    ASSERT_TRUE(r);
    EXPECT_FALSE(host.domain(0)->vcpu(1)->temporarily_pinned);
}

TEST(XenModel, AutoNodeAffinityFollowsSoftWithinHard) {
    XenHost host = two_nodes();
    for (int v = 0; v < 4; ++v) ASSERT_TRUE(set_vcpu_affinity(host, 0, v, CpuSet::range(0, 3), CpuSet{2, 3}, HARD | SOFT));
    EXPECT_EQ(host.domain(0)->node_affinity, NodeSet{1});  // seen: 0x3 -> 0x2
    // Soft outside every hard mask: S empty, the nodes of H count.
    for (int v = 0; v < 4; ++v) ASSERT_TRUE(set_vcpu_affinity(host, 0, v, CpuSet{0, 1}, CpuSet{2, 3}, HARD | SOFT));
    EXPECT_EQ(host.domain(0)->node_affinity, NodeSet{0});
    // One vCPU's soft reaching node 1 within its hard: the union counts.
    ASSERT_TRUE(set_vcpu_affinity(host, 0, 3, CpuSet::range(0, 3), CpuSet{3}, HARD | SOFT));
    EXPECT_EQ(host.domain(0)->node_affinity, (NodeSet{1}));
}

TEST(XenModel, ExplicitNodeAffinityIsNotTouchedByLaterPinning) {
    XenHost host = two_nodes();
    auto n = set_node_affinity(host, 0, NodeSet{0});
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, NodeSet{0});
    EXPECT_EQ(host.domain(0)->node_affinity_mode, NodeAffinityMode::explicit_nodes);
    for (int v = 0; v < 4; ++v) ASSERT_TRUE(set_vcpu_affinity(host, 0, v, CpuSet{2, 3}, CpuSet{2, 3}, HARD | SOFT));
    EXPECT_EQ(host.domain(0)->node_affinity, NodeSet{0});
}

TEST(XenModel, AllNodesMeansAutoButEveryHostNodeIsExplicit) {
    XenHost host = two_nodes();
    for (int v = 0; v < 4; ++v) ASSERT_TRUE(set_vcpu_affinity(host, 0, v, CpuSet::range(0, 3), CpuSet{2, 3}, HARD | SOFT));
    // Both host nodes by number: explicit (Xen compares with all 64 bits).
    EXPECT_EQ(*set_node_affinity(host, 0, NodeSet{0, 1}), (NodeSet{0, 1}));
    EXPECT_EQ(host.domain(0)->node_affinity_mode, NodeAffinityMode::explicit_nodes);
    // Every node of the map: auto again, recomputed at once.
    EXPECT_EQ(*set_node_affinity(host, 0, every_node()), NodeSet{1});
    EXPECT_EQ(host.domain(0)->node_affinity_mode, NodeAffinityMode::automatic);
}

TEST(XenModel, NodeAffinityWithoutAnOnlineNodeIsEinval) {
    XenHost host = two_nodes();
    EXPECT_EQ(set_node_affinity(host, 0, NodeSet{2}).error().code, EINVAL);
    EXPECT_EQ(set_node_affinity(host, 0, NodeSet{}).error().code, EINVAL);
    EXPECT_EQ(set_node_affinity(host, 9, NodeSet{0}).error().code, ESRCH);
    // Offline nodes beside an online one are stored as given.
    EXPECT_EQ(*set_node_affinity(host, 0, NodeSet{1, 5}), (NodeSet{1, 5}));
}

TEST(XenModel, RefusedCallChangesNothing) {
    // HARD|SOFT on a vCPU the hypervisor pinned: EBUSY, and neither mask nor the
    // node affinity changed. (Xen's soft step can only fail after a successful hard
    // step on errors the model does not simulate (ENOMEM, EFAULT); the model then
    // restores hard as Xen does.)
    XenHost host = two_nodes();
    Vcpu before = *get_vcpu_affinity(host, 0, 0);
    host.domain(0)->vcpu(0)->temporarily_pinned = true;
    auto r = set_vcpu_affinity(host, 0, 0, CpuSet{0}, CpuSet{0}, HARD | SOFT);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, EBUSY);
    EXPECT_EQ(get_vcpu_affinity(host, 0, 0)->hard, before.hard);
    EXPECT_EQ(get_vcpu_affinity(host, 0, 0)->soft, before.soft);
    EXPECT_EQ(host.domain(0)->node_affinity, (NodeSet{0, 1}));
}

TEST(XenModel, MemoryFollowsNodeAffinity) {
    XenHost host = two_nodes();
    ASSERT_TRUE(create_domain(host, 2, 0, 1));
    ASSERT_TRUE(set_node_affinity(host, 1, NodeSet{1}));
    auto placed = allocate_pages(host, 1, 32768);  // 128 MiB
    ASSERT_TRUE(placed);
    EXPECT_EQ(*placed, (std::map<int, std::uint64_t>{{1, 32768}}));
    EXPECT_EQ(host.topology.node(1)->memory_free_bytes, (1024ULL - 128) << 20);
    EXPECT_EQ(host.topology.node(0)->memory_free_bytes, 1024ULL << 20);
    // Round robin over a two-node affinity.
    ASSERT_TRUE(create_domain(host, 1, 1, 2));
    auto spread = allocate_pages(host, 2, 10);
    EXPECT_EQ(*spread, (std::map<int, std::uint64_t>{{0, 5}, {1, 5}}));
    // Node 1 full: the rest comes from the other nodes.
    host.topology.nodes[1].memory_free_bytes = 4 * page_bytes;
    EXPECT_EQ(allocation_order(host, *host.domain(1))[0], 1);
    auto spill = allocate_pages(host, 1, 6);
    EXPECT_EQ(*spill, (std::map<int, std::uint64_t>{{0, 2}, {1, 4}}));
    auto too_much = allocate_pages(host, 1, 1ULL << 40);
    EXPECT_EQ(too_much.error().code, ENOMEM);
    EXPECT_NE(too_much.error().message.find("4P of memory wanted"), std::string::npos) << too_much.error().message;
    // Destroying gives the memory back.
    ASSERT_TRUE(destroy_domain(host, 2));
    EXPECT_EQ(destroy_domain(host, 2).error().code, ESRCH);
    EXPECT_EQ(destroy_domain(host, 0).error().code, EINVAL);  // dom0 stays
    EXPECT_NE(host.domain(0), nullptr);
}

TEST(XenModel, FreshDomainWithoutVcpusKeepsEveryNode) {
    XenHost host = two_nodes();
    ASSERT_TRUE(create_domain(host, 2, 0, 5));
    EXPECT_EQ(host.domain(5)->node_affinity, every_node());
    EXPECT_EQ(create_domain(host, 1, 0, 5).error().code, EEXIST);
    EXPECT_EQ(*create_domain(host, 1, 0), 1);  // lowest free domid
}

}  // namespace
}  // namespace affine::xen
