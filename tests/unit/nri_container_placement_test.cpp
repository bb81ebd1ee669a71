// The container placement rules of `affine nri` on made-up hosts of 2, 8, 16 and 64
// nodes: exclusive CPUs, NUMA-aligned shares, re-pinning, policies, synchronisation.
#include <gtest/gtest.h>

#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "nri/container_placement.hpp"

namespace affine::nri {
namespace {

PlacementHost host(const std::string& spec, const std::string& reserved = "") {
    auto t = synthetic_topology(spec);
    EXPECT_TRUE(t) << spec;
    CpuSet r;
    if (!reserved.empty()) r = *parse_cpu_set(reserved, *t);
    return make_placement_host(*t, r);
}

constexpr std::int64_t gib = 1LL << 30;

// A Guaranteed container of `cpus` whole CPUs, as the kubelet writes it.
ContainerSpec guaranteed(const std::string& id, int cpus, std::int64_t memory = gib) {
    ContainerSpec s;
    s.id = id;
    s.name = id;
    s.pod = "default/" + id;
    s.cpu_shares = static_cast<std::uint64_t>(cpus) * 1024;
    s.cpu_quota = cpus * 100000;
    s.cpu_period = 100000;
    s.memory_limit = memory;
    return s;
}

ContainerSpec burstable(const std::string& id, int request_milli, std::int64_t memory = gib) {
    ContainerSpec s;
    s.id = id;
    s.name = id;
    s.pod = "default/" + id;
    s.cpu_shares = static_cast<std::uint64_t>(request_milli) * 1024 / 1000;
    s.cpu_period = 100000;
    s.memory_limit = memory;
    return s;
}

ContainerSpec best_effort(const std::string& id) {
    ContainerSpec s;
    s.id = id;
    s.name = id;
    s.pod = "default/" + id;
    s.cpu_shares = 2;
    return s;
}

// No CPU is both exclusive to one container and in another's cpuset.
void expect_exclusive_alone(const ContainerPlacer& p) {
    for (const auto& [id, c] : p.containers()) {
        if (c.mode != CpuMode::exclusive) continue;
        for (const auto& [other, o] : p.containers())
            if (other != id) {
                EXPECT_FALSE(o.assigned.cpus.intersects(c.exclusive)) << id << " and " << other;
            }
    }
}

TEST(NriQos, ClassesAndNeedsFromTheLinuxResources) {
    EXPECT_EQ(qos_class(guaranteed("g", 2)), QosClass::guaranteed);
    EXPECT_EQ(exclusive_cpu_count(guaranteed("g", 2)), 2);
    EXPECT_EQ(qos_class(burstable("b", 500)), QosClass::burstable);
    EXPECT_EQ(exclusive_cpu_count(burstable("b", 500)), 0);
    EXPECT_EQ(qos_class(best_effort("e")), QosClass::best_effort);
    ContainerSpec fractional = guaranteed("f", 1);
    fractional.cpu_shares = 1536;
    fractional.cpu_quota = 150000;
    EXPECT_EQ(qos_class(fractional), QosClass::guaranteed);
    EXPECT_EQ(exclusive_cpu_count(fractional), 0);  // not whole CPUs: shared
    EXPECT_EQ(cpu_need(fractional), 2);
    ContainerSpec soft = guaranteed("s", 2);
    soft.soft = true;
    EXPECT_EQ(exclusive_cpu_count(soft), 0);
}

TEST(NriPlacement, TwoNodesExclusiveThenSharedAlignedAndRepinned) {
    ContainerPlacer p(host("nodes=2,cores=4,mem=8G"));  // CPUs 0-3 node 0, 4-7 node 1
    auto shared = p.create(burstable("web", 500));
    ASSERT_TRUE(shared);
    EXPECT_EQ(to_list(shared->assignment.cpus), "0-3");
    EXPECT_EQ(to_list(shared->assignment.mems), "0");
    auto db = p.create(guaranteed("db", 2));
    ASSERT_TRUE(db);
    // The planner spreads: node 1 has no load yet.
    EXPECT_EQ(to_list(db->assignment.cpus), "4-5");
    EXPECT_EQ(to_list(db->assignment.mems), "1");
    EXPECT_TRUE(db->updates.empty());
    auto cache = p.create(guaranteed("cache", 3));
    ASSERT_TRUE(cache);
    EXPECT_EQ(to_list(cache->assignment.cpus), "0-2");
    // web loses the CPUs cache took, in the answer that creates cache.
    ASSERT_EQ(cache->updates.size(), 1u);
    EXPECT_EQ(cache->updates[0].id, "web");
    EXPECT_EQ(to_list(cache->updates[0].assignment.cpus), "3");
    expect_exclusive_alone(p);
    EXPECT_EQ(to_list(p.shared_pool()), "3,6-7");
    // Stopping cache gives its CPUs back to web.
    auto back = p.remove("cache");
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(to_list(back[0].assignment.cpus), "0-3");
    EXPECT_TRUE(p.remove("cache").empty());
}

// The plugin rewrites its status file only when the revision moved.
TEST(NriPlacement, RevisionMovesWithEveryChangeOnly) {
    ContainerPlacer p(host("nodes=2,cores=4,mem=8G"));
    auto r0 = p.revision();
    ASSERT_TRUE(p.create(burstable("web", 500)));
    auto r1 = p.revision();
    EXPECT_NE(r1, r0);
    EXPECT_FALSE(p.create(burstable("web", 500)));  // already placed: nothing changes
    EXPECT_EQ(p.revision(), r1);
    p.remove("nobody");
    EXPECT_EQ(p.revision(), r1);
    ASSERT_TRUE(p.create(guaranteed("db", 2)));
    auto r2 = p.revision();
    EXPECT_NE(r2, r1);
    p.remove("db");
    EXPECT_NE(p.revision(), r2);
    auto r3 = p.revision();
    p.synchronize({});
    EXPECT_NE(p.revision(), r3);
    EXPECT_TRUE(p.containers().empty());
}

TEST(NriPlacement, OneSharedCpuAlwaysStays) {
    ContainerPlacer p(host("nodes=2,cores=2,mem=8G"));
    ASSERT_TRUE(p.create(guaranteed("a", 3)));
    auto b = p.create(guaranteed("b", 1));  // would empty the shared pool
    ASSERT_TRUE(b);
    EXPECT_EQ(p.containers().at("b").mode, CpuMode::aligned);
    EXPECT_NE(b->log.find("one must stay"), std::string::npos);
    EXPECT_EQ(p.shared_pool().count(), 1);
    expect_exclusive_alone(p);
}

TEST(NriPlacement, ReservedCpusAreNeverGiven) {
    ContainerPlacer p(host("nodes=2,cores=4,mem=8G", "0-1"));
    auto a = p.create(guaranteed("a", 2));
    auto b = p.create(burstable("b", 100));
    auto c = p.create(best_effort("c"));
    for (const auto* d : {&*a, &*b, &*c}) EXPECT_FALSE(d->assignment.cpus.contains(0) || d->assignment.cpus.contains(1));
}

TEST(NriPlacement, EightNodesMemoryDecidesTheNodes) {
    ContainerPlacer p(host("nodes=8,sockets=2,cores=4,mem=4G"));
    auto big = p.create(burstable("big", 1000, 10 * gib));  // three 4G nodes of one socket
    ASSERT_TRUE(big);
    EXPECT_EQ(p.containers().at("big").nodes.count(), 3);
    EXPECT_EQ(big->assignment.mems, p.containers().at("big").nodes);
    auto t = synthetic_topology("nodes=8,sockets=2,cores=4,mem=4G");
    EXPECT_EQ(t->nodes_of(big->assignment.cpus), big->assignment.mems);
}

TEST(NriPlacement, SixteenNodesPoliciesAndSoft) {
    ContainerPlacer p(host("nodes=16,sockets=4,cores=2,mem=2G"));
    ContainerSpec hard = burstable("hard", 1000, 64 * gib);  // more than the host has
    hard.policy = ContainerPolicy::best_effort_hard;
    auto refused = p.create(hard);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("best-effort-hard"), std::string::npos);
    // More memory than the host has free, best-effort: the whole pool, every node.
    auto pool = p.create(burstable("lenient", 1000, 40 * gib));
    ASSERT_TRUE(pool);
    EXPECT_EQ(p.containers().at("lenient").mode, CpuMode::pool);
    EXPECT_EQ(pool->assignment.cpus, p.shared_pool());
    EXPECT_EQ(pool->assignment.mems.count(), 16);
    ContainerSpec eight = burstable("eight", 8000, 3 * gib);  // 8 CPUs: 4 nodes of 2 cores
    ASSERT_TRUE(p.create(eight));
    EXPECT_EQ(p.containers().at("eight").nodes.count(), 4);
    ContainerSpec mem = burstable("mem", 1000, gib);
    mem.policy = ContainerPolicy::prio_mem_only;
    auto m = p.create(mem);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->assignment.cpus, p.shared_pool());
    EXPECT_EQ(m->assignment.mems.count(), 1);
    ContainerSpec soft = guaranteed("soft", 2);
    soft.soft = true;
    auto s = p.create(soft);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->assignment.cpus, p.shared_pool());
    EXPECT_EQ(p.containers().at("soft").mode, CpuMode::pool);
}

