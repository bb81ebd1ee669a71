// What the soft-affinity manager reads per interval, counted through the fake
// procfs: threads that wait for nothing cost nothing, and no thread is read
// through a whole-process file.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "daemon_fixture.hpp"

namespace affine::daemon {
namespace {

using testing::DaemonWorld;
using testing::soft_request;
using testing::user_peer;

constexpr Millis interval{250};

// Process 100 with `n` idle threads (100 ... 100 + n - 1), every thread on CPUs
// 0-1, in a cgroup whose cpu.pressure exists when `psi`. Only what the manager
// reads is written: each thread's own stat, the list of the process's threads, the
// process's stat.
// Thread `tid` of process 100, idle, on CPUs 0-1; the process has `n` threads.
void idle_thread(DaemonWorld& w, int tid, int n) {
    w.tree.write(fmt::format("/proc/{}/task/{}/stat", tid, tid),
                 fmt::format("{} ({}) S 1 100 100 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 {} 0 5000 100 10 0 0 0 0 0 0 0 "
                             "0 0 0 0 0 0 17 0 0 0 0 0 0",
                             tid, tid == 100 ? "job" : "worker", n));
    w.tree.write(fmt::format("/proc/100/task/{}/schedstat", tid), "1000 0 1\n");
    w.sys.masks.try_emplace(tid, CpuSet{0, 1});  // a thread written again keeps its mask
}

void idle_process(DaemonWorld& w, int n, bool psi) {
    for (int i = 0; i < n; ++i) idle_thread(w, 100 + i, n);
    // The process's stat: its CPU time (of all its threads) does not advance.
    w.tree.write("/proc/100/stat", fmt::format("100 (job) S 1 100 100 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 {} 0 5000 100 10 "
                                               "0 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0",
                                               n));
    w.tree.write("/proc/100/task/100/status", "Name:\tjob\nTgid:\t100\nPid:\t100\nUid:\t1000\t1000\t1000\t1000\n");
    w.tree.write("/proc/100/task/100/cgroup", "0::/app.slice/job.service\n");
    if (psi)
        w.tree.write("/sys/fs/cgroup/app.slice/job.service/cpu.pressure",
                     "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
}

struct Cost {
    std::size_t first_interval = 0;  // files read in the first interval
    std::size_t files = 0;           // files read over the window
    int mask_reads = 0;              // sched_getaffinity calls over the window
    std::vector<std::string> paths;
};

struct Costs {
    Cost idle;        // the first 2 s with CPU 0 idle
    Cost idle_later;  // the next 8 s, still idle: the 10 s verification falls in it
    Cost busy;        // then 2 s with CPU 0 busy (someone else's work at home)
};

// The manager's reads once `n` idle threads of one process prefer CPU 0.
Costs idle_cost(int n, bool psi) {
    DaemonWorld w;
    idle_process(w, n, psi);
    auto m = w.manager();
    EXPECT_TRUE(m.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0)));
    EXPECT_EQ(m.thread_count(), static_cast<std::size_t>(n));
    m.tick(DaemonWorld::at(0), CpuLoad{{0.0, 0.0}});  // the first reading of the request
    long long now = 0;
    auto window = [&](const CpuLoad& load, long long ms) {
        Cost cost;
        w.fs.record_reads(&cost.paths);
        int gets = w.sys.get_calls;
        now += interval.count();
        m.tick(DaemonWorld::at(now), load);
        cost.first_interval = cost.paths.size();
        for (int i = 1; i < ms / interval.count(); ++i) {
            now += interval.count();
            m.tick(DaemonWorld::at(now), load);
        }
        cost.files = cost.paths.size();
        cost.mask_reads = w.sys.get_calls - gets;
        w.fs.record_reads(nullptr);
        return cost;
    };
    Costs c;
    c.idle = window(CpuLoad{{0.0, 0.0}}, 2000);
    c.idle_later = window(CpuLoad{{0.0, 0.0}}, 8000);
    c.busy = window(CpuLoad{{1.0, 0.0}}, 2000);
    EXPECT_EQ(m.widened_count(), 0U);
    return c;
}

// A file of /proc/ID/ that is the whole process's, read through a thread's id (the
// process, 100, may read its own).
bool whole_process_file(const std::string& path) {
    static const std::regex file(R"(^/proc/([0-9]+)/(stat|status|schedstat|cgroup|cpuset|syscall|sched|io)$)");
    std::smatch m;
    return std::regex_match(path, m, file) && m[1] != "100";
}

TEST(SoftManagerCost, IdleThreadsCostTheSameWhateverTheirNumber) {
    Costs ten = idle_cost(10, true);
    for (int n : {1000, 10000}) {
        Costs c = idle_cost(n, true);
        for (const Cost* cost : {&c.idle, &c.idle_later, &c.busy})
            for (const auto& path : cost->paths) EXPECT_FALSE(whole_process_file(path)) << path;
        // Per interval: the main thread's stat and the cgroup's cpu.pressure; its
        // threads are not visited (all at rest, no task of the cgroup waited), busy
        // home or not.
        EXPECT_LE(c.idle.first_interval, 2U) << n;
        EXPECT_EQ(c.idle.files, 8U * 2) << n;
        EXPECT_EQ(c.idle.mask_reads, 0) << n;
        EXPECT_EQ(c.busy.files, 8U * 2) << n;
        EXPECT_EQ(c.busy.mask_reads, 0) << n;
        // Every 10 s, the cgroup besides, and each thread's mask (a system call
        // each, no file); not the thread list: the thread count did not change.
        EXPECT_EQ(c.idle_later.files, 32U * 2 + 1) << n;
        EXPECT_EQ(c.idle_later.mask_reads, n);
        EXPECT_EQ(c.idle.files, ten.idle.files);
        EXPECT_EQ(c.idle_later.files, ten.idle_later.files);
        EXPECT_EQ(c.busy.files, ten.busy.files);
    }
}

TEST(SoftManagerCost, WithoutPressureAccountingABusyHomeReadsEachThreadsOwnFile) {
    // No cpu.pressure (PSI off): an idle home spares every thread (none could
    // wait). A busy one (someone may wait there) costs the process's stat each
    // interval (its CPU time: none of its threads ran) and each thread's own file
    // once per 10 s (a thread that never ran may have waited all along).
    Costs c = idle_cost(1000, false);
    EXPECT_EQ(c.idle.files, idle_cost(10, false).idle.files);
    EXPECT_EQ(c.idle.files, 8U * 2);  // the main thread's stat, the cgroup's (absent) cpu.pressure
    std::size_t schedstats = 0;
    for (const auto& path : c.busy.paths) {
        EXPECT_FALSE(whole_process_file(path)) << path;
        EXPECT_TRUE(!path.ends_with("/schedstat") || path.starts_with("/proc/100/task/")) << path;
        schedstats += path.ends_with("/schedstat") ? 1 : 0;
    }
    // Each thread once, at the first busy interval (no earlier reading of the
    // process's CPU time to compare with); then none: the process did not run.
    EXPECT_EQ(schedstats, 1000U);
    // The process's stat (which sums every thread's CPU time) each interval until
    // the process has not run for 4 of them, then every 4th: 6 of these 8.
    std::size_t process_stats = std::ranges::count(c.busy.paths, std::string("/proc/100/stat"));
    EXPECT_EQ(process_stats, 6U);
    // Besides, per interval the main thread's stat and the cgroup's (absent) cpu.pressure.
    EXPECT_EQ(c.busy.files, 8U * 2 + process_stats + 1000U);
}

TEST(SoftManagerCost, ABusyHomeReadsNoIdleThreadAtItsVerifications) {
    // A minute of a busy home without pressure accounting: each thread's file is
    // read once (the first reading of the process's CPU time), never again while
    // the process does not run, verifications included.
    DaemonWorld w;
    idle_process(w, 1000, false);
    auto m = w.manager();
    ASSERT_TRUE(m.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0)));
    std::vector<std::string> paths;
    w.fs.record_reads(&paths);
    for (long long now = interval.count(); now <= 60000; now += interval.count())
        m.tick(DaemonWorld::at(now), CpuLoad{{1.0, 0.0}});
    w.fs.record_reads(nullptr);
    EXPECT_EQ(std::ranges::count_if(paths, [](const std::string& p) { return p.ends_with("/schedstat"); }), 1000);
    EXPECT_EQ(m.thread_count(), 1000U);
}

