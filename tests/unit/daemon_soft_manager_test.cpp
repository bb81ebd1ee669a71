// The daemon's manager over a made-up procfs and fake system calls: taking threads
// journal-first, refusing peers without the right, widening and returning, threads
// that come and go, releases, clean stops, and restarts after a crash (reused
// pids, interrupted changes).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "daemon_fixture.hpp"

namespace affine::daemon {
namespace {

using testing::DaemonWorld;
using testing::soft_request;
using testing::user_peer;

std::string read_text(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

// Thread 100 is asked to prefer CPU 0 (no minimum dwell), and the daemon takes its
// first accounting reading at time 0 with CPU 0 busy.
void soft_on_cpu0_first_reading(DaemonWorld& w, SoftManager& m) {
    SoftAffinityTuning tuning;
    tuning.min_dwell = Millis{0};
    m.configure({}, tuning);
    ASSERT_TRUE(m.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0)));
    w.account(100, 100, 0, 0, 0);
    m.tick(DaemonWorld::at(0), CpuLoad{{1.0, 0.0}});
}

TEST(SoftManager, TakesEveryThreadJournalFirst) {
    DaemonWorld w;
    w.process(100, {100, 101});
    auto m = w.manager();
    int journalled_before_set = 0;
    w.sys.on_set = [&](int tid) {
        auto j = parse_journal(read_text(w.journal()), "j");
        ASSERT_TRUE(j);
        for (const auto& t : j->workloads.at(0).threads)
            if (t.tid == tid && t.applied == CpuSet{0} && t.original == (CpuSet{0, 1})) ++journalled_before_set;
    };
    auto r = m.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(w.sys.masks[100], CpuSet{0});
    EXPECT_EQ(w.sys.masks[101], CpuSet{0});
    EXPECT_EQ(journalled_before_set, 2);
    EXPECT_EQ(m.thread_count(), 2U);
    EXPECT_EQ((*r)["workloads"][0]["threads"][0]["state"], "home");
    EXPECT_EQ(std::filesystem::status(w.journal()).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST(SoftManager, AWorkloadGrowsOnlyWithinItsUsersThreadLimit) {
    DaemonWorld w;
    w.process(100, {100, 101});
    auto m = w.manager();
    m.configure({}, SoftAffinityTuning{}, /*max_threads_per_user=*/3);
    ASSERT_TRUE(m.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0)));
    EXPECT_EQ(m.thread_count(), 2U);
    // The process starts two more threads: one fits, the other is left alone.
    w.process(100, {102, 103});
    m.tick(DaemonWorld::at(2500), CpuLoad{{0.0, 0.0}});
    EXPECT_EQ(m.thread_count(), 3U);
    EXPECT_EQ(w.sys.masks[102], CpuSet{0});
    EXPECT_EQ(w.sys.masks[103], (CpuSet{0, 1}));
    EXPECT_TRUE(w.logged("pid 100 (job): tid 103 and later threads not taken: uid 1000 has 3 threads managed, the "
                         "limit per user (max_threads_per_user)"));
    // Root's requests are not counted against it.
    w.process(200, {200, 201, 202, 203}, 0);
    protocol::PeerCredentials root{4000, 0, 0, true};
    ASSERT_TRUE(m.set_soft(soft_request({200}, CpuSet{0}), root, DaemonWorld::at(3000)));
    EXPECT_EQ(m.thread_count(), 7U);
}

TEST(SoftManager, APeerWithoutTheRightChangesNothing) {
    DaemonWorld w;
    w.process(100, {100, 101}, /*uid=*/0);
    auto m = w.manager();
    auto r = m.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, EPERM);
    EXPECT_NE(r.error().message.find("uid 1000 may not change the affinity of tid 100"), std::string::npos);
    EXPECT_EQ(w.sys.set_calls, 0);
    EXPECT_EQ(m.workload_count(), 0U);
    // With CAP_SYS_NICE it may.
    EXPECT_TRUE(m.set_soft(soft_request({100}, CpuSet{0}), {4001, 1000, 1000, true}, DaemonWorld::at(0)));
}

TEST(SoftManager, RefusesPidOneItselfAndMissingTasks) {
    DaemonWorld w;
    w.process(1, {1}, 0);
    auto m = w.manager();
    protocol::PeerCredentials root{4000, 0, 0, true};
    EXPECT_NE(m.set_soft(soft_request({1}, CpuSet{0}), root, DaemonWorld::at(0)).error().message.find("never manages pid 1"),
              std::string::npos);
    EXPECT_EQ(m.set_soft(soft_request({77}, CpuSet{0}), root, DaemonWorld::at(0)).error().message,
              "no process or thread 77");
    w.process(100, {100});
    EXPECT_EQ(m.set_soft(soft_request({100}, CpuSet{5}), root, DaemonWorld::at(0)).error().kind, ErrorKind::usage);
}

