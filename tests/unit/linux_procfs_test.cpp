#include <gtest/gtest.h>

#include "affine/set_grammar.hpp"
#include "linux/procfs.hpp"
#include "linux_fake.hpp"

namespace affine::linux_backend {
namespace {

using testing::FakeSyscalls;
using testing::ProcTree;

TEST(LinuxProcfs, ParsesStatWithAwkwardCommand) {
    SysFs fs(AFFINE_FIXTURES);
    auto st = read_task_stat(fs, 4242);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->comm, "touch (memory) x");
    EXPECT_EQ(st->state, 'S');
    EXPECT_EQ(st->flags, 4194560UL);
    EXPECT_EQ(st->start_time, 123456ULL);
    EXPECT_EQ(st->processor, 3);
    EXPECT_FALSE(parse_task_stat("garbage"));
}

TEST(LinuxProcfs, ParsesNumaMaps) {
    SysFs fs(AFFINE_FIXTURES);
    auto maps = parse_numa_maps(*fs.read("/proc/4242/numa_maps"));
    ASSERT_EQ(maps.size(), 7U);
    EXPECT_EQ(maps[0].backing, "file=/usr/bin/touch_memory");
    EXPECT_EQ(maps[1].backing, "heap");
    EXPECT_EQ(maps[1].bytes_per_node.at(1), 200U * 4096);
    EXPECT_EQ(maps[2].policy, "bind:1");
    EXPECT_EQ(maps[3].policy, "interleave:0-1");
    EXPECT_EQ(maps[4].bytes_per_node.at(1), 2048U * 1024);  // a huge page counts at its size
    EXPECT_EQ(maps[5].backing, "stack");
    EXPECT_TRUE(maps[6].bytes_per_node.empty());
    auto total = bytes_per_node(maps);
    EXPECT_EQ(total.at(0), (2U + 100 + 2 + 3) * 4096);
    EXPECT_EQ(total.at(1), (200U + 512 + 2) * 4096 + 2048U * 1024);
}

TEST(LinuxProcfs, ParsesWeightedInterleaveMaps) {
    // numa_maps from the 6.12 guest: the policy's name holds a space.
    auto maps = parse_numa_maps("7f3c00000000 weighted interleave:0-1 anon=16384 dirty=16384 N0=13654 N1=2730 "
                                "kernelpagesize_kB=4\n");
    ASSERT_EQ(maps.size(), 1U);
    EXPECT_EQ(maps[0].policy, "weighted interleave:0-1");
    EXPECT_EQ(maps[0].backing, "anon");
    EXPECT_EQ(maps[0].bytes_per_node, (std::map<int, std::uint64_t>{{0, 13654ULL * 4096}, {1, 2730ULL * 4096}}));
}

TEST(LinuxProcfs, ShowReadsThreadsCpusetAndMemory) {
    SysFs fs(AFFINE_FIXTURES);
    FakeSyscalls sys;
    sys.masks[4242] = CpuSet{2, 3};
    Topology host = testing::two_node_host();
    Env env{fs, sys, host};
    auto p = read_process_placement(env, 4242, ThreadSelection::all);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->pid, 4242);
    EXPECT_EQ(p->command, "touch memory");
    EXPECT_EQ(p->uid, 1000U);
    ASSERT_EQ(p->threads.size(), 1U);
    EXPECT_EQ(p->threads[0].affinity, (CpuSet{2, 3}));
    EXPECT_EQ(p->threads[0].last_cpu, 3);
    EXPECT_EQ(p->cpuset, "/workload");
    EXPECT_EQ(p->cpuset_cpus, (CpuSet{0, 1, 2, 3}));  // no cgroup files: every online CPU
    EXPECT_EQ(p->allowed_nodes, (NodeSet{0, 1}));
    EXPECT_EQ(p->local_nodes, NodeSet{1});
    ASSERT_TRUE(p->local_memory_share);
    double node1 = (200.0 + 512 + 2) * 4096 + 2048.0 * 1024;
    double node0 = (2.0 + 100 + 2 + 3) * 4096;
    EXPECT_NEAR(*p->local_memory_share, node1 / (node0 + node1), 1e-9);
}

TEST(LinuxProcfs, CpusetFromCgroupV2WalksUp) {
    ProcTree tree;
    tree.add_task(10, 10);
    tree.write("/proc/10/task/10/cpuset", "/jobs/db/worker\n");
    tree.write("/sys/fs/cgroup/jobs/cpuset.cpus.effective", "2-3\n");
    SysFs fs(tree.root());
    FakeSyscalls sys;
    Topology host = testing::two_node_host();
    Env env{fs, sys, host};
    auto cs = read_task_cpuset(env, 10);
    EXPECT_EQ(cs.path, "/jobs/db/worker");
    EXPECT_EQ(cs.cpus, (CpuSet{2, 3}));
}

TEST(LinuxProcfs, ExplainsRefusals) {
    ProcTree tree;
    tree.add_task(10, 10, "postgres", 0x400000, 5, 0, 0);
    tree.add_task(2, 2, "kworker/0:1", pf_kthread | pf_no_setaffinity);
    tree.write("/proc/10/task/10/cpuset", "/db\n");
    tree.write("/sys/fs/cgroup/db/cpuset.cpus.effective", "0-1\n");
    SysFs fs(tree.root());
    FakeSyscalls sys;
    Topology host = testing::two_node_host();
    host.cpus[3].online = false;
    Env env{fs, sys, host};
    auto perm = explain_affinity_error(env, 10, CpuSet{0}, EPERM);
    EXPECT_NE(perm.find("task 10 (postgres) belongs to uid 0"), std::string::npos) << perm;
    EXPECT_NE(perm.find("CAP_SYS_NICE"), std::string::npos) << perm;
    auto kthread = explain_affinity_error(env, 2, CpuSet{0}, EINVAL);
    EXPECT_NE(kthread.find("PF_NO_SETAFFINITY"), std::string::npos) << kthread;
    auto offline = explain_affinity_error(env, 10, CpuSet{3}, EINVAL);
    EXPECT_EQ(offline, "CPUs 3 are offline (online: 0-2)");
    auto cpuset = explain_affinity_error(env, 10, CpuSet{2}, EINVAL);
    EXPECT_EQ(cpuset, "CPUs 2 are outside the cpuset of task 10 (postgres) (cpuset /db allows CPUs 0-1)");
    EXPECT_EQ(explain_affinity_error(env, 77, CpuSet{0}, ESRCH), "no such task: 77 (it exited)");
}

}  // namespace
}  // namespace affine::linux_backend
