#include <gtest/gtest.h>
#include <sys/syscall.h>

#include "affine/set_grammar.hpp"
#include "linux/procfs.hpp"
#include "linux/settle.hpp"
#include "linux_fake.hpp"

namespace affine::linux_backend {
namespace {

using testing::FakeSyscalls;
using testing::ProcTree;

struct LinuxPin : ::testing::Test {
    ProcTree tree;
    FakeSyscalls sys;
    Topology host = testing::two_node_host();
    SysFs fs{tree.root()};
    Env env{fs, sys, host};

    void add_thread(int pid, int tid) {
        tree.add_task(pid, tid);
        sys.masks[tid] = CpuSet{0, 1, 2, 3};
    }
};

TEST_F(LinuxPin, NamedThreadOnly) {
    add_thread(100, 100);
    add_thread(100, 101);
    auto r = pin_threads(env, 101, CpuSet{2}, ThreadScope::named_thread);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->threads.size(), 1U);
    EXPECT_EQ(r->threads[0].tid, 101);
    EXPECT_EQ(r->threads[0].before, (CpuSet{0, 1, 2, 3}));
    EXPECT_EQ(r->threads[0].after, CpuSet{2});
    EXPECT_TRUE(r->ok());
    EXPECT_EQ(sys.masks[100], (CpuSet{0, 1, 2, 3}));  // the other thread is untouched
}

TEST_F(LinuxPin, AllThreadsCatchesThreadsStartedMeanwhile) {
    for (int tid = 200; tid < 205; ++tid) add_thread(200, tid);
    // Every set of the first threads makes the process start another one, as a
    // thread pool that grows while we work would.
    int next = 300;
    sys.on_set = [&](int tid) {
        if (tid < 203) add_thread(200, next++);
    };
    auto r = pin_threads(env, 200, CpuSet{1, 2}, ThreadScope::all_threads);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->count(PinResult::pinned), 8);
    EXPECT_TRUE(r->ok());
    EXPECT_GE(r->rounds, 3);
    for (const auto& [tid, mask] : sys.masks) EXPECT_EQ(mask, (CpuSet{1, 2})) << "tid " << tid;
}

TEST_F(LinuxPin, AQuietProcessIsListedOnceMoreAfterTheShortWait) {
    for (int tid = 205; tid < 208; ++tid) add_thread(205, tid);
    std::vector<std::string> paths;
    fs.record_reads(&paths);
    auto r = pin_threads(env, 205, CpuSet{1}, ThreadScope::all_threads);
    fs.record_reads(nullptr);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->ok());
    // The sweep that sets, then after 2 ms the one that confirms no thread started
    // meanwhile: two listings of the threads (each one costs the kernel a lookup
    // per thread), not three.
    EXPECT_EQ(r->rounds, 2);
    EXPECT_EQ(std::ranges::count(paths, std::string("/proc/205/task/")), 2);
    EXPECT_EQ(sys.slept, std::chrono::milliseconds(2));
}

TEST_F(LinuxPin, CloneInFlightThatAppearsLateIsCaughtInTheQuietPeriod) {
    for (int tid = 210; tid < 213; ++tid) add_thread(210, tid);
    // A clone that started before its parent was set completes during the quiet
    // period, with the old mask.
    sys.on_sleep = [&] {
        if (!sys.masks.contains(290)) add_thread(210, 290);
    };
    auto r = pin_threads(env, 210, CpuSet{3}, ThreadScope::all_threads);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->ok());
    EXPECT_EQ(r->count(PinResult::pinned), 4);
    EXPECT_EQ(sys.masks[290], CpuSet{3});
    // A process that started no thread gets one short quiet period; the late
    // thread shows it is starting threads, so the long ones follow (127 ms).
    EXPECT_EQ(sys.slept, std::chrono::milliseconds(2 + 127));
}

TEST_F(LinuxPin, ThreadsThatInheritTheMaskNeedNoSet) {
    for (int tid = 220; tid < 222; ++tid) add_thread(220, tid);
    // Threads started by threads already set inherit the new mask: they count as
    // pinned and need no set, but they show the process is starting threads.
    int next = 230;
    sys.on_sleep = [&] {
        tree.add_task(220, next);
        sys.masks[next++] = CpuSet{0};
    };
    auto r = pin_threads(env, 220, CpuSet{0}, ThreadScope::all_threads);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->ok());
    EXPECT_EQ(sys.set_calls, 2);
    EXPECT_EQ(r->count(PinResult::pinned), 2 + 8);
    // The short wait first; then, as the fake has no /proc/TID/syscall to prove the
    // threads set are outside a clone, the waits up to 127 ms: 1 + 2 + ... + 64.
    EXPECT_EQ(sys.slept, std::chrono::milliseconds(2 + 127));
}

