// Weighted interleave's weights: from HMAT bandwidths (the captured guests), the
// NODE:W grammar, and the kernel's files read and written under a root.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "affine/host.hpp"
#include "affine/interleave_weights.hpp"

namespace affine {
namespace {

const std::string fixtures = std::string(AFFINE_FIXTURES) + "/sysfs/";

TEST(InterleaveWeights, FromTheGuestsHmat) {
    auto t = read_linux_topology(fixtures + "hmat-backports");
    ASSERT_TRUE(t) << t.error().message;
    // 10240 and 2048 MB/s: 5 to 1.
    EXPECT_EQ(weights_from_bandwidth(*t), (std::map<int, int>{{0, 5}, {1, 1}}));
}

TEST(InterleaveWeights, ScaledToTheKernelsRange) {
    Topology t = *synthetic_topology("nodes=3,cores=1");
    for (auto [id, bw] : {std::pair{0, 100000}, {1, 99}, {2, 3}})
        t.nodes[static_cast<std::size_t>(id)].access = {
            MemoryAccess{.access_class = 1, .initiators = {0}, .read_bandwidth_mbps = static_cast<std::uint64_t>(bw)}};
    auto w = weights_from_bandwidth(t);
    ASSERT_TRUE(w);
    EXPECT_EQ(*w, (std::map<int, int>{{0, 255}, {1, 1}, {2, 1}}));
    // Without HMAT nothing is made up.
    auto none = weights_from_bandwidth(*synthetic_topology("nodes=2,cores=1"));
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message.find("no node shows a read bandwidth"), std::string::npos);
}

TEST(InterleaveWeights, Grammar) {
    EXPECT_EQ(parse_interleave_weights("0:3,1:1"), (std::map<int, int>{{0, 3}, {1, 1}}));
    for (const char* bad : {"", "0", "0:0", "0:256", "x:1", "0:1,0:2", "0:1,", "-1:1"}) {
        auto r = parse_interleave_weights(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().kind, ErrorKind::usage) << bad;
    }
    EXPECT_EQ(parse_interleave_weights("0:256").error().message,
              "bad weight \"0:256\": the weight is out of range (expected NODE:W,... with W from 1 to 255)");
}

TEST(InterleaveWeights, KernelFiles) {
    // 6.1 has no weighted interleave; 6.12 has node files and no auto switch.
    auto old = read_interleave_weights(fixtures + "hmat");
    ASSERT_FALSE(old);
    EXPECT_NE(old.error().message.find("has no weighted interleave"), std::string::npos);
    auto w = read_interleave_weights(fixtures + "hmat-backports");
    ASSERT_TRUE(w) << w.error().message;
    EXPECT_EQ(w->weights, (std::map<int, int>{{0, 1}, {1, 1}}));
    EXPECT_EQ(w->automatic, std::nullopt);
    EXPECT_FALSE(enable_automatic_weights(fixtures + "hmat-backports"));

    // A writable copy with a 6.16-style `__auto_type` switch.
    char dir[] = "/tmp/affine-weights-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    std::string root = dir, wd = root + "/sys/kernel/mm/mempolicy/weighted_interleave";
    ASSERT_EQ(std::system(("mkdir -p " + wd + " && echo 1 > " + wd + "/node0 && echo 1 > " + wd +
                           "/node1 && echo false > " + wd + "/__auto_type").c_str()),
              0);
    auto set = write_interleave_weights({{0, 4}}, root);
    ASSERT_TRUE(set) << set.error().message;
    EXPECT_EQ(set->weights, (std::map<int, int>{{0, 4}, {1, 1}}));
    EXPECT_EQ(set->automatic, false);
    EXPECT_EQ(set->auto_file, "__auto_type");
    auto unknown = write_interleave_weights({{3, 1}}, root);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().kind, ErrorKind::usage);
    auto on = enable_automatic_weights(root);
    ASSERT_TRUE(on) << on.error().message;
    EXPECT_EQ(on->automatic, true);
    std::system(("rm -rf " + root).c_str());
}

}  // namespace
}  // namespace affine
