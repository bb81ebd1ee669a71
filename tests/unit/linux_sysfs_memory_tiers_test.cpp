// Tiered memory read from sysfs trees captured in QEMU guests with emulated HMAT
// (tests/system/lib.sh's hmat topology): Debian 12's 6.1 kernel (hmat) keeps both
// nodes in one tier; the 6.12 kernel of bookworm-backports (hmat-backports) puts
// the slow node in a lower one.
#include <gtest/gtest.h>

#include "affine/host.hpp"
#include "linux/sysfs.hpp"
#include "linux/sysfs_memory_tiers.hpp"

namespace affine {
namespace {

const std::string fixtures = std::string(AFFINE_FIXTURES) + "/sysfs/";

Topology read(const std::string& name) {
    auto t = read_linux_topology(fixtures + name);
    EXPECT_TRUE(t) << (t ? "" : t.error().message);
    return t.value_or(Topology{});
}

void expect_guest_hmat(const Topology& t) {
    ASSERT_EQ(t.nodes.size(), 2U);
    const Node& fast = *t.node(0);
    const Node& slow = *t.node(1);
    EXPECT_FALSE(slow.has_cpus());
    for (const Node* n : {&fast, &slow}) {
        ASSERT_EQ(n->access.size(), 2U) << "node " << n->id;
        EXPECT_EQ(n->access[0].access_class, 0);
        EXPECT_EQ(n->access[1].access_class, 1);
        for (const MemoryAccess& a : n->access) EXPECT_EQ(a.initiators, NodeSet{0});
    }
    // QEMU's 10G and 2G are GiB/s: Linux shows them in MB/s as 10240 and 2048.
    EXPECT_EQ(fast.access_from(0)->read_bandwidth_mbps, 10240U);
    EXPECT_EQ(fast.access_from(0)->write_bandwidth_mbps, 10240U);
    EXPECT_EQ(fast.access_from(0)->read_latency_ns, 10U);
    EXPECT_EQ(fast.access_from(0)->write_latency_ns, 10U);
    EXPECT_EQ(slow.access_from(0)->read_bandwidth_mbps, 2048U);
    EXPECT_EQ(slow.access_from(0)->read_latency_ns, 40U);
    EXPECT_EQ(slow.access_from(0)->access_class, 1);  // the CPUs' class first
    EXPECT_EQ(slow.access_from(1), nullptr);          // node 1 is no initiator
    EXPECT_TRUE(fast.memory_side_caches.empty());
    ASSERT_EQ(slow.memory_side_caches.size(), 1U);
    EXPECT_EQ(slow.memory_side_caches[0],
              (MemorySideCache{.level = 1, .size_bytes = 16 << 20, .line_bytes = 64,
                               .indexing = CacheIndexing::direct_mapped, .write_policy = CacheWritePolicy::write_back}));
}

TEST(SysfsMemoryTiers, Debian61KeepsOneTier) {
    Topology t = read("hmat");
    expect_guest_hmat(t);
    ASSERT_EQ(t.memory_tiers().size(), 1U);
    EXPECT_EQ(t.memory_tiers()[0], (MemoryTier{4, NodeSet{0, 1}}));
    EXPECT_EQ(t.top_tier_nodes(), (NodeSet{0, 1}));
}

TEST(SysfsMemoryTiers, Backports612PutsTheSlowNodeLower) {
    Topology t = read("hmat-backports");
    expect_guest_hmat(t);
    // Tier directories are kernel ids (abstract distance / 128), not ranks.
    EXPECT_EQ(t.memory_tiers(), (std::vector<MemoryTier>{{4, NodeSet{0}}, {90, NodeSet{1}}}));
    EXPECT_EQ(t.node(1)->memory_tier, 90);
    EXPECT_EQ(t.top_tier_nodes(), NodeSet{0});
}

TEST(SysfsMemoryTiers, HostsWithoutHmatShowNothing) {
    for (const char* name : {"numa2", "numa4", "memless", "sparse", "dies"}) {
        Topology t = read(name);
        for (const Node& n : t.nodes) {
            EXPECT_TRUE(n.access.empty()) << name;
            EXPECT_TRUE(n.memory_side_caches.empty()) << name;
        }
        EXPECT_EQ(t.top_tier_nodes(), t.all_nodes()) << name;
    }
}

TEST(SysfsMemoryTiers, AbsentFiguresStayAbsent) {
    // A figure of 0 is the kernel's "not given"; unknown cache numbers are "other".
    char dir[] = "/tmp/affine-tiers-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    std::string root = dir;
    auto put = [&](const std::string& path, const std::string& text) {
        std::string full = root + path;
        ASSERT_EQ(std::system(("mkdir -p '" + full.substr(0, full.rfind('/')) + "'").c_str()), 0);
        FILE* f = std::fopen(full.c_str(), "w");
        ASSERT_NE(f, nullptr);
        std::fputs(text.c_str(), f);
        std::fclose(f);
    };
    const std::string n0 = "/sys/devices/system/node/node0";
    put(n0 + "/access0/initiators/read_latency", "0\n");
    put(n0 + "/access0/initiators/read_bandwidth", "5000\n");
    put(n0 + "/access0/initiators/node0", "");
    put(n0 + "/memory_side_cache/index2/size", "1024\n");
    put(n0 + "/memory_side_cache/index2/indexing", "7\n");
    put(n0 + "/memory_side_cache/index2/write_policy", "1\n");
    put("/sys/devices/virtual/memory_tiering/memory_tier12/nodelist", "0\n");
    Topology t;
    t.nodes.emplace_back();
    linux_backend::read_memory_tiers(linux_backend::SysFs(root), t);
    ASSERT_EQ(t.nodes[0].access.size(), 1U);
    EXPECT_EQ(t.nodes[0].access[0].read_latency_ns, std::nullopt);
    EXPECT_EQ(t.nodes[0].access[0].write_latency_ns, std::nullopt);
    EXPECT_EQ(t.nodes[0].access[0].read_bandwidth_mbps, 5000U);
    ASSERT_EQ(t.nodes[0].memory_side_caches.size(), 1U);
    EXPECT_EQ(t.nodes[0].memory_side_caches[0].level, 2);
    EXPECT_EQ(t.nodes[0].memory_side_caches[0].line_bytes, 0U);
    EXPECT_EQ(t.nodes[0].memory_side_caches[0].indexing, CacheIndexing::other);
    EXPECT_EQ(t.nodes[0].memory_side_caches[0].write_policy, CacheWritePolicy::write_through);
    EXPECT_EQ(t.nodes[0].memory_tier, 12);
    std::system(("rm -rf '" + root + "'").c_str());
}

TEST(SysfsMemoryTiers, HostFileRoundTripAndErrors) {
    Topology t = read("hmat-backports");
    t.source = "h.json";
    auto back = topology_from_json(topology_to_json(t), "h.json");
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, t);
    std::string text = topology_to_json(t);
    auto broken = [&](const std::string& from, const std::string& to) {
        std::string s = text;
        auto at = s.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        s.replace(at, from.size(), to);
        auto r = topology_from_json(s, "h.json");
        EXPECT_FALSE(r) << to;
        return r ? std::string() : r.error().message;
    };
    EXPECT_EQ(broken("\"indexing\": \"direct-mapped\"", "\"indexing\": \"round\""),
              "host file h.json: nodes[1].memory_side_caches[0].indexing: \"round\" is not direct-mapped, indexed, other or unknown");
    EXPECT_NE(broken("\"class\": 1", "\"class\": 2").find("access[1].class: must be at most 1"), std::string::npos);
    EXPECT_NE(broken("\"memory_tier\": 90", "\"memory_tier\": -1").find("memory_tier: must be at least 0"),
              std::string::npos);
    EXPECT_NE(broken("\"read_latency_ns\": 40", "\"read_latency_ns\": 0").find("read_latency_ns: must be at least 1"),
              std::string::npos);
}

TEST(SyntheticHost, SlowNodesPerSocket) {
    auto t = synthetic_topology("nodes=4,sockets=2,cores=2,slow=16G,slowdist=18");
    ASSERT_TRUE(t) << t.error().message;
    ASSERT_EQ(t->nodes.size(), 6U);
    for (int id : {4, 5}) {
        EXPECT_FALSE(t->node(id)->has_cpus());
        EXPECT_EQ(t->node(id)->memory_total_bytes, std::uint64_t{16} << 30);
        EXPECT_EQ(t->node(id)->memory_tier, 5);
        EXPECT_TRUE(t->node(id)->access.empty());  // no HMAT figures are made up
    }
    EXPECT_EQ(t->node(0)->memory_tier, 4);
    EXPECT_EQ(t->distance(0, 4), 18);
    EXPECT_EQ(t->distance(1, 4), 18);
    EXPECT_EQ(t->distance(2, 4), 29);
    EXPECT_EQ(t->distance(4, 5), 21);
    EXPECT_EQ(t->top_tier_nodes(), (NodeSet{0, 1, 2, 3}));
    EXPECT_FALSE(synthetic_topology("nodes=2,cores=1,slowdist=20"));
    EXPECT_FALSE(synthetic_topology("nodes=2,cores=1,slow=1G,slowdist=10"));
    auto plain = synthetic_topology("nodes=2,cores=1");
    EXPECT_EQ(plain->node(0)->memory_tier, std::nullopt);
}

}  // namespace
}  // namespace affine