TEST(NriPlacement, SixtyFourNodesNoNodeCapAndSpread) {
    ContainerPlacer p(host("nodes=64,sockets=8,cores=4,mem=2G"));
    NodeSet used;
    for (int i = 0; i < 64; ++i) {
        auto d = p.create(guaranteed("g" + std::to_string(i), 2, gib / 2));
        ASSERT_TRUE(d) << i;
        EXPECT_EQ(d->assignment.mems.count(), 1) << i;
        used |= d->assignment.mems;
    }
    EXPECT_EQ(used.count(), 64);  // every node got one: the load spreads
    auto wide = p.create(burstable("wide", 40000, 30 * gib));  // 40 CPUs, 30G: many nodes
    ASSERT_TRUE(wide);
    EXPECT_GT(p.containers().at("wide").nodes.count(), 8);
    expect_exclusive_alone(p);
}

TEST(NriPlacement, SynchronizeKeepsWhatIsRunningAndPlacesTheRest) {
    PlacementHost h = host("nodes=2,cores=4,mem=8G");
    ContainerPlacer first(h);
    ASSERT_TRUE(first.create(burstable("web", 500)));
    ASSERT_TRUE(first.create(guaranteed("db", 2)));
    std::vector<RunningContainer> running;
    for (const auto& [id, c] : first.containers()) running.push_back({c.spec, c.assigned});
    // A restart of either side: nothing changes.
    ContainerPlacer again(h);
    EXPECT_TRUE(again.synchronize(running).empty());
    EXPECT_EQ(again.containers().at("db").exclusive, first.containers().at("db").exclusive);
    EXPECT_TRUE(again.synchronize(running).empty());  // idempotent on the same placer
    // A container created while the plugin was down has no cpuset: placed now, and
    // the shared containers make room if it takes exclusive CPUs.
    running.push_back({guaranteed("late", 2), {}});
    auto decisions = again.synchronize(running);
    ASSERT_FALSE(decisions.empty());
    bool late = false;
    for (const Decision& d : decisions) late = late || (d.id == "late" && d.assignment.cpus.count() == 2);
    EXPECT_TRUE(late);
    expect_exclusive_alone(again);
    // Two containers claiming one exclusive CPU: the second is placed anew.
    std::vector<RunningContainer> clash = {{guaranteed("x", 1), {CpuSet{4}, NodeSet{1}}},
                                           {guaranteed("y", 1), {CpuSet{4}, NodeSet{1}}}};
    ContainerPlacer third(h);
    auto fixed = third.synchronize(clash);
    ASSERT_EQ(fixed.size(), 1u);
    EXPECT_EQ(fixed[0].id, "y");
    EXPECT_FALSE(fixed[0].assignment.cpus.contains(4));
}

TEST(NriPlacement, PolicyNames) {
    EXPECT_EQ(*parse_container_policy("prio-mem-only"), ContainerPolicy::prio_mem_only);
    auto bad = parse_container_policy("any");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "policy 'any': allowed best-effort, best-effort-hard, prio-mem-only");
}

}  // namespace
}  // namespace affine::nri
