#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "affine/set_grammar.hpp"
#include "linux/procfs.hpp"
#include "linux_fake.hpp"

namespace affine::linux_backend {
namespace {

using testing::FakeSyscalls;
using testing::ProcTree;

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct LinuxShield : ::testing::Test {
    ProcTree tree;
    FakeSyscalls sys;
    Topology host = testing::two_node_host();
    SysFs fs{tree.root()};
    Env env{fs, sys, host};
    std::string state = tree.root() + "/run/affine/shield.json";

    void task(int pid, int tid, const std::string& name, CpuSet mask, unsigned long flags = 0x400000,
              unsigned long long start = 1000) {
        tree.add_task(pid, tid, name, flags, start);
        sys.masks[tid] = mask;
    }
    void SetUp() override {
        sys.pid = 999;  // affine itself
        task(1, 1, "init", CpuSet{0, 1, 2, 3});
        task(40, 40, "sshd", CpuSet{0, 1, 2, 3});
        task(40, 41, "sshd-worker", CpuSet{2, 3});
        task(50, 50, "pinned", CpuSet{3});
        task(60, 60, "elsewhere", CpuSet{0});
        task(2, 2, "kthreadd", CpuSet{0, 1, 2, 3}, pf_kthread);
        task(20, 20, "ksoftirqd/3", CpuSet{3}, pf_kthread | pf_no_setaffinity);
        task(999, 999, "affine", CpuSet{0, 1, 2, 3});
    }
};

TEST_F(LinuxShield, MovesUserTasksJournalsFirstAndUndoes) {
    bool journal_seen_before_change = true;
    sys.on_set = [&](int tid) {
        auto text = slurp(state);
        if (text.find(fmt::format("\"tid\": {},", tid)) == std::string::npos) journal_seen_before_change = false;
    };
    auto r = shield_cpus(env, {CpuSet{3}, false, state});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(journal_seen_before_change);
    EXPECT_EQ(sys.masks[1], (CpuSet{0, 1, 2}));  // init: what starts later inherits it
    EXPECT_EQ(sys.masks[40], (CpuSet{0, 1, 2}));
    EXPECT_EQ(sys.masks[41], CpuSet{2});
    EXPECT_EQ(sys.masks[50], CpuSet{3});  // only on the shielded CPU: stays, reported
    EXPECT_EQ(sys.masks[2], (CpuSet{0, 1, 2, 3}));  // kernel threads only with --kthreads
    EXPECT_EQ(sys.masks[999], (CpuSet{0, 1, 2, 3}));  // not affine itself
    EXPECT_EQ(r->count(ShieldAction::moved), 3);
    EXPECT_EQ(r->count(ShieldAction::failed), 0);
    EXPECT_TRUE(std::filesystem::exists(state));

    auto again = shield_cpus(env, {CpuSet{2}, false, state});
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().message.find("already active"), std::string::npos);

    auto u = undo_shield(env, state);
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(u->restored, 3);
    EXPECT_EQ(sys.masks[1], (CpuSet{0, 1, 2, 3}));
    EXPECT_EQ(sys.masks[41], (CpuSet{2, 3}));
    EXPECT_FALSE(std::filesystem::exists(state));
    auto twice = undo_shield(env, state);
    ASSERT_TRUE(twice);
    EXPECT_TRUE(twice->nothing_to_undo);
}

TEST_F(LinuxShield, SecondShieldWhileTheFirstRunsIsRefusedAndLosesNothing) {
    // While the first shield reads the tasks' masks (before it has journalled
    // anything), a second one starts on another CPU.
    std::optional<Result<ShieldReport>> second;
    bool started = false;
    sys.on_get = [&](int) {
        if (started) return;
        started = true;
        second = shield_cpus(env, {CpuSet{2}, false, state});
    };
    auto first = shield_cpus(env, {CpuSet{3}, false, state});
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_TRUE(second.has_value());
    ASSERT_FALSE(*second);
    EXPECT_NE(second->error().message.find("another affine shield is running"), std::string::npos)
        << second->error().message;
    EXPECT_EQ(sys.masks[41], CpuSet{2});  // the second one changed nothing
    // The first one's journal is whole: undo restores every task it moved.
    sys.on_get = nullptr;
    auto u = undo_shield(env, state);
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(u->restored, 3);
    EXPECT_EQ(sys.masks[41], (CpuSet{2, 3}));
}

TEST_F(LinuxShield, TaskForkedByOneNotYetMovedIsCaughtLater) {
    // A fork that started before sshd was moved completes during the quiet
    // period, with sshd's old mask.
    sys.on_sleep = [&] {
        if (!sys.masks.contains(70)) task(70, 70, "sshd-child", CpuSet{0, 1, 2, 3});
    };
    auto r = shield_cpus(env, {CpuSet{3}, false, state});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->settled);
    EXPECT_EQ(sys.masks[70], (CpuSet{0, 1, 2}));
    EXPECT_NE(slurp(state).find("\"tid\": 70,"), std::string::npos);  // journalled, so undo restores it
    EXPECT_EQ(r->count(ShieldAction::moved), 4);
}