TEST_F(LinuxPin, LateCloneInABusyProcessStartsTheQuietPeriodsOver) {
    add_thread(240, 240);
    int next = 241;
    int sleeps = 0;
    sys.on_sleep = [&] {
        tree.add_task(240, next);  // inherits the new mask
        sys.masks[next++] = CpuSet{1};
        if (++sleeps == 5) add_thread(240, 299);  // a clone in flight completes, old mask
    };
    auto r = pin_threads(env, 240, CpuSet{1}, ThreadScope::all_threads);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->ok());
    EXPECT_EQ(sys.masks[299], CpuSet{1});
    EXPECT_EQ(sys.slept, std::chrono::milliseconds(2 + (1 + 2 + 4 + 8) + 127));
}

TEST_F(LinuxPin, ThreadsSeenOutsideACloneEndTheWaitEarly) {
    for (int tid = 280; tid < 283; ++tid) {
        add_thread(280, tid);
        tree.write(fmt::format("/proc/{}/task/{}/syscall", tid, tid), "230 0x1 0x0 0x7ffc 0x0 0x0 0x0 0x7ffc 0x7f00\n");
    }
    int next = 284;
    sys.on_sleep = [&] {  // the process is starting threads (they inherit the mask)
        tree.add_task(280, next);
        sys.masks[next++] = CpuSet{3};
    };
    auto r = pin_threads(env, 280, CpuSet{3}, ThreadScope::all_threads);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->ok());
    // Blocked in clock_nanosleep after their change: no clone of theirs is in flight.
    EXPECT_EQ(sys.slept, std::chrono::milliseconds(2));
}

TEST_F(LinuxPin, ThreadInsideACloneIsWaitedFor) {
    add_thread(300, 300);
    add_thread(300, 301);
    tree.write("/proc/300/task/300/syscall", "7 0x0 0x0 0x0 0x0 0x0 0x0 0x7ffc 0x7f00\n");  // poll
    tree.write("/proc/301/task/301/syscall", "running\n");  // maybe inside clone, descheduled
    int sleeps = 0;
    sys.on_sleep = [&] {
        ++sleeps;
        if (sleeps == 1) {  // the process starts a thread (it inherits the mask)
            tree.add_task(300, 302);
            sys.masks[302] = CpuSet{1};
        }
        if (sleeps == 6) {  // 301's clone completes: its thread has the old mask
            add_thread(300, 303);
            tree.write("/proc/301/task/301/syscall", "35 0x7ffc 0x0 0x0 0x0 0x0 0x0 0x7ffc 0x7f00\n");
            tree.write("/proc/303/task/303/syscall", "35 0x7ffc 0x0 0x0 0x0 0x0 0x0 0x7ffc 0x7f00\n");
        }
    };
    auto r = pin_threads(env, 300, CpuSet{1}, ThreadScope::all_threads);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->ok());
    EXPECT_EQ(sys.masks[303], CpuSet{1});
    EXPECT_EQ(sleeps, 6);  // no wait after 303 was set and seen outside a clone
}

TEST_F(LinuxPin, ThreadThatExitsAfterStartingOneIsFollowed) {
    add_thread(340, 340);
    sys.masks[340] = CpuSet{2};  // already where it should be
    sys.on_sleep = [&] {
        if (sys.masks.contains(343)) return;
        tree.add_task(340, 343);  // the process starts threads: busy
        sys.masks[343] = CpuSet{2};
        add_thread(340, 341);  // a thread with the old mask...
    };
    sys.on_get = [&](int tid) {
        if (tid != 341) return;
        // ...exits before affine reads it, after starting 342, which the listing
        // that held 341 did not show.
        tree.remove_task(340, 341);
        sys.masks.erase(341);
        add_thread(340, 342);
    };
    auto r = pin_threads(env, 340, CpuSet{2}, ThreadScope::all_threads);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->ok());
    EXPECT_EQ(sys.masks[342], CpuSet{2});
}

