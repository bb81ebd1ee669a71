#include <gtest/gtest.h>

#include "daemon/engine/process_tracker.hpp"

namespace affine::detail {
namespace {

using namespace std::chrono_literals;

TrackerClock::time_point at(std::chrono::milliseconds ms) { return TrackerClock::time_point{} + 1h + ms; }

TEST(ProcessTracker, FirstScanMarksEveryProcess) {
    ProcessTracker t;
    EXPECT_TRUE(t.scan_due(at(0ms)));
    t.on_scan({1, 20, 300}, at(0ms));
    EXPECT_EQ(t.take_due(at(0ms)), (std::vector<int>{1, 20, 300}));
    EXPECT_TRUE(t.take_due(at(1ms)).empty());
}

TEST(ProcessTracker, EventsMarkOnlyWhatChanged) {
    ProcessTracker t;
    t.set_events_available(true);
    t.on_scan({1, 20}, at(0ms));
    for (int pid : t.take_due(at(0ms))) t.examined(pid, 100 + pid, Interest::none, at(0ms));

    t.on_fork(41);
    t.on_exec(20);
    EXPECT_EQ(t.take_due(at(10ms)), (std::vector<int>{20, 41}));
    EXPECT_FALSE(t.scan_due(at(10ms)));  // events arrive: no scan before its period
    EXPECT_TRUE(t.scan_due(at(10'000ms)));
}

TEST(ProcessTracker, ShortLivedChildrenCostNothing) {
    ProcessTracker t;
    t.set_events_available(true);
    t.on_scan({1}, at(0ms));
    (void)t.take_due(at(0ms));
    t.on_fork(50);
    t.on_exit(50);
    EXPECT_TRUE(t.take_due(at(5ms)).empty());
    EXPECT_EQ(t.take_exited(), (std::vector<ProcessKey>{{50, 0}}));
}

TEST(ProcessTracker, ExitReportsTheExaminedIdentity) {
    ProcessTracker t;
    t.set_events_available(true);
    t.on_scan({7}, at(0ms));
    (void)t.take_due(at(0ms));
    t.examined(7, 1234, Interest::managed, at(0ms));
    t.on_exit(7);
    EXPECT_EQ(t.take_exited(), (std::vector<ProcessKey>{{7, 1234}}));
    EXPECT_FALSE(t.interest(7));
}

TEST(ProcessTracker, LostEventsAreCaughtUpByAScan) {
    ProcessTracker t;
    t.set_events_available(true);
    t.on_scan({1, 7, 8}, at(0ms));
    for (int pid : t.take_due(at(0ms))) t.examined(pid, 1000 + pid, Interest::managed, at(0ms));

    // Under load the socket overflowed: 8 exited and 9 started, and no event said so.
    t.on_events_lost();
    EXPECT_TRUE(t.scan_due(at(100ms)));
    t.on_scan({1, 7, 9}, at(100ms));
    EXPECT_FALSE(t.scan_due(at(101ms)));
    EXPECT_EQ(t.take_exited(), (std::vector<ProcessKey>{{8, 1008}}));
    EXPECT_EQ(t.take_due(at(100ms)), (std::vector<int>{9}));
}

TEST(ProcessTracker, ReusedPidSeenOnlyByItsStartTime) {
    ProcessTracker t;
    t.set_events_available(true);
    t.on_scan({7}, at(0ms));
    (void)t.take_due(at(0ms));
    t.examined(7, 1000, Interest::managed, at(0ms));
    // Lost events hid both the exit of 7 and the start of a new 7; an exec of the new
    // one (or a refresh) gets it examined, and the start time tells it apart.
    t.on_exec(7);
    EXPECT_EQ(t.take_due(at(10ms)), (std::vector<int>{7}));
    t.examined(7, 2000, Interest::none, at(10ms));
    EXPECT_EQ(t.take_exited(), (std::vector<ProcessKey>{{7, 1000}}));
    EXPECT_EQ(t.interest(7), Interest::none);
}

TEST(ProcessTracker, WithoutEventsScansOftenerAndStillFindsEverything) {
    TrackerOptions options;
    options.scan_period_without_events = 1000ms;
    ProcessTracker t(options);
    t.set_events_available(false);
    t.on_scan({1}, at(0ms));
    (void)t.take_due(at(0ms));
    EXPECT_FALSE(t.scan_due(at(999ms)));
    EXPECT_TRUE(t.scan_due(at(1000ms)));
    t.on_scan({1, 2}, at(1000ms));
    EXPECT_EQ(t.take_due(at(1000ms)), (std::vector<int>{2}));
}

TEST(ProcessTracker, WatchedProcessesAreLookedAtAgainFullRefreshCoversTheRest) {
    TrackerOptions options;
    options.watch_period = 2000ms;
    options.full_refresh = 60'000ms;
    ProcessTracker t(options);
    t.set_events_available(true);
    t.on_scan({1, 2, 3}, at(0ms));
    (void)t.take_due(at(0ms));
    t.examined(1, 11, Interest::none, at(0ms));
    t.examined(2, 12, Interest::watched, at(0ms), Growth::cpu_time);
    t.examined(3, 13, Interest::managed, at(0ms));
    EXPECT_TRUE(t.take_due(at(1999ms)).empty());
    EXPECT_EQ(t.take_due(at(2000ms)), (std::vector<int>{2}));
    t.examined(2, 12, Interest::watched, at(2000ms), Growth::cpu_time);
    // A cgroup move or a uid change sends no event: the full refresh sees it. Its
    // program did not change (that sends one): due for the refresh only.
    t.on_exec(3);
    EXPECT_EQ(t.take_due(at(60'000ms)), (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(t.refresh_due(1));
    EXPECT_FALSE(t.full_look_due(1));
    EXPECT_TRUE(t.refresh_due(2));
    EXPECT_FALSE(t.refresh_due(3));  // an event marked it: a full look
    EXPECT_TRUE(t.full_look_due(3));
    EXPECT_EQ(t.start_time(1), 11U);
    t.examined(1, 11, Interest::none, at(60'000ms));
    EXPECT_FALSE(t.refresh_due(1));
    EXPECT_EQ(t.start_time(4), std::nullopt);
}

// A watched process that does not grow is looked at less often; growth, an event
// or the full refresh bring the short period (and a full look) back.
TEST(ProcessTracker, QuietWatchedProcessesAreLookedAtLessOften) {
    TrackerOptions options;
    options.watch_period = 2000ms;
    options.watch_period_quiet = 10'000ms;
    options.quiet_looks = 2;
    options.full_refresh = 600'000ms;
    ProcessTracker t(options);
    t.set_events_available(true);
    t.on_scan({2}, at(0ms));
    (void)t.take_due(at(0ms));
    EXPECT_TRUE(t.full_look_due(2));  // never looked at
    t.examined(2, 12, Interest::watched, at(0ms));
    EXPECT_FALSE(t.full_look_due(2));
    for (int look = 1; look <= 2; ++look) {  // two quiet looks, 2 s apart
        EXPECT_EQ(t.take_due(at(look * 2000ms)), (std::vector<int>{2}));
        EXPECT_FALSE(t.full_look_due(2));  // only its period made it due
        t.examined(2, 12, Interest::watched, at(look * 2000ms), Growth::none);
    }
    EXPECT_TRUE(t.take_due(at(6000ms)).empty());
    EXPECT_TRUE(t.take_due(at(13'999ms)).empty());
    EXPECT_EQ(t.take_due(at(14'000ms)), (std::vector<int>{2}));
    t.examined(2, 12, Interest::watched, at(14'000ms), Growth::cpu_time);  // it grew
    EXPECT_EQ(t.take_due(at(16'000ms)), (std::vector<int>{2}));
    t.examined(2, 12, Interest::watched, at(16'000ms), Growth::none);
    t.on_exec(2);  // a new program: a full look at the next step
    EXPECT_EQ(t.take_due(at(16'500ms)), (std::vector<int>{2}));
    EXPECT_TRUE(t.full_look_due(2));
}

// A watched process that stays one size for a minute of quiet looks is looked at
// every 30 s; growth brings the short period back.
TEST(ProcessTracker, StillWatchedProcessesAreLookedAtLeastOften) {
    TrackerOptions options;
    options.watch_period = 2000ms;
    options.watch_period_quiet = 10'000ms;
    options.quiet_looks = 2;
    options.watch_period_still = 30'000ms;
    options.still_looks = 2;
    options.full_refresh = 600'000ms;
    ProcessTracker t(options);
    t.set_events_available(true);
    t.on_scan({2}, at(0ms));
    (void)t.take_due(at(0ms));
    t.examined(2, 12, Interest::watched, at(0ms), Growth::cpu_time);  // not filling its memory
    std::vector<long long> looks;
    for (long long ms = 500; ms <= 120'000; ms += 500)
        if (!t.take_due(at(std::chrono::milliseconds(ms))).empty()) {
            looks.push_back(ms);
            t.examined(2, 12, Interest::watched, at(std::chrono::milliseconds(ms)), Growth::none);
        }
    // 2 s apart twice, 10 s apart twice, then 30 s apart.
    EXPECT_EQ(looks, (std::vector<long long>{2000, 4000, 14'000, 24'000, 54'000, 84'000, 114'000}));
    t.examined(2, 12, Interest::watched, at(114'500ms), Growth::cpu_time);  // it grew
    EXPECT_EQ(t.take_due(at(116'500ms)), (std::vector<int>{2}));
}

TEST(ProcessTracker, ManyProcessesFewLooks) {
    ProcessTracker t;
    t.set_events_available(true);
    std::vector<int> pids;
    for (int pid = 1; pid <= 5000; ++pid) pids.push_back(pid);
    t.on_scan(pids, at(0ms));
    for (int pid : t.take_due(at(0ms))) t.examined(pid, 1, Interest::none, at(0ms));
    t.on_exec(4000);
    EXPECT_EQ(t.take_due(at(500ms)).size(), 1U);
    EXPECT_EQ(t.size(), 5000U);
}


// A watched process whose resident memory grows is filling it: it is looked at
// again after the short growing period (placing it late costs seconds of memory
// moved); CPU time alone, or no growth, gives the ordinary period back.
TEST(ProcessTracker, FillingWatchedProcessesAreLookedAtSooner) {
    TrackerOptions options;
    options.watch_period = 2000ms;
    options.watch_period_growing = 500ms;
    options.full_refresh = 600'000ms;
    ProcessTracker t(options);
    t.set_events_available(true);
    t.on_exec(2);
    (void)t.take_due(at(0ms));
    t.examined(2, 12, Interest::watched, at(0ms));  // a first look counts as growth
    EXPECT_TRUE(t.take_due(at(499ms)).empty());
    EXPECT_EQ(t.take_due(at(500ms)), (std::vector<int>{2}));
    t.examined(2, 12, Interest::watched, at(500ms), Growth::memory);
    EXPECT_EQ(t.take_due(at(1000ms)), (std::vector<int>{2}));
    t.examined(2, 12, Interest::watched, at(1000ms), Growth::cpu_time);  // busy, no bigger
    EXPECT_TRUE(t.take_due(at(1500ms)).empty());
    EXPECT_TRUE(t.take_due(at(2999ms)).empty());
    EXPECT_EQ(t.take_due(at(3000ms)), (std::vector<int>{2}));
    t.examined(2, 12, Interest::watched, at(3000ms), Growth::none);
    EXPECT_TRUE(t.take_due(at(3500ms)).empty());
}

}  // namespace
}  // namespace affine::detail
