#include <gtest/gtest.h>

#include "affine/host.hpp"
#include "affine/host_load.hpp"

namespace affine {
namespace {

TEST(CpuTimes, ParsesPerCpuLinesOnly) {
    auto times = parse_cpu_times(
        "cpu  100 0 50 1000 5 0 0 0 0 0\n"
        "cpu0 60 0 20 500 5 1 2 3 0 0\n"
        "cpu1 40 0 30 500 0 0 0 0 0 0\n"
        "intr 12345\n"
        "ctxt 999\n");
    ASSERT_TRUE(times) << times.error().message;
    ASSERT_EQ(times->size(), 2U);
    EXPECT_EQ(times->at(0).busy, 60U + 20 + 1 + 2 + 3);
    EXPECT_EQ(times->at(0).total, 60U + 20 + 500 + 5 + 1 + 2 + 3);
    EXPECT_EQ(times->at(1).busy, 70U);
}

TEST(CpuTimes, OldKernelsWithFourFieldsAndMalformedLines) {
    auto old = parse_cpu_times("cpu0 1 2 3 4\n");
    ASSERT_TRUE(old);
    EXPECT_EQ(old->at(0).busy, 6U);
    EXPECT_EQ(old->at(0).total, 10U);
    auto bad = parse_cpu_times("cpu0 1 2\n");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("line 1"), std::string::npos);
}

TEST(CpuTimes, ACpuNumberNoKernelHasIsRefused) {
    // Past the largest id affine takes (the readings are indexed by CPU id).
    auto huge = parse_cpu_times("cpu0 1 2 3 4\ncpu2147483647 1 2 3 4\n");
    ASSERT_FALSE(huge);
    EXPECT_NE(huge.error().message.find("line 2"), std::string::npos);
    EXPECT_TRUE(parse_cpu_run_delays("cpu2147483647 0 0 0 0 0 0 5 6 7\n").empty());
}

TEST(BusyCpus, PerNodeBetweenTwoReadings) {
    auto t = synthetic_topology("nodes=2,cores=2");  // CPUs 0-1 on node 0, 2-3 on node 1
    ASSERT_TRUE(t);
    CpuTimes before = {{0, {0, 0}}, {1, {0, 0}}, {2, {0, 0}}, {3, {0, 0}}};
    CpuTimes after = {{0, {100, 100}}, {1, {50, 100}}, {2, {0, 100}}, {3, {10, 100}}};
    auto busy = busy_per_node(*t, cpu_load_between(before, after));
    EXPECT_DOUBLE_EQ(busy.at(0), 1.5);
    EXPECT_DOUBLE_EQ(busy.at(1), 0.1);

    // Reserved CPUs are not counted; a CPU missing from a reading or whose counters
    // went back (it came online between the readings) counts as idle.
    CpuTimes restarted = after;
    restarted[3] = {0, 5};
    restarted.erase(2);
    auto left = busy_per_node(*t, cpu_load_between(before, restarted), CpuSet{0});
    EXPECT_DOUBLE_EQ(left.at(0), 0.5);
    EXPECT_DOUBLE_EQ(left.at(1), 0.0);
}

TEST(BusyCpus, RoundedIntoThePlannersLoad) {
    auto t = synthetic_topology("nodes=3,cores=2");
    ASSERT_TRUE(t);
    PlacementHost host = make_placement_host(*t);
    set_measured_load(host, {{0, 1.5}, {1, 0.49}});
    EXPECT_EQ(host.vcpus_per_node.at(0), 2);
    EXPECT_EQ(host.vcpus_per_node.at(1), 0);
    EXPECT_EQ(host.vcpus_per_node.at(2), 0);
}

}  // namespace
}  // namespace affine