TEST(CloneCheck, ReadsProcSyscall) {
    ProcTree tree;
    SysFs fs{tree.root()};
    tree.add_task(10, 10);
    tree.add_task(10, 11);
    tree.add_task(10, 12);
    tree.add_task(10, 13);
    tree.add_task(10, 14);
    tree.write("/proc/10/task/10/syscall", "running\n");
    tree.write("/proc/11/task/11/syscall", fmt::format("{} 0x3d0f00 0x0 0x0 0x0 0x0 0x0 0x7ffc 0x7f00\n", SYS_clone));
    tree.write("/proc/12/task/12/syscall", "202 0x7f 0x80 0x0 0x0 0x0 0x0 0x7ffc 0x7f00\n");    // futex
    tree.write("/proc/13/task/13/syscall", "-1 0x7ffc 0x7f00\n");                                // not in a call
    EXPECT_EQ(clone_check(fs, 10), CloneCheck::maybe_inside);
    EXPECT_EQ(clone_check(fs, 11), CloneCheck::maybe_inside);
    EXPECT_EQ(clone_check(fs, 12), CloneCheck::outside);
    EXPECT_EQ(clone_check(fs, 13), CloneCheck::outside);
    EXPECT_EQ(clone_check(fs, 14), CloneCheck::cannot_tell);  // no rights to read it
    EXPECT_EQ(clone_check(fs, 15), CloneCheck::outside);      // exited
}

TEST_F(LinuxPin, RecycledThreadIdIsReadAgain) {
    for (int tid = 260; tid < 263; ++tid) add_thread(260, tid);
    // 261 exits after it is set while the process starts 270; then the id 261
    // comes back as a new thread with the old mask.
    int sleeps = 0;
    sys.on_sleep = [&] {
        ++sleeps;
        if (sleeps == 1) {
            tree.remove_task(260, 261);
            tree.add_task(260, 270);
            sys.masks[270] = CpuSet{2};
        }
        if (sleeps == 2) add_thread(260, 261);
    };
    auto r = pin_threads(env, 260, CpuSet{2}, ThreadScope::all_threads);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->ok());
    EXPECT_EQ(sys.masks[261], CpuSet{2});
    EXPECT_EQ(r->count(PinResult::pinned), 4);
}

TEST_F(LinuxPin, EndlessThreadCreationIsBoundedAndReported) {
    add_thread(250, 250);
    int next = 251;
    sys.on_set = [&](int) { add_thread(250, next++); };  // every set starts a new thread
    auto r = pin_threads(env, 250, CpuSet{1}, ThreadScope::all_threads);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->rounds, 500);
    EXPECT_FALSE(r->settled);
    EXPECT_FALSE(r->ok());
    EXPECT_EQ(r->count(PinResult::failed), 0);
}

TEST_F(LinuxPin, ThreadThatExitsMidwayIsNotAnError) {
    for (int tid = 400; tid < 404; ++tid) add_thread(400, tid);
    sys.on_set = [&](int tid) {
        if (tid == 401) {  // 402 exits while we set 401
            tree.remove_task(400, 402);
            sys.masks.erase(402);
        }
    };
    auto r = pin_threads(env, 400, CpuSet{3}, ThreadScope::all_threads);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->count(PinResult::vanished), 1);
    EXPECT_EQ(r->count(PinResult::pinned), 3);
    EXPECT_TRUE(r->ok());
}

TEST_F(LinuxPin, PermissionDeniedMidwayIsReportedPerThread) {
    for (int tid = 500; tid < 503; ++tid) add_thread(500, tid);
    sys.inject.insert({{"set_affinity", 501}, EPERM});
    auto r = pin_threads(env, 500, CpuSet{0}, ThreadScope::all_threads);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok());
    ASSERT_EQ(r->count(PinResult::failed), 1);
    const auto& failed = r->threads[1];
    EXPECT_EQ(failed.tid, 501);
    EXPECT_EQ(failed.code, EPERM);
    EXPECT_NE(failed.error.find("CAP_SYS_NICE"), std::string::npos) << failed.error;
    EXPECT_EQ(sys.masks[500], CpuSet{0});
    EXPECT_EQ(sys.masks[502], CpuSet{0});
}

TEST_F(LinuxPin, KernelThreadEinvalExplained) {
    tree.add_task(2, 2, "ksoftirqd/0", pf_kthread | pf_no_setaffinity);
    sys.masks[2] = CpuSet{0};
    sys.inject.insert({{"set_affinity", 2}, EINVAL});
    auto r = pin_threads(env, 2, CpuSet{1}, ThreadScope::named_thread);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok());
    EXPECT_NE(r->threads[0].error.find("kernel thread"), std::string::npos);
}