TEST(SoftManager, WidensWhenHomeIsBusyAndReturnsWhenItFreesUp) {
    DaemonWorld w;
    w.process(100, {100});
    auto m = w.manager();
    soft_on_cpu0_first_reading(w, m);
    SoftAffinityTuning tuning;
    tuning.min_dwell = Millis{0};
    tuning.narrow_after = Millis{3000};
    m.configure({}, tuning);
    w.account(100, 100, 250, 250, 0);                 // a hog shares CPU 0: half the time waiting
    m.tick(DaemonWorld::at(500), CpuLoad{{1.0, 0.0}});
    EXPECT_EQ(w.sys.masks[100], (CpuSet{0, 1}));
    EXPECT_TRUE(w.logged("widen pid 100 (job): CPUs 0 -> 0-1: waited 50% of the last 0.5 s"));
    EXPECT_EQ(m.widened_count(), 1U);
    // On CPU 1 now, the hog still on CPU 0.
    long long t = 500;
    std::uint64_t run = 250;
    for (int i = 0; i < 4; ++i) {
        t += 500;
        run += 500;
        w.account(100, 100, run, 250, 1);
        m.tick(DaemonWorld::at(t), CpuLoad{{1.0, 1.0}});
    }
    EXPECT_EQ(w.sys.masks[100], (CpuSet{0, 1}));
    // The hog exits: back home after narrow_after (3 s), not before.
    for (int i = 0; i < 6; ++i) {
        t += 500;
        run += 500;
        w.account(100, 100, run, 250, 1);
        m.tick(DaemonWorld::at(t), CpuLoad{{0.0, 1.0}});
        if (i < 5) {
            EXPECT_EQ(w.sys.masks[100], (CpuSet{0, 1})) << i << ": " << w.log.back();
        }
    }
    EXPECT_EQ(w.sys.masks[100], (CpuSet{0}));
    EXPECT_TRUE(w.logged("narrow pid 100 (job): CPUs 0-1 -> 0"));
}

TEST(SoftManager, AQuietCgroupSparesTheThreadReads) {
    DaemonWorld w;
    w.process(100, {100});
    w.tree.write("/proc/100/task/100/cgroup", "0::/app.slice/job.service\n");
    auto pressure = [&](int total) {
        w.tree.write("/sys/fs/cgroup/app.slice/job.service/cpu.pressure",
                     fmt::format("some avg10=0.00 avg60=0.00 avg300=0.00 total={}\n"
                                 "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                                 total));
    };
    pressure(1000);
    auto m = w.manager();
    soft_on_cpu0_first_reading(w, m);
    // Its schedstat says it waited, but its cgroup's pressure did not grow: the
    // thread is not read, and no task of the cgroup can have waited.
    w.account(100, 100, 100, 250, 0);
    m.tick(DaemonWorld::at(500), CpuLoad{{1.0, 0.0}});
    EXPECT_EQ(w.sys.masks[100], CpuSet{0});
    // Its cgroup stalls: the thread is read again (a new interval), then widens.
    pressure(300000);
    w.account(100, 100, 200, 500, 0);
    m.tick(DaemonWorld::at(1000), CpuLoad{{1.0, 0.0}});
    EXPECT_EQ(w.sys.masks[100], CpuSet{0});
    pressure(600000);
    w.account(100, 100, 300, 750, 0);
    m.tick(DaemonWorld::at(1500), CpuLoad{{1.0, 0.0}});
    EXPECT_EQ(w.sys.masks[100], (CpuSet{0, 1}));
    EXPECT_TRUE(w.logged("widen pid 100 (job): CPUs 0 -> 0-1: waited 50% of the last 0.5 s"));
}

TEST(SoftManager, ThreadsComeAndGo) {
    DaemonWorld w;
    w.process(100, {100, 101});
    auto m = w.manager();
    ASSERT_TRUE(m.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0)));
    // A thread started since inherits the daemon's mask; it is taken, and would be
    // restored to what its creator had.
    w.tree.add_task(100, 102, "late", 0x400000, 6000, 0, 1000);
    w.sys.masks[102] = CpuSet{0};
    w.tree.remove_task(100, 101);
    w.sys.masks.erase(101);
    m.tick(DaemonWorld::at(500), CpuLoad{});
    EXPECT_EQ(m.thread_count(), 2U);
    m.stop(OnStop::restore, DaemonWorld::at(600));
    EXPECT_EQ(w.sys.masks[102], (CpuSet{0, 1}));
    EXPECT_EQ(w.sys.masks[100], (CpuSet{0, 1}));
}

