// The soft-affinity engine on made-up traces: busy preferred CPUs, idle neighbours,
// flapping load, several threads counting on the same idle CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "affine/host.hpp"
#include "daemon/engine/soft_affinity.hpp"

namespace affine {
namespace {

using std::chrono::milliseconds;

// The system test's guest: 2 nodes of 1 CPU each, distance 21.
Topology two_single_cpu_nodes() { return *synthetic_topology("nodes=2,cores=1"); }

// Drives one thread through a trace, one interval at a time.
struct Trace {
    Topology host = two_single_cpu_nodes();
    SoftAffinityTuning tuning;
    SoftThread thread;
    Millis now{0};
    Millis interval{500};
    std::vector<SoftDecision> changes;

    // The thread was taken a while ago (its minimum dwell has passed).
    explicit Trace(CpuSet hard = {0, 1}, CpuSet soft = {0}) {
        thread = start_soft_thread(host, hard, soft, now);
        now = Millis{5000};
    }

    // One interval: the busy share per CPU and what the thread did.
    SoftDecision step(std::vector<double> busy, double run, double wait) {
        now += interval;
        CpuLoad load{std::move(busy)};
        CapacityBook book(load, host.online_cpus());
        auto d = decide_soft_affinity(thread, ThreadSample{interval, run, wait}, book, host, now, tuning);
        if (d.action != SoftAction::keep) changes.push_back(d);
        return d;
    }
    // n intervals of the same.
    SoftDecision repeat(int n, std::vector<double> busy, double run, double wait) {
        SoftDecision last;
        for (int i = 0; i < n; ++i) last = step(busy, run, wait);
        return last;
    }
};

TEST(SoftAffinity, EffectiveSoftIsSoftWithinHard) {
    EXPECT_EQ(effective_soft_affinity({0, 1}, {1, 2, 3}), (CpuSet{1}));
    EXPECT_TRUE(effective_soft_affinity({0}, {2, 3}).empty());           // disjoint: no preference
    EXPECT_TRUE(effective_soft_affinity({0, 1, 2, 3}, {1, 2}).empty());  // covers hard: no preference
}

TEST(SoftAffinity, StartsHomeOrWithoutPreference) {
    Topology host = two_single_cpu_nodes();
    auto home = start_soft_thread(host, {0, 1}, {0}, Millis{0});
    EXPECT_EQ(home.state, SoftState::home);
    EXPECT_EQ(home.applied, (CpuSet{0}));
    auto none = start_soft_thread(host, {0, 1}, {0, 1}, Millis{0});
    EXPECT_EQ(none.state, SoftState::no_preference);
    EXPECT_EQ(none.applied, (CpuSet{0, 1}));
    EXPECT_NE(none.why.find("cover its whole hard affinity"), std::string::npos);
}

TEST(SoftAffinity, WideningStepsGoNearestFirst) {
    // 4 nodes on 2 sockets: nodes 0-1 share socket 0 (distance 16), 2-3 are 21 away.
    Topology host = *synthetic_topology("nodes=4,sockets=2,cores=2");
    auto steps = widening_steps(host, CpuSet{0}, host.online_cpus());
    ASSERT_EQ(steps.size(), 3U);
    EXPECT_EQ(steps[0], (CpuSet{1}));           // the rest of node 0
    EXPECT_EQ(steps[1], (CpuSet{2, 3}));        // node 1, same socket
    EXPECT_EQ(steps[2], (CpuSet{4, 5, 6, 7}));  // nodes 2-3
    // Only CPUs of hard.
    auto limited = widening_steps(host, CpuSet{0, 1}, CpuSet{0, 1, 6});
    ASSERT_EQ(limited.size(), 1U);
    EXPECT_EQ(limited[0], (CpuSet{6}));
}

TEST(SoftAffinity, BusyHomeAndIdleNeighbourWidensQuickly) {
    Trace t;
    // A hog shares CPU 0: the thread waits half the time; CPU 1 is idle.
    auto d = t.step({1.0, 0.02}, 0.5, 0.5);
    EXPECT_EQ(d.action, SoftAction::widen);
    EXPECT_EQ(d.to, (CpuSet{0, 1}));
    EXPECT_EQ(t.thread.state, SoftState::widened);
    EXPECT_NE(d.reason.find("waited 50%"), std::string::npos) << d.reason;
    EXPECT_NE(d.reason.find("CPU 1 (node 1, distance 21) 98% idle"), std::string::npos) << d.reason;
}

TEST(SoftAffinity, ShortWaitsDoNotWiden) {
    Trace t;
    t.tuning.widen_after = Millis{1000};
    EXPECT_EQ(t.step({1.0, 0.0}, 0.5, 0.5).action, SoftAction::keep);   // waited 0.5 s of 1 s
    EXPECT_EQ(t.step({0.4, 0.0}, 0.4, 0.05).action, SoftAction::keep);  // quiet again: the run restarts
    EXPECT_EQ(t.step({1.0, 0.0}, 0.5, 0.5).action, SoftAction::keep);
    EXPECT_EQ(t.step({1.0, 0.0}, 0.5, 0.5).action, SoftAction::widen);  // 1 s of waiting
}

TEST(SoftAffinity, NoIdleCpuMeansNoWidening) {
    Trace t;
    auto d = t.repeat(5, {1.0, 0.9}, 0.5, 0.5);
    EXPECT_EQ(d.action, SoftAction::keep);
    EXPECT_TRUE(t.changes.empty());
    EXPECT_NE(d.reason.find("no CPU of its hard affinity 0-1 is 50% idle"), std::string::npos) << d.reason;
}

TEST(SoftAffinity, ReturnsHomeOnlyAfterTheQuietPeriodAndStays) {
    Trace t;
    t.tuning.narrow_after = Millis{3000};
    ASSERT_EQ(t.step({1.0, 0.0}, 0.5, 0.5).action, SoftAction::widen);
    // Widened: the hog keeps CPU 0, the thread runs on CPU 1 without waiting.
    t.repeat(10, {1.0, 1.0}, 1.0, 0.0);
    EXPECT_EQ(t.thread.state, SoftState::widened);
    EXPECT_NE(t.thread.why.find("still busy"), std::string::npos) << t.thread.why;
    // The hog exits: CPU 0 idle. Not before narrow_after (3 s = 6 intervals).
    auto d = t.repeat(5, {0.0, 1.0}, 1.0, 0.0);
    EXPECT_EQ(d.action, SoftAction::keep);
    EXPECT_NE(d.reason.find("returns after 3.0 s"), std::string::npos) << d.reason;
    d = t.step({0.0, 1.0}, 1.0, 0.0);
    EXPECT_EQ(d.action, SoftAction::narrow);
    EXPECT_EQ(d.to, (CpuSet{0}));
    EXPECT_NE(d.reason.find("back home"), std::string::npos);
    // Home and busy only by itself: it stays.
    t.repeat(40, {1.0, 0.0}, 1.0, 0.0);
    EXPECT_EQ(t.changes.size(), 2U);
    EXPECT_EQ(t.thread.state, SoftState::home);
}

TEST(SoftAffinity, WidenedThreadRunningAtHomeSeesItsOwnRoom) {
    Trace t;
    ASSERT_EQ(t.step({1.0, 0.0}, 0.5, 0.5).action, SoftAction::widen);
    // The hog is gone and the scheduler put the thread back on CPU 0 itself: CPU 0
    // is busy only with the thread, which counts as room at home.
    t.repeat(7, {1.0, 0.0}, 1.0, 0.0);
    ASSERT_EQ(t.changes.size(), 2U);
    EXPECT_EQ(t.changes.back().action, SoftAction::narrow);
}

TEST(SoftAffinity, SharingHomeWithAHogIsNoRoom) {
    Trace t;
    ASSERT_EQ(t.step({1.0, 0.0}, 0.5, 0.5).action, SoftAction::widen);
    // Still on CPU 0 next to the hog, half the time each, while CPU 1 idles: the
    // scheduler has not moved it yet; home has no room for its demand.
    t.repeat(20, {1.0, 0.0}, 0.5, 0.5);
    EXPECT_EQ(t.thread.state, SoftState::widened);
}

TEST(SoftAffinity, MinimumDwellHoldsAFreshMask) {
    Trace t;
    t.tuning.min_dwell = Millis{2000};
    t.tuning.narrow_after = Millis{500};
    ASSERT_EQ(t.step({1.0, 0.0}, 0.5, 0.5).action, SoftAction::widen);
    // Room at once, but the mask changed less than 2 s ago.
    EXPECT_EQ(t.repeat(3, {0.0, 1.0}, 1.0, 0.0).action, SoftAction::keep);
    EXPECT_EQ(t.step({0.0, 1.0}, 1.0, 0.0).action, SoftAction::narrow);
    // Waiting right after coming home: held for the dwell time too.
    auto d = t.step({1.0, 0.0}, 0.5, 0.5);
    EXPECT_EQ(d.action, SoftAction::keep);
    EXPECT_NE(d.reason.find("minimum dwell"), std::string::npos) << d.reason;
}

TEST(SoftAffinity, FlappingLoadBacksOff) {
    Trace t;
    t.tuning.min_dwell = Millis{500};
    t.tuning.narrow_after = Millis{3000};
    Millis first_delay = narrow_delay(t.thread, t.tuning);
    // A hog that comes and goes: each time the thread comes home it is widened again.
    std::vector<Millis> delays;
    for (int cycle = 0; cycle < 6; ++cycle) {
        while (t.step({1.0, 0.0}, 0.5, 0.5).action != SoftAction::widen) {
        }
        delays.push_back(narrow_delay(t.thread, t.tuning));
        while (t.step({0.0, 1.0}, 1.0, 0.0).action != SoftAction::narrow) {
        }
    }
    EXPECT_EQ(delays.front(), first_delay);          // the first widening is no flap
    EXPECT_EQ(delays[1], first_delay * 2);           // came home and widened again soon after
    EXPECT_EQ(delays[2], first_delay * 4);
    EXPECT_EQ(delays.back(), t.tuning.max_backoff);  // capped
    EXPECT_GE(t.thread.flaps, 5);
    // A long quiet time at home forgets the flaps.
    t.repeat(70, {1.0, 0.0}, 1.0, 0.0);
    ASSERT_EQ(t.step({1.0, 0.0}, 0.5, 0.5).action, SoftAction::widen);
    EXPECT_EQ(narrow_delay(t.thread, t.tuning), first_delay);
}

// With the shipped tuning and the daemon's interval (250 ms), whatever the moment
// a hog takes the thread's home within an interval: widened within 0.5 s of it, and
// home within 1 s of the hog leaving (once widened for longer than min_dwell).
TEST(SoftAffinity, ReactsWithinHalfASecondAndReturnsWithinASecond) {
    const SoftAffinityTuning tuning;
    const Millis interval{250};
    // The share of the interval ending at `now` after `from`.
    auto share_after = [&](Millis from, Millis now) {
        auto covered = std::clamp(now - std::max(from, now - interval), Millis{0}, interval);
        return static_cast<double>(covered.count()) / static_cast<double>(interval.count());
    };
    for (long long phase = 0; phase < interval.count(); phase += 10) {
        Topology host = two_single_cpu_nodes();
        SoftThread thread = start_soft_thread(host, {0, 1}, {0}, Millis{0});
        const Millis hog_in{5000 + phase};
        const Millis hog_out = hog_in + Millis{4000};
        std::optional<Millis> widened;
        std::optional<Millis> home;
        for (Millis now = Millis{5000} + interval; now <= hog_out + Millis{3000}; now += interval) {
            // The hog's share of CPU 0 over the interval; the thread, which wants a
            // whole CPU, waits for what it cannot get.
            double hog = share_after(hog_in, now) - share_after(hog_out, now);
            bool away = thread.state == SoftState::widened;
            double run = away ? 1.0 : 1.0 - hog / 2;
            double wait = away ? 0.0 : hog / 2;
            CpuLoad load{{away ? hog : 1.0, away ? 1.0 : 0.0}};
            CapacityBook book(load, host.online_cpus());
            auto d = decide_soft_affinity(thread, ThreadSample{interval, run, wait}, book, host, now, tuning);
            if (d.action == SoftAction::widen && !widened) widened = now;
            if (d.action == SoftAction::narrow && widened && !home) home = now;
        }
        ASSERT_TRUE(widened) << "hog at +" << phase << " ms";
        EXPECT_LE(*widened - hog_in, Millis{500}) << "hog at +" << phase << " ms";
        ASSERT_TRUE(home) << "hog at +" << phase << " ms";
        EXPECT_GT(*home, hog_out);
        EXPECT_LE(*home - hog_out, Millis{1000}) << "hog at +" << phase << " ms";
    }
}

TEST(SoftAffinity, TwoWaitingThreadsDoNotBothCountOnOneIdleCpu) {
    Topology host = *synthetic_topology("nodes=2,cores=1");
    SoftAffinityTuning tuning;
    auto a = start_soft_thread(host, {0, 1}, {0}, Millis{0});
    auto b = start_soft_thread(host, {0, 1}, {0}, Millis{0});
    CapacityBook book(CpuLoad{{1.0, 0.0}}, host.online_cpus());
    ThreadSample waiting{Millis{500}, 0.5, 0.9};
    auto da = decide_soft_affinity(a, waiting, book, host, Millis{1000}, tuning);
    auto db = decide_soft_affinity(b, waiting, book, host, Millis{1000}, tuning);
    EXPECT_EQ(da.action, SoftAction::widen);
    EXPECT_EQ(db.action, SoftAction::keep);  // CPU 1 is booked by a
}

TEST(SoftAffinity, WidensStepByStepNearestFirst) {
    Topology host = *synthetic_topology("nodes=4,sockets=2,cores=1");  // 1 CPU per node
    SoftAffinityTuning tuning;
    tuning.min_dwell = Millis{500};
    auto t = start_soft_thread(host, host.online_cpus(), {0}, Millis{0});
    ThreadSample waiting{Millis{500}, 0.5, 0.5};
    // Node 1 (same socket) idle: it goes there first.
    CapacityBook b1(CpuLoad{{1.0, 0.0, 0.0, 0.0}}, host.online_cpus());
    auto d1 = decide_soft_affinity(t, waiting, b1, host, Millis{500}, tuning);
    EXPECT_EQ(d1.to, (CpuSet{0, 1}));
    // Still waiting and node 1 busy now: the far socket next.
    CapacityBook b2(CpuLoad{{1.0, 1.0, 0.0, 0.3}}, host.online_cpus());
    auto d2 = decide_soft_affinity(t, waiting, b2, host, Millis{1000}, tuning);
    EXPECT_EQ(d2.action, SoftAction::widen);
    EXPECT_EQ(d2.to, (CpuSet{0, 1, 2, 3}));
    EXPECT_EQ(t.level, 2);
    // Back home in one step once node 0 has room.
    for (int i = 3; i < 12; ++i) {
        CapacityBook b(CpuLoad{{0.0, 1.0, 1.0, 0.3}}, host.online_cpus());
        decide_soft_affinity(t, ThreadSample{Millis{500}, 1.0, 0.0}, b, host, Millis{500 * i}, tuning);
    }
    EXPECT_EQ(t.applied, (CpuSet{0}));
}

TEST(SoftAffinity, ResumesWidenedAfterARestart) {
    Topology host = *synthetic_topology("nodes=4,sockets=2,cores=1");
    auto t = resume_soft_thread(host, host.online_cpus(), {0}, {0, 1}, Millis{0});
    EXPECT_EQ(t.state, SoftState::widened);
    EXPECT_EQ(t.level, 1);
    EXPECT_EQ(t.applied, (CpuSet{0, 1}));
    auto odd = resume_soft_thread(host, host.online_cpus(), {0}, {0, 2}, Millis{0});  // not a widening step
    EXPECT_EQ(odd.state, SoftState::home);
    EXPECT_EQ(odd.applied, CpuSet{0});
}

TEST(SoftAffinity, NoPreferenceNeverChanges) {
    Trace t(CpuSet{0, 1}, CpuSet{0, 1});
    t.repeat(10, {1.0, 0.0}, 0.5, 0.5);
    EXPECT_TRUE(t.changes.empty());
    EXPECT_EQ(t.thread.applied, (CpuSet{0, 1}));
}

// A thread at rest takes a shortcut through the rule; on any trace, it decides
// exactly what the full rule decides for the same thread with the shortcut off.
TEST(SoftAffinity, RestingShortcutDecidesAsTheFullRule) {
    Topology host = *synthetic_topology("nodes=2,cores=2");
    SoftAffinityTuning tuning;
    SoftThread fast = start_soft_thread(host, {0, 1, 2, 3}, {0, 1}, Millis{0});
    EXPECT_TRUE(at_rest(fast));
    SoftThread full = fast;
    unsigned seed = 12345;
    auto next = [&] { return (seed = seed * 1103515245U + 12345U) / 65536U % 100U; };
    int shortcuts = 0;
    for (int i = 1; i <= 2000; ++i) {
        Millis now{5000 + 250 * i};
        // Phases of contention and of calm, so the thread widens, returns and rests.
        bool contended = (i / 40) % 3 == 0;
        std::vector<double> busy = {contended ? 1.0 : next() / 200.0, contended ? 1.0 : next() / 200.0,
                                    next() / 100.0, next() / 100.0};
        double wait = contended && next() < 80 ? 0.6 : 0.0;
        ThreadSample sample{Millis{250}, next() / 400.0, wait};
        if (fast.resting && wait < tuning.wait_threshold) ++shortcuts;
        full.resting = false;
        CapacityBook fast_book(CpuLoad{busy}, host.online_cpus());
        CapacityBook full_book(CpuLoad{busy}, host.online_cpus());
        auto a = decide_soft_affinity(fast, sample, fast_book, host, now, tuning);
        auto b = decide_soft_affinity(full, sample, full_book, host, now, tuning);
        ASSERT_EQ(a.action, b.action) << "interval " << i;
        ASSERT_EQ(a.to, b.to) << "interval " << i;
        ASSERT_EQ(a.reason, b.reason) << "interval " << i;
        ASSERT_EQ(fast.state, full.state) << "interval " << i;
        ASSERT_EQ(fast.applied, full.applied) << "interval " << i;
        ASSERT_EQ(fast.why, full.why) << "interval " << i;
        ASSERT_EQ(fast.flaps, full.flaps) << "interval " << i;
        ASSERT_EQ(fast.waiting_since, full.waiting_since) << "interval " << i;
        ASSERT_EQ(fast.room_since, full.room_since) << "interval " << i;
        for (int c = 0; c < 4; ++c) ASSERT_EQ(fast_book.idle(c), full_book.idle(c)) << "interval " << i;
    }
    EXPECT_GT(shortcuts, 100);  // the trace did rest
}

TEST(SoftAffinity, AtRestOnlyAtHomeWithNothingPending) {
    Trace t;
    EXPECT_TRUE(at_rest(t.thread));
    t.step({1.0, 0.0}, 0.0, 0.6);  // a run of waiting begins
    EXPECT_FALSE(at_rest(t.thread));
    t.repeat(4, {1.0, 0.0}, 0.0, 0.6);  // widened
    EXPECT_EQ(t.thread.state, SoftState::widened);
    EXPECT_FALSE(at_rest(t.thread));
    t.repeat(20, {0.0, 0.0}, 0.1, 0.0);  // home again, then at rest
    EXPECT_EQ(t.thread.state, SoftState::home);
    EXPECT_TRUE(at_rest(t.thread));
    Topology host = two_single_cpu_nodes();
    EXPECT_TRUE(at_rest(start_soft_thread(host, {0, 1}, {0, 1}, Millis{0})));  // no preference
}

}  // namespace
}  // namespace affine