int listings(const std::vector<std::string>& paths) {
    return static_cast<int>(std::ranges::count(paths, std::string("/proc/100/task/")));
}

TEST(SoftManagerCost, TheThreadListIsReadWhenTheCountSaysItChangedAndOnceAMinute) {
    DaemonWorld w;
    idle_process(w, 100, true);
    auto m = w.manager();
    ASSERT_TRUE(m.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0)));
    std::vector<std::string> paths;
    long long now = 0;
    auto run_until = [&](long long until) {
        paths.clear();
        w.fs.record_reads(&paths);
        for (now += interval.count(); now <= until; now += interval.count())
            m.tick(DaemonWorld::at(now), CpuLoad{{0.0, 0.0}});
        now -= interval.count();
        w.fs.record_reads(nullptr);
    };
    // Idle, the count as it was: once, at the first verification a minute after
    // the listing of the request.
    run_until(59000);
    EXPECT_EQ(listings(paths), 0);
    run_until(61000);
    EXPECT_EQ(listings(paths), 1);
    // A new thread: the main thread's stat counts 101 threads; listed and taken at
    // the next tick.
    idle_thread(w, 300, 101);
    idle_thread(w, 100, 101);
    run_until(now + interval.count());
    EXPECT_EQ(listings(paths), 1);
    EXPECT_EQ(m.thread_count(), 101U);
    EXPECT_TRUE(w.logged("take tid 300 (worker) of pid 100: CPUs 0-1 -> 0"));
    EXPECT_FALSE(w.logged("re-home tid 300"));  // one change, said once
    EXPECT_EQ(w.sys.masks[300], CpuSet{0});
    // One thread exits and another starts in its place: the count stays 101. The
    // next verification finds the first gone; the tick after it lists the threads
    // and takes the new one.
    w.tree.remove_task(100, 150);
    w.sys.masks.erase(150);
    idle_thread(w, 301, 101);
    run_until(now + 10000 + 2 * interval.count());
    EXPECT_EQ(listings(paths), 1);
    EXPECT_EQ(m.thread_count(), 101U);
    EXPECT_NE(m.find(100)->threads.find(301), m.find(100)->threads.end());
    EXPECT_EQ(m.find(100)->threads.find(150), m.find(100)->threads.end());
}

}  // namespace
}  // namespace affine::daemon