TEST(SoftManager, AThreadChangedBySomeoneElseIsReleasedAndLeftAlone) {
    DaemonWorld w;
    w.process(100, {100, 101});
    auto m = w.manager();
    ASSERT_TRUE(m.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0)));
    w.sys.masks[101] = CpuSet{1};  // taskset -p 2 101
    m.tick(DaemonWorld::at(500), CpuLoad{});
    EXPECT_TRUE(w.logged("release tid 101 (worker) of pid 100: its mask was changed to CPUs 1 by someone else"));
    ASSERT_EQ(m.releases().size(), 1U);
    EXPECT_EQ(m.thread_count(), 1U);
    m.tick(DaemonWorld::at(1000), CpuLoad{});  // not taken again
    EXPECT_EQ(m.thread_count(), 1U);
    m.stop(OnStop::restore, DaemonWorld::at(1500));
    EXPECT_EQ(w.sys.masks[101], CpuSet{1});
    EXPECT_EQ(w.sys.masks[100], (CpuSet{0, 1}));
}

TEST(SoftManager, AReleasedThreadStaysReleasedAcrossACrash) {
    DaemonWorld w;
    w.process(100, {100, 101});
    {
        auto crashed = w.manager();
        ASSERT_TRUE(crashed.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0)));
        w.sys.masks[101] = CpuSet{0, 1};  // taskset -p 3 101
        crashed.tick(DaemonWorld::at(2500), CpuLoad{});
        ASSERT_EQ(crashed.releases().size(), 1U);
        // kill -9: the journal is all that is left.
    }
    EXPECT_EQ(parse_journal(read_text(w.journal()), "j")->workloads.at(0).released.size(), 1U);
    auto restarted = w.manager();
    ASSERT_TRUE(restarted.recover(DaemonWorld::at(0)));
    int sets = w.sys.set_calls;
    restarted.tick(DaemonWorld::at(2500), CpuLoad{});  // lists the threads: 101 is not taken again
    restarted.tick(DaemonWorld::at(5000), CpuLoad{});
    EXPECT_EQ(restarted.thread_count(), 1U);
    EXPECT_EQ(w.sys.set_calls, sets);
    restarted.stop(OnStop::restore, DaemonWorld::at(6000));
    EXPECT_EQ(w.sys.masks[101], (CpuSet{0, 1}));
    EXPECT_EQ(w.sys.masks[100], (CpuSet{0, 1}));
    // A second crash: still released (the journal keeps it as long as the thread lives).
    auto again = w.manager();
    ASSERT_TRUE(again.recover(DaemonWorld::at(0)));
    w.sys.masks[101] = CpuSet{1};
    again.tick(DaemonWorld::at(2500), CpuLoad{});
    EXPECT_EQ(again.thread_count(), 1U);
    EXPECT_EQ(w.sys.masks[101], CpuSet{1});
}

TEST(SoftManager, RemovingThePreferenceRestores) {
    DaemonWorld w;
    w.process(100, {100, 101});
    auto m = w.manager();
    ASSERT_TRUE(m.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0)));
    ASSERT_TRUE(m.set_soft(soft_request({100}, std::nullopt), user_peer, DaemonWorld::at(100)));
    EXPECT_EQ(w.sys.masks[100], (CpuSet{0, 1}));
    EXPECT_EQ(w.sys.masks[101], (CpuSet{0, 1}));
    EXPECT_EQ(m.workload_count(), 0U);
    EXPECT_TRUE(parse_journal(read_text(w.journal()), "j")->workloads.empty());
}

TEST(SoftManager, LeaveOnStopKeepsMasksAndRequests) {
    DaemonWorld w;
    w.process(100, {100});
    auto m = w.manager();
    ASSERT_TRUE(m.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0)));
    m.stop(OnStop::leave, DaemonWorld::at(100));
    EXPECT_EQ(w.sys.masks[100], CpuSet{0});
    EXPECT_EQ(parse_journal(read_text(w.journal()), "j")->workloads.size(), 1U);
}

