#include <gtest/gtest.h>

#include "affine/set_grammar.hpp"
#include "linux/procfs.hpp"
#include "linux_fake.hpp"

namespace affine::linux_backend {
namespace {

using testing::FakeSyscalls;
using testing::ProcTree;

TEST(LinuxLaunchPolicy, AutomaticRules) {
    Topology host = testing::two_node_host();
    auto cpus_only = resolve_launch_policy({CpuSet{2, 3}, std::nullopt, MemPolicy::automatic}, host);
    ASSERT_TRUE(cpus_only);
    EXPECT_EQ(cpus_only->mode, MemPolicy::local);  // memory follows the CPUs
    auto nodes_only = resolve_launch_policy({std::nullopt, NodeSet{1}, MemPolicy::automatic}, host);
    ASSERT_TRUE(nodes_only);
    EXPECT_EQ(nodes_only->mode, MemPolicy::bind);
    EXPECT_EQ(nodes_only->nodes, NodeSet{1});
    auto nothing = resolve_launch_policy({}, host);
    ASSERT_TRUE(nothing);
    EXPECT_FALSE(nothing->mode);
    auto bind_from_cpus = resolve_launch_policy({CpuSet{1, 2}, std::nullopt, MemPolicy::bind}, host);
    ASSERT_TRUE(bind_from_cpus);
    EXPECT_EQ(bind_from_cpus->nodes, (NodeSet{0, 1}));
}

TEST(LinuxLaunchPolicy, Refusals) {
    Topology host = testing::two_node_host();
    host.nodes[1].memory_total_bytes = 0;
    host.cpus[3].online = false;
    auto memless = resolve_launch_policy({std::nullopt, NodeSet{1}, MemPolicy::bind}, host);
    ASSERT_FALSE(memless);
    EXPECT_EQ(memless.error().message,
              "node 1 has no memory, so --mem-policy bind cannot allocate there (nodes with memory: 0)");
    auto cpus_of_memless = resolve_launch_policy({CpuSet{2}, std::nullopt, MemPolicy::preferred}, host);
    ASSERT_FALSE(cpus_of_memless);
    EXPECT_NE(cpus_of_memless.error().message.find("have none; give --nodes"), std::string::npos);
    auto offline = resolve_launch_policy({CpuSet{3}, std::nullopt, MemPolicy::automatic}, host);
    ASSERT_FALSE(offline);
    EXPECT_EQ(offline.error().message, "CPU 3 is offline (online: 0-2)");
    auto local_nodes = resolve_launch_policy({std::nullopt, NodeSet{0}, MemPolicy::local}, host);
    ASSERT_FALSE(local_nodes);
    auto no_nodes = resolve_launch_policy({std::nullopt, std::nullopt, MemPolicy::interleave}, host);
    ASSERT_FALSE(no_nodes);
    EXPECT_EQ(no_nodes.error().kind, ErrorKind::usage);
    EXPECT_FALSE(parse_mem_policy("strict"));
    EXPECT_EQ(parse_mem_policy("interleave"), MemPolicy::interleave);
}

struct LinuxRun : ::testing::Test {
    ProcTree tree;
    FakeSyscalls sys;
    Topology host = testing::two_node_host();
    SysFs fs{tree.root()};
    Env env{fs, sys, host};
    void SetUp() override {
        sys.pid = 77;
        tree.add_task(77, 77, "affine");
        sys.masks[77] = CpuSet{0, 1, 2, 3};
    }
};

TEST_F(LinuxRun, AppliesAndReadsBack) {
    auto a = apply_launch_policy(env, {CpuSet{2, 3}, NodeSet{1}, MemPolicy::bind});
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->cpus, (CpuSet{2, 3}));
    EXPECT_EQ(a->kernel_mode, "bind");
    EXPECT_EQ(a->nodes, NodeSet{1});
    EXPECT_EQ(sys.policy.mode, mpol::bind);
}

TEST_F(LinuxRun, PreferredOneNodeIsPreferredSeveralIsPreferredMany) {
    ASSERT_TRUE(apply_launch_policy(env, {std::nullopt, NodeSet{1}, MemPolicy::preferred}));
    EXPECT_EQ(sys.policy.mode, mpol::preferred);
    ASSERT_TRUE(apply_launch_policy(env, {std::nullopt, NodeSet{0, 1}, MemPolicy::preferred}));
    EXPECT_EQ(sys.policy.mode, mpol::preferred_many);
}

TEST_F(LinuxRun, PreferredManyMissingFailsInsteadOfChangingMeaning) {
    sys.preferred_many = false;
    auto a = apply_launch_policy(env, {std::nullopt, NodeSet{0, 1}, MemPolicy::preferred});
    ASSERT_FALSE(a);
    EXPECT_NE(a.error().message.find("MPOL_PREFERRED_MANY"), std::string::npos);
    EXPECT_EQ(sys.policy.mode, mpol::default_);  // nothing set
    // One node needs only MPOL_PREFERRED, which every kernel has.
    EXPECT_TRUE(apply_launch_policy(env, {std::nullopt, NodeSet{0}, MemPolicy::preferred}));
}

TEST_F(LinuxRun, AffinityRefusalExplained) {
    sys.inject.insert({{"set_affinity", 0}, EPERM});
    auto a = apply_launch_policy(env, {CpuSet{1}, std::nullopt, MemPolicy::automatic});
    ASSERT_FALSE(a);
    EXPECT_NE(a.error().message.find("CAP_SYS_NICE"), std::string::npos);
}

TEST_F(LinuxRun, ExecStatus) {
    sys.exec_errno = ENOENT;
    auto missing = exec_with_policy(env, {CpuSet{1}, std::nullopt, MemPolicy::automatic}, {"no-such-command"});
    EXPECT_EQ(missing.exit_status, 127);
    EXPECT_EQ(missing.error.message, "cannot execute no-such-command: command not found");
    EXPECT_EQ(sys.masks[77], CpuSet{1});  // applied before exec
    EXPECT_EQ(sys.policy.mode, mpol::local);
    sys.exec_errno = EACCES;
    EXPECT_EQ(exec_with_policy(env, {}, {"/etc/passwd"}).exit_status, 126);
    auto bad = exec_with_policy(env, {std::nullopt, NodeSet{5}, MemPolicy::bind}, {"true"});
    EXPECT_EQ(bad.exit_status, 2);
    EXPECT_EQ(sys.execs.size(), 2U);  // the refused policy never reached exec
}

TEST_F(LinuxRun, MigrateMovesOnlyPagesOutsideTheTargets) {
    tree.add_task(300, 300, "db");
    tree.write("/proc/300/numa_maps", "1000 default anon=10 N0=10 kernelpagesize_kB=4\n");
    sys.migrate = [&](int, const NodeSet&, const NodeSet&) {
        tree.write("/proc/300/numa_maps", "1000 default anon=10 N0=2 N1=8 kernelpagesize_kB=4\n");
        return 2L;
    };
    auto r = migrate_process_memory(env, 300, NodeSet{1});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(sys.migrations.size(), 1U);
    EXPECT_EQ(std::get<1>(sys.migrations[0]), NodeSet{0});
    EXPECT_EQ(std::get<2>(sys.migrations[0]), NodeSet{1});
    EXPECT_EQ(r->pages_before.at(0), 10U);
    EXPECT_EQ(r->pages_after.at(1), 8U);
    EXPECT_EQ(r->pages_not_moved, 2);
}

TEST_F(LinuxRun, MigrateOfAProcessThatExitsMidWaySaysSo) {
    tree.add_task(300, 300, "db");
    tree.write("/proc/300/numa_maps", "1000 default anon=10 N0=10 kernelpagesize_kB=4\n");
    sys.migrate = [&](int, const NodeSet&, const NodeSet&) {
        // It exits while its pages move: a zombie, whose numa_maps reads empty.
        std::string stat = tree.read("/proc/300/task/300/stat");
        stat.replace(stat.find(") S ") + 2, 1, "Z");
        tree.write("/proc/300/task/300/stat", stat);
        tree.write("/proc/300/numa_maps", "");
        return 0L;
    };
    auto r = migrate_process_memory(env, 300, NodeSet{1});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ESRCH);
    EXPECT_EQ(r.error().message, "move the pages of pid 300 to node 1: the process exited meanwhile");
    auto zombie = migrate_process_memory(env, 300, NodeSet{1});
    ASSERT_FALSE(zombie);
    EXPECT_NE(zombie.error().message.find("pid 300 has exited"), std::string::npos) << zombie.error().message;
}

TEST_F(LinuxRun, MigrateRefusals) {
    tree.add_task(300, 300, "db", 0x400000, 1, 0, 0);
    tree.write("/proc/300/numa_maps", "1000 default anon=10 N0=10 kernelpagesize_kB=4\n");
    sys.inject.insert({{"migrate_pages", 300}, EPERM});
    auto denied = migrate_process_memory(env, 300, NodeSet{1});
    ASSERT_FALSE(denied);
    EXPECT_NE(denied.error().message.find("belongs to uid 0"), std::string::npos) << denied.error().message;
    auto gone = migrate_process_memory(env, 301, NodeSet{1});
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, ESRCH);
    host.nodes[1].memory_total_bytes = 0;
    auto memless = migrate_process_memory(env, 300, NodeSet{1});
    ASSERT_FALSE(memless);
    EXPECT_NE(memless.error().message.find("has no memory"), std::string::npos);
}

}  // namespace
}  // namespace affine::linux_backend
