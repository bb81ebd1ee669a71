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
        // Every 10 s, the cgroup and the thread list besides, and each thread's mask
        // (a system call each, no file).
        EXPECT_EQ(c.idle_later.files, 32U * 2 + 2) << n;
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

}  // namespace
}  // namespace affine::daemon