TEST(SoftManager, ARestartTakesUpEveryRequestStillAlive) {
    DaemonWorld w;
    w.process(100, {100, 101});
    w.process(200, {200});
    {
        auto crashed = w.manager();
        ASSERT_TRUE(crashed.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0)));
        ASSERT_TRUE(crashed.set_soft(soft_request({200}, CpuSet{1}), user_peer, DaemonWorld::at(0)));
        // kill -9: no stop(); the journal is all that is left.
    }
    w.sys.masks[100] = CpuSet{0, 1};  // widened by the daemon before it died: not journalled that way
    w.sys.masks[101] = CpuSet{0};
    auto restarted = w.manager();
    ASSERT_TRUE(restarted.recover(DaemonWorld::at(0)));
    // 100 held a mask the daemon never journalled: someone else set it; released.
    EXPECT_TRUE(w.logged("release pid 100 (job): its mask changed to CPUs 0-1 while the daemon was not running"));
    EXPECT_EQ(restarted.thread_count(), 2U);  // 101 and 200
    EXPECT_EQ(w.sys.masks[101], CpuSet{0});
    EXPECT_EQ(w.sys.masks[200], CpuSet{1});
    restarted.stop(OnStop::restore, DaemonWorld::at(100));
    EXPECT_EQ(w.sys.masks[101], (CpuSet{0, 1}));
    EXPECT_EQ(w.sys.masks[200], (CpuSet{0, 1}));
}

TEST(SoftManager, AnInterruptedChangeIsStillTheDaemons) {
    DaemonWorld w;
    w.process(100, {100});
    // Crashed between journalling a widening (0 -> 0-1) and making it.
    Journal j;
    JournalWorkload jw;
    jw.pid = 100;
    jw.start_time = 5000;
    jw.soft = CpuSet{0};
    jw.all_threads = true;
    jw.requester_uid = 1000;
    jw.threads.push_back({100, 5000, CpuSet{0, 1}, CpuSet{0, 1}, CpuSet{0, 1}, CpuSet{0}});
    j.workloads.push_back(jw);
    ASSERT_TRUE(JournalFile(w.journal()).save(j));
    w.sys.masks[100] = CpuSet{0};
    auto m = w.manager();
    ASSERT_TRUE(m.recover(DaemonWorld::at(0)));
    EXPECT_EQ(m.thread_count(), 1U);
    EXPECT_TRUE(m.releases().empty());
    EXPECT_EQ(w.sys.masks[100], CpuSet{0});  // home again
}

TEST(SoftManager, AReusedPidIsNeverTouched) {
    DaemonWorld w;
    w.process(100, {100});
    {
        auto crashed = w.manager();
        ASSERT_TRUE(crashed.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0)));
    }
    // The process exited and another one got pid 100.
    w.tree.add_task(100, 100, "other", 0x400000, 9999, 0, 1000);
    w.sys.masks[100] = CpuSet{0, 1};
    int sets = w.sys.set_calls;
    auto m = w.manager();
    ASSERT_TRUE(m.recover(DaemonWorld::at(0)));
    EXPECT_EQ(w.sys.set_calls, sets);
    EXPECT_EQ(w.sys.masks[100], (CpuSet{0, 1}));
    EXPECT_EQ(m.workload_count(), 0U);
    EXPECT_TRUE(w.logged("pid 100 (job) ended while the daemon was not running"));
}

TEST(SoftManager, AProcessThatExitsEndsItsRequest) {
    DaemonWorld w;
    w.process(100, {100});
    auto m = w.manager();
    ASSERT_TRUE(m.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0)));
    std::filesystem::remove_all(w.tree.root() + "/proc/100");  // the process is gone
    w.sys.masks.erase(100);
    m.tick(DaemonWorld::at(500), CpuLoad{});
    EXPECT_EQ(m.workload_count(), 0U);
    EXPECT_TRUE(w.logged("pid 100 (job) exited: its soft-affinity request ends"));
    EXPECT_TRUE(parse_journal(read_text(w.journal()), "j")->workloads.empty());
}

TEST(SoftManager, NoJournalNoChange) {
    DaemonWorld w;
    w.process(100, {100});
    auto m = SoftManager(w.env, JournalFile(w.dir + "/missing/dir/journal.json"),
                         [&](const std::string& l) { w.log.push_back(l); });
    auto r = m.set_soft(soft_request({100}, CpuSet{0}), user_peer, DaemonWorld::at(0));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("nothing changed"), std::string::npos);
    EXPECT_EQ(m.workload_count(), 0U);
    EXPECT_EQ(w.sys.set_calls, 0);
    EXPECT_EQ(w.sys.masks[100], (CpuSet{0, 1}));
    EXPECT_TRUE(w.logged("cannot write the journal, so 1 change is not made"));
}

}  // namespace
}  // namespace affine::daemon
