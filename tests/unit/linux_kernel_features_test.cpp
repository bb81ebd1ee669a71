#include "linux/kernel_features.hpp"

#include <gtest/gtest.h>

#include "linux_fake.hpp"

namespace affine::linux_backend {
namespace {

using testing::FakeSyscalls;
using testing::ProcTree;

struct KernelFeatures : ::testing::Test {
    ProcTree tree;
    FakeSyscalls sys;
    SysFs fs{tree.root()};

    void SetUp() override {
        tree.write("/proc/self/status", "Name:\taffine\nMems_allowed_list:\t0-1\n");
        tree.write("/sys/devices/system/node/has_memory", "1\n");
        sys.policy = {mpol::interleave, NodeSet{0, 1}};
    }
};

TEST_F(KernelFeatures, PreferredManyAcceptedAndThePolicyRestored) {
    auto probe = probe_preferred_many(sys, fs);
    EXPECT_TRUE(probe.available);
    EXPECT_EQ(probe.detail, "yes");
    EXPECT_EQ(sys.policy.mode, mpol::interleave);
    EXPECT_EQ(sys.policy.nodes, (NodeSet{0, 1}));
}

TEST_F(KernelFeatures, PreferredManyUnknownToTheKernel) {
    sys.preferred_many = false;  // EINVAL, while MPOL_PREFERRED takes the same node
    auto probe = probe_preferred_many(sys, fs);
    EXPECT_FALSE(probe.available);
    EXPECT_NE(probe.detail.find("Linux 5.15"), std::string::npos) << probe.detail;
    EXPECT_EQ(sys.policy.mode, mpol::interleave);
}

TEST_F(KernelFeatures, PreferredManyProbesANodeWithMemoryThatIsAllowed) {
    sys.inject.insert({{"set_mempolicy", mpol::preferred_many}, EPERM});
    auto probe = probe_preferred_many(sys, fs);
    EXPECT_FALSE(probe.available);
    EXPECT_NE(probe.detail.find("node 1"), std::string::npos) << probe.detail;  // node 0 has no memory
    EXPECT_EQ(sys.policy.mode, mpol::interleave);
}

TEST_F(KernelFeatures, CgroupCpusetFromMountinfo) {
    tree.write("/proc/self/mountinfo",
               "22 27 0:21 / /proc rw,nosuid - proc proc rw\n"
               "30 24 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
    tree.write("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
    auto probe = probe_cgroup_cpuset(fs);
    EXPECT_TRUE(probe.available);
    EXPECT_EQ(probe.detail, "yes (cgroup2 at /sys/fs/cgroup)");
}

TEST_F(KernelFeatures, CgroupWithoutCpuset) {
    tree.write("/proc/self/mountinfo", "30 24 0:26 / /sys/fs/cgroup\\040v2 rw - cgroup2 cgroup2 rw\n");
    tree.write("/sys/fs/cgroup v2/cgroup.controllers", "cpu io memory\n");
    auto probe = probe_cgroup_cpuset(fs);
    EXPECT_FALSE(probe.available);
    EXPECT_NE(probe.detail.find("no cpuset controller"), std::string::npos) << probe.detail;
}

TEST_F(KernelFeatures, CgroupV1Only) {
    tree.write("/proc/self/mountinfo", "31 25 0:27 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n");
    auto probe = probe_cgroup_cpuset(fs);
    EXPECT_FALSE(probe.available);
    EXPECT_EQ(probe.detail, "no (no cgroup2 file system is mounted)");
}

TEST_F(KernelFeatures, ProcConnectorPermission) {
    EXPECT_TRUE(probe_proc_connector(sys).available);
    sys.proc_connector_errno = EPERM;
    auto probe = probe_proc_connector(sys);
    EXPECT_FALSE(probe.available);
    EXPECT_NE(probe.detail.find("CAP_NET_ADMIN"), std::string::npos) << probe.detail;
}

}  // namespace
}  // namespace affine::linux_backend
