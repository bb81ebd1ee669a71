// The placement loop's pure decisions about one process: CPU use from readings,
// who counts as pinned by someone else, the facts the rules see, and the host the
// planner sees from the daemon's measurements.
#include <gtest/gtest.h>

#include "affine/host.hpp"
#include "affine/host_load.hpp"
#include "daemon/engine/placement_watch.hpp"

namespace affine::detail {
namespace {

using namespace std::chrono_literals;

TrackerClock::time_point at(std::chrono::milliseconds ms) { return TrackerClock::time_point{} + 1h + ms; }

TEST(PlacementWatch, CpuUseNeedsTwoReadingsAndAverages) {
    CpuUse first = next_cpu_use(std::nullopt, 7, 100, at(0ms), 100.0);
    EXPECT_FALSE(first.cpus);
    CpuUse second = next_cpu_use(first, 7, 300, at(1000ms), 100.0);  // 2 s of CPU in 1 s
    ASSERT_TRUE(second.cpus);
    EXPECT_DOUBLE_EQ(*second.cpus, 2.0);
    CpuUse third = next_cpu_use(second, 7, 300, at(2000ms), 100.0);  // idle for 1 s
    EXPECT_DOUBLE_EQ(*third.cpus, 1.0);
    // Another process under the same pid starts over.
    EXPECT_FALSE(next_cpu_use(third, 8, 400, at(3000ms), 100.0).cpus);
}

TEST(PlacementWatch, PinnedMeansNarrowerThanItsCpuset) {
    EXPECT_FALSE(pinned_by_someone(CpuSet{0, 1, 2, 3}, CpuSet{0, 1, 2, 3}));
    EXPECT_FALSE(pinned_by_someone(CpuSet::range(0, 63), CpuSet{0, 1, 2, 3}));  // a mask wider than the cpuset
    EXPECT_TRUE(pinned_by_someone(CpuSet{0, 1}, CpuSet{0, 1, 2, 3}));          // numactl --cpunodebind, taskset
    EXPECT_TRUE(pinned_by_someone(CpuSet{1}, CpuSet{0, 1, 2, 3}));
}

TEST(PlacementWatch, FactsCarryWhatTheRulesNeed) {
    ProcessReading r;
    r.pid = 42;
    r.comm = "postgres";
    r.cgroup = "/system.slice/postgresql.service";
    r.uid = 108;
    r.resident_bytes = 512 << 20;
    r.affinity = CpuSet{0, 1};
    r.allowed = CpuSet{0, 1, 2, 3};
    WorkloadFacts f = workload_facts(r, 0.75);
    EXPECT_EQ(f.comm, "postgres");
    EXPECT_EQ(f.uid, 108U);
    EXPECT_EQ(f.cpus, 0.75);
    EXPECT_TRUE(f.pinned_by_other);
    PlacementRules rules;
    PlacementRule rule;
    rule.name = "pg";
    rule.match.comm = {"postgres"};
    rules.rules.push_back(rule);
    EXPECT_EQ(decide_placement_rule(rules, f).verdict, RuleVerdict::never_taken);
    r.affinity = CpuSet{0, 1, 2, 3};
    EXPECT_EQ(decide_placement_rule(rules, workload_facts(r, std::nullopt)).verdict, RuleVerdict::place);
    EXPECT_EQ(interest_of(RuleVerdict::place), Interest::managed);
    EXPECT_EQ(interest_of(RuleVerdict::too_small), Interest::watched);
    EXPECT_EQ(interest_of(RuleVerdict::excluded), Interest::none);
}

TEST(PlacementWatch, TheMeasuredHost) {
    auto t = synthetic_topology("nodes=2,cores=2,mem=1G");
    ASSERT_TRUE(t);
    // CPUs 0-1 on node 0, 2-3 on node 1; CPU 3 unknown (offline): idle.
    auto busy = busy_per_node(*t, CpuLoad{{1.0, 0.6, 0.2, -1.0}}, CpuSet{1});
    EXPECT_DOUBLE_EQ(busy[0], 1.0);
    EXPECT_DOUBLE_EQ(busy[1], 0.2);
    // Tasks waiting on a run queue are demand too: a node asked for more than it has.
    auto demand = busy_per_node(*t, CpuLoad{{1.0, 1.0, 0.2, 0.0}}, {}, {1.5, 0.5, 0.0, 0.0});
    EXPECT_DOUBLE_EQ(demand[0], 4.0);
    EXPECT_DOUBLE_EQ(demand[1], 0.2);
    PlacementHost host = measured_placement_host(*t, {{0, 100 << 20}, {1, std::uint64_t{8} << 30}},
                                                 CpuLoad{{1.0, 0.6, 0.2, -1.0}}, {0.6}, CpuSet{1});
    EXPECT_EQ(host.topology.node(0)->memory_free_bytes, std::uint64_t{100} << 20);
    EXPECT_EQ(host.topology.node(1)->memory_free_bytes, std::uint64_t{1} << 30);  // capped at its total
    EXPECT_EQ(host.vcpus_per_node[0], 2);
    EXPECT_EQ(host.vcpus_per_node[1], 0);
    EXPECT_EQ(host.reserved, CpuSet{1});
}

}  // namespace
}  // namespace affine::detail