TEST_F(LinuxShield, KernelThreadsThatMayMove) {
    auto r = shield_cpus(env, {CpuSet{3}, true, state});
    ASSERT_TRUE(r);
    EXPECT_EQ(sys.masks[2], (CpuSet{0, 1, 2}));
    EXPECT_EQ(sys.masks[20], CpuSet{3});
    bool reported = false;
    for (const auto& t : r->tasks)
        if (t.tid == 20) reported = t.action == ShieldAction::skipped && t.reason.find("PF_NO_SETAFFINITY") != std::string::npos;
    EXPECT_TRUE(reported);
}

TEST_F(LinuxShield, UndoAfterInterruptedShieldAndRecycledTids) {
    // affine is killed after changing the first task: later sets never happen.
    int sets = 0;
    sys.on_set = [&](int) {
        if (++sets == 2) throw std::runtime_error("killed");
    };
    EXPECT_THROW((void)shield_cpus(env, {CpuSet{2, 3}, false, state}), std::runtime_error);
    sys.on_set = nullptr;
    ASSERT_TRUE(std::filesystem::exists(state));
    EXPECT_EQ(sys.masks[1], CpuSet({0, 1}));
    // Meanwhile task 40 exited and its tid was given to a new task.
    tree.remove_task(40, 40);
    task(40, 40, "newcomer", CpuSet{0}, 0x400000, 5000);
    auto u = undo_shield(env, state);
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(sys.masks[1], (CpuSet{0, 1, 2, 3}));
    EXPECT_EQ(sys.masks[40], CpuSet{0});  // the newcomer is not touched
    EXPECT_EQ(u->gone, 1);
    EXPECT_TRUE(u->failures.empty());
}

TEST_F(LinuxShield, Refusals) {
    auto all = shield_cpus(env, {CpuSet{0, 1, 2, 3}, false, state});
    ASSERT_FALSE(all);
    EXPECT_EQ(all.error().kind, ErrorKind::usage);
    host.cpus[3].online = false;
    auto offline = shield_cpus(env, {CpuSet{3}, false, state});
    ASSERT_FALSE(offline);
    EXPECT_EQ(offline.error().message, "CPU 3 is offline (online: 0-2)");
    host.cpus[3].online = true;
    sys.inject.insert({{"set_affinity", 40}, EPERM});
    auto r = shield_cpus(env, {CpuSet{3}, false, state});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->count(ShieldAction::failed), 1);
}

}  // namespace
}  // namespace affine::linux_backend

namespace affine::linux_backend {
namespace {

TEST(LinuxShieldOffline, JournalKeepsOfflineCpusAndUndoSaysTheyCannotReturn) {
    ProcTree tree;
    FakeSyscalls sys;
    Topology host = testing::two_node_host();
    host.cpus[3].online = false;
    SysFs fs{tree.root()};
    Env env{fs, sys, host};
    std::string state = tree.root() + "/state/shield.json";
    tree.add_task(1, 1, "init");
    tree.write("/proc/1/task/1/status", "Name:\tinit\nTgid:\t1\nPid:\t1\nCpus_allowed_list:\t0-3\n");
    sys.pid = 999;
    sys.masks[1] = CpuSet{0, 1, 2};  // sched_getaffinity leaves offline CPU 3 out
    auto r = shield_cpus(env, {CpuSet{2}, false, state});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_NE(slurp(state).find("\"mask\": \"0-3\""), std::string::npos) << slurp(state);
    EXPECT_EQ(sys.masks[1], (CpuSet{0, 1, 3}));
    auto u = undo_shield(env, state);
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(u->restored, 1);
    EXPECT_EQ(u->restored_without_offline, 1);
    EXPECT_EQ(u->offline_left_out, CpuSet{3});
}

}  // namespace
}  // namespace affine::linux_backend
