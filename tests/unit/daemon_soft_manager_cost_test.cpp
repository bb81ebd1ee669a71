// What the soft-affinity manager reads per interval, counted through the fake
// procfs: threads that wait for nothing cost nothing, and no thread is read
// through a whole-process file.
#include <gtest/gtest.h>

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
void idle_process(DaemonWorld& w, int n, bool psi) {
    for (int i = 0; i < n; ++i) {
        int tid = 100 + i;
        w.tree.write(fmt::format("/proc/{}/task/{}/stat", tid, tid),
                     fmt::format("{} ({}) S 1 100 100 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 {} 0 5000 100 10 0 0 0 0 0 0 0 "
                                 "0 0 0 0 0 0 17 0 0 0 0 0 0",
                                 tid, i == 0 ? "job" : "worker", n));
        w.tree.write(fmt::format("/proc/100/task/{}/schedstat", tid), "1000 0 1\n");
        w.sys.masks[tid] = CpuSet{0, 1};
    }
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
    std::size_t two_seconds = 0;     // files read over 2 s
    int mask_reads = 0;              // sched_getaffinity calls over those 2 s
    std::vector<std::string> paths;
};

// The manager's reads once `n` idle threads of one process prefer CPU 0: over 2 s
// with CPU 0 idle, then over 2 s with CPU 0 busy (someone else's work at home).
std::pair<Cost, Cost> idle_cost(int n, bool psi) {
    DaemonWorld w;
    idle_process(w, n, psi);
    auto m = w.manager();
    EXPECT_TRUE(m.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0)));
    EXPECT_EQ(m.thread_count(), static_cast<std::size_t>(n));
    m.tick(DaemonWorld::at(0), CpuLoad{{0.0, 0.0}});  // the first reading of the request
    long long now = 0;
    auto two_seconds = [&](const CpuLoad& load) {
        Cost cost;
        w.fs.record_reads(&cost.paths);
        int gets = w.sys.get_calls;
        now += interval.count();
        m.tick(DaemonWorld::at(now), load);
        cost.first_interval = cost.paths.size();
        for (int i = 1; i < 2000 / interval.count(); ++i) {
            now += interval.count();
            m.tick(DaemonWorld::at(now), load);
        }
        cost.two_seconds = cost.paths.size();
        cost.mask_reads = w.sys.get_calls - gets;
        w.fs.record_reads(nullptr);
        return cost;
    };
    Cost idle = two_seconds(CpuLoad{{0.0, 0.0}});
    Cost busy = two_seconds(CpuLoad{{1.0, 0.0}});
    EXPECT_EQ(m.widened_count(), 0U);
    return {idle, busy};
}

// A file of /proc/ID/ that is the whole process's, read through a thread's id (the
// process, 100, may read its own).
bool whole_process_file(const std::string& path) {
    static const std::regex file(R"(^/proc/([0-9]+)/(stat|status|schedstat|cgroup|cpuset|syscall|sched|io)$)");
    std::smatch m;
    return std::regex_match(path, m, file) && m[1] != "100";
}

TEST(SoftManagerCost, IdleThreadsCostTheSameWhateverTheirNumber) {
    auto [ten_idle, ten_busy] = idle_cost(10, true);
    for (int n : {1000, 10000}) {
        auto [idle, busy] = idle_cost(n, true);
        for (const Cost* c : {&idle, &busy}) {
            const char* home = c == &idle ? "home idle" : "home busy";
            // Per interval: the main thread's stat and the cgroup's cpu.pressure; once
            // in 2 s, the cgroup and the thread list besides.
            EXPECT_LE(c->first_interval, 4U) << n << " threads, " << home;
            EXPECT_EQ(c->two_seconds, 8U * 2 + 2) << n << " threads, " << home;
            // Their masks are read once per 2 s (a system call each, no file).
            EXPECT_EQ(c->mask_reads, n) << home;
            for (const auto& path : c->paths) EXPECT_FALSE(whole_process_file(path)) << path;
        }
        EXPECT_EQ(idle.two_seconds, ten_idle.two_seconds);
        EXPECT_EQ(busy.two_seconds, ten_busy.two_seconds);
    }
}

TEST(SoftManagerCost, WithoutPressureAccountingABusyHomeReadsEachThreadsOwnFile) {
    // No cpu.pressure (PSI off): an idle home still spares every thread's file. A
    // busy one (someone may wait there) costs the process's stat each interval (its
    // CPU time: none of its threads ran) and each thread's own file once per 10 s
    // (a thread that never ran may have waited all along).
    auto [idle, busy] = idle_cost(1000, false);
    EXPECT_EQ(idle.two_seconds, idle_cost(10, false).first.two_seconds);
    std::size_t schedstats = 0;
    for (const auto& path : busy.paths) {
        EXPECT_FALSE(whole_process_file(path)) << path;
        EXPECT_TRUE(!path.ends_with("/schedstat") || path.starts_with("/proc/100/task/")) << path;
        schedstats += path.ends_with("/schedstat") ? 1 : 0;
    }
    // Each thread once, at the first busy interval (no earlier reading of the
    // process's CPU time to compare with); the verification in these 2 s is not
    // one of every fifth.
    EXPECT_EQ(schedstats, 1000U);
    // Per interval the main thread's stat, the cgroup's (absent) cpu.pressure and
    // the process's stat; the verification lists the threads and reads the cgroup.
    EXPECT_EQ(busy.two_seconds, 8U * 3 + 2 + 1000U);
}

}  // namespace
}  // namespace affine::daemon