TEST_F(LinuxPin, OfflineAndMissingCpusRefusedBeforeAnyCall) {
    add_thread(600, 600);
    host.cpus[3].online = false;
    auto offline = pin_threads(env, 600, CpuSet{2, 3}, ThreadScope::all_threads);
    ASSERT_FALSE(offline);
    EXPECT_EQ(offline.error().message, "pin task 600 (worker) to CPUs 2-3: CPU 3 is offline (online: 0-2)");
    auto missing = pin_threads(env, 600, CpuSet{9}, ThreadScope::all_threads);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().kind, ErrorKind::usage);
    EXPECT_EQ(sys.set_calls, 0);
}

TEST_F(LinuxPin, CpusOutsideTheCpusetRefusedWithTheCpuset) {
    add_thread(700, 700);
    tree.write("/proc/700/task/700/cpuset", "/batch\n");
    tree.write("/sys/fs/cgroup/batch/cpuset.cpus.effective", "0-1\n");
    auto r = pin_threads(env, 700, CpuSet{1, 2}, ThreadScope::all_threads);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("CPU 2 is outside its cpuset (cpuset /batch allows CPUs 0-1)"),
              std::string::npos)
        << r.error().message;
    EXPECT_EQ(sys.set_calls, 0);
}

TEST_F(LinuxPin, NoSuchTask) {
    auto r = pin_threads(env, 999, CpuSet{0}, ThreadScope::named_thread);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ESRCH);
}

TEST_F(LinuxPin, ReadBackMismatchIsAFailure) {
    add_thread(800, 800);
    add_thread(800, 801);
    // The kernel narrows 801's mask (its cpuset changed under us).
    sys.effective = [](int tid, const CpuSet& cpus) { return tid == 801 ? CpuSet{0} : cpus; };
    auto r = pin_threads(env, 800, CpuSet{0, 1}, ThreadScope::all_threads);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok());
    EXPECT_EQ(r->threads[1].result, PinResult::failed);
    EXPECT_NE(r->threads[1].error.find("holds CPUs 0 instead of 0-1"), std::string::npos);
}

TEST_F(LinuxPin, EsrchOnReadBackMeansVanished) {
    add_thread(900, 900);
    add_thread(900, 901);
    sys.on_set = [&](int tid) {  // 901 exits right after it is set
        if (tid != 901) return;
        tree.remove_task(900, 901);
        sys.inject.insert({{"get_affinity", 901}, ESRCH});
    };
    auto r = pin_threads(env, 900, CpuSet{2}, ThreadScope::all_threads);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->ok());
    EXPECT_EQ(r->count(PinResult::vanished), 1);
}

TEST_F(LinuxPin, BindAsInTheArticle) {
    add_thread(50, 50);
    auto zero = bind_task(env, 50, CpuSet{});
    ASSERT_FALSE(zero);
    EXPECT_NE(zero.error().message.find("zero mask"), std::string::npos);
    auto only_missing = bind_task(env, 50, CpuSet{8});
    ASSERT_FALSE(only_missing);
    EXPECT_EQ(only_missing.error().kind, ErrorKind::usage);
    EXPECT_EQ(only_missing.error().message, "mask 0x100 names CPU 8, which this host does not have (CPUs: 0-3; "
                                            "bind takes PID MASK, taskset's order is MASK PID)");
    // taskset's order (MASK PID) read as PID MASK: 12345 as a mask names CPUs 0, 3-5, 12-13.
    CpuSet untouched = sys.masks.at(50);
    auto swapped = bind_task(env, 50, CpuSet{0, 3, 4, 5, 12, 13});
    ASSERT_FALSE(swapped);
    EXPECT_EQ(swapped.error().kind, ErrorKind::usage);
    EXPECT_EQ(sys.masks.at(50), untouched);
    auto all_bits = bind_task(env, 50, CpuSet::range(0, 3));
    ASSERT_TRUE(all_bits) << all_bits.error().message;
    EXPECT_EQ(all_bits->after, (CpuSet{0, 1, 2, 3}));
    auto two = bind_task(env, 50, CpuSet{1});
    ASSERT_TRUE(two);
    EXPECT_EQ(two->before, (CpuSet{0, 1, 2, 3}));
    EXPECT_EQ(two->after, CpuSet{1});
    auto missing = bind_task(env, 999999, CpuSet{0});  // never existed: not "it exited"
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ESRCH);
    EXPECT_EQ(missing.error().message, "no such task: 999999 (no /proc/999999)");
    sys.inject.insert({{"set_affinity", 50}, EPERM});
    auto denied = bind_task(env, 50, CpuSet{0});
    ASSERT_FALSE(denied);
    EXPECT_NE(denied.error().message.find("CAP_SYS_NICE"), std::string::npos);
}

}  // namespace
}  // namespace affine::linux_backend
