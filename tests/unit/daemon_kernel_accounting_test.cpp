// The kernel's accounting as the daemon reads it: busy time per CPU (/proc/stat),
// run-queue wait per CPU (/proc/schedstat) and per thread (schedstat).
#include <gtest/gtest.h>

#include "daemon/kernel_accounting.hpp"

namespace affine::daemon {
namespace {

TEST(KernelAccounting, BusyTimePerCpu) {
    auto t = parse_cpu_times("cpu  10 0 10 80 0 0 0 0 0 0\ncpu0 10 0 10 80 0 0 0 0 0 0\ncpu2 1 2 3 4 5 6 7 8 0 0\n");
    ASSERT_TRUE(t);
    ASSERT_EQ(t->size(), 2U);
    EXPECT_EQ(t->at(0).busy, 20U);
    EXPECT_EQ(t->at(0).total, 100U);
    EXPECT_EQ(t->at(2).busy, 1U + 2 + 3 + 6 + 7 + 8);
    auto later = parse_cpu_times("cpu0 60 0 10 130 0 0 0 0 0 0\ncpu2 1 2 3 4 5 6 7 8 0 0\n");
    ASSERT_TRUE(later);
    CpuLoad load = cpu_load_between(*t, *later);
    ASSERT_EQ(load.busy.size(), 3U);
    EXPECT_DOUBLE_EQ(load.busy[0], 0.5);
    EXPECT_LT(load.busy[1], 0);  // offline: unknown
    EXPECT_LT(load.busy[2], 0);  // its counters did not advance: unknown
}

TEST(KernelAccounting, RunQueueWaitPerCpu) {
    const char* before = "version 15\ntimestamp 4295\ncpu0 0 0 100 50 40 30 9000000 1000000000 70\n"
                         "domain0 00000003 1 2 3\ncpu1 0 0 100 50 40 30 9000000 500000000 70\n";
    const char* after = "version 15\ntimestamp 4395\ncpu0 0 0 100 50 40 30 9000000 1500000000 70\n"
                        "cpu1 0 0 100 50 40 30 9000000 500000000 70\ncpu2 0 0 1 1 1 1 1 5 1\n";
    auto a = parse_cpu_run_delays(before);
    ASSERT_EQ(a.size(), 2U);
    EXPECT_EQ(*a[0], 1000000000U);
    auto waiting = waiting_between(a, parse_cpu_run_delays(after), Millis{500});
    ASSERT_EQ(waiting.size(), 3U);
    EXPECT_DOUBLE_EQ(waiting[0], 1.0);  // 0.5 s waited in 0.5 s: one task waiting on average
    EXPECT_DOUBLE_EQ(waiting[1], 0.0);
    EXPECT_DOUBLE_EQ(waiting[2], 0.0);  // no earlier reading
    EXPECT_TRUE(parse_cpu_run_delays("cpu0 1 2 3\n").empty());  // too few fields: unknown
}

TEST(KernelAccounting, CgroupCpuPressure) {
    EXPECT_EQ(parse_cpu_pressure("some avg10=1.50 avg60=0.20 avg300=0.05 total=123456\n"
                                 "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"),
              123456U);
    EXPECT_FALSE(parse_cpu_pressure("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"));
    EXPECT_FALSE(parse_cpu_pressure("some avg10=0.00 total=12x\n"));
    EXPECT_FALSE(parse_cpu_pressure(""));
}

TEST(KernelAccounting, ThreadSchedstat) {
    auto t = parse_schedstat("123456 7890 12\n");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->run_ns, 123456U);
    EXPECT_EQ(t->wait_ns, 7890U);
    EXPECT_FALSE(parse_schedstat("garbage"));
}

}  // namespace
}  // namespace affine::daemon
