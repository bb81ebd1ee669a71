#include <gtest/gtest.h>

#include "affine/host.hpp"
#include "affine/set_grammar.hpp"

namespace affine {
namespace {

TEST(SyntheticHost, Layout) {
    auto t = synthetic_topology("nodes=4,sockets=2,cores=8,smt=2,mem=64G");
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->cpus.size(), 64U);
    EXPECT_EQ(t->nodes.size(), 4U);
    EXPECT_EQ(t->nodes[1].cpus, CpuSet::range(16, 31));
    EXPECT_EQ(t->nodes[1].memory_total_bytes, 64ULL << 30);
    EXPECT_EQ(t->cores_of(1).size(), 8U);
    EXPECT_EQ(t->cpu(17)->core, t->cpu(16)->core);  // SMT siblings share a core
    EXPECT_EQ(t->cpu(17)->package, 0);
    EXPECT_EQ(t->cpu(17)->l3, 1);  // one L3 per node
    EXPECT_FALSE(t->cpu(17)->die);
    EXPECT_EQ(t->cpu(32)->package, 1);
    EXPECT_EQ(t->distance(0, 0), 10);
    EXPECT_EQ(t->distance(0, 1), 16);  // same socket
    EXPECT_EQ(t->distance(0, 2), 21);  // other socket
    EXPECT_EQ(t->nodes_of(CpuSet{0, 40}), (NodeSet{0, 2}));
    EXPECT_EQ(t->cpus_of(NodeSet{3}), CpuSet::range(48, 63));
}

TEST(SyntheticHost, DefaultsAndErrors) {
    auto t = synthetic_topology("nodes=2,cores=2");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->distance(0, 1), 21);
    EXPECT_EQ(t->nodes[0].memory_total_bytes, 4ULL << 30);
    for (const char* bad : {"nodes=3,sockets=2,cores=2", "cores=2", "nodes=2", "nodes=2,cores=2,foo=1",
                            "nodes=2,cores=0", "nodes=2,cores=2,mem=7X", "nodes=2,cores=2,nodes=3",
                            "nodes=2,cores=2,dist=9", "nodes=x,cores=2", "nodes=2,,cores=2"}) {
        auto r = synthetic_topology(bad);
        EXPECT_FALSE(r) << bad;
    }
    // An unknown key is named first, before its value is judged.
    auto misspelt = synthetic_topology("nodes=4,cores=2,memory=8G");
    ASSERT_FALSE(misspelt);
    EXPECT_NE(misspelt.error().message.find("unknown key \"memory\" (memory is mem=SIZE)"), std::string::npos)
        << misspelt.error().message;
}

TEST(HostFile, RoundTripsThroughJson) {
    auto t = synthetic_topology("nodes=4,sockets=2,cores=2,smt=2,mem=1G");
    ASSERT_TRUE(t);
    t->numa_balancing = true;
    auto back = topology_from_json(topology_to_json(*t), t->source);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, *t);
}

TEST(HostFile, MinimalContractLoads) {
    const char* text = R"({
      "cpus": [{"id": 0, "online": true, "node": 0, "core": 0, "package": 0},
               {"id": 1, "online": true, "node": 2, "core": 1, "package": 0}],
      "nodes": [{"id": 0, "cpus": [0], "memory_total_bytes": 100, "memory_free_bytes": 50, "distances": {"0": 10, "2": 20}},
                {"id": 2, "cpus": [1], "memory_total_bytes": 0, "memory_free_bytes": 0, "distances": {"0": 20, "2": 10}}]
    })";
    auto t = topology_from_json(text, "mini.json");
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->all_nodes(), (NodeSet{0, 2}));  // sparse ids are fine
    EXPECT_FALSE(t->node(2)->has_memory());
    EXPECT_EQ(t->allowed_cpus, (CpuSet{0, 1}));
    EXPECT_EQ(t->distance(2, 0), 20);
}

TEST(HostFile, InconsistentFilesAreRefusedWithTheField) {
    auto err = [](const char* text) {
        auto t = topology_from_json(text, "h.json");
        EXPECT_FALSE(t);
        return t ? std::string() : t.error().message;
    };
    EXPECT_EQ(err("{"), "host file h.json: not valid JSON");
    EXPECT_EQ(err(R"({"nodes": []})"), "host file h.json: top level: missing array \"cpus\"");
    EXPECT_EQ(err(R"({"cpus": [{"id": 0, "online": true, "node": 1, "core": 0, "package": 0}], "nodes": []})"),
              "host file h.json: CPU 0: its node 1 is not a node of the host (nodes: none)");
    EXPECT_EQ(err(R"({"cpus": [{"id": 0, "online": true, "node": 0, "core": 0, "package": 0}],
                      "nodes": [{"id": 0, "cpus": [0, 1], "memory_total_bytes": 1, "memory_free_bytes": 1, "distances": {}}]})"),
              "host file h.json: node 0.cpus: lists CPU 1, which is not one of its CPUs");
    EXPECT_EQ(err(R"({"cpus": [{"id": 0, "node": 0, "core": 0, "package": 0}], "nodes": []})"),
              "host file h.json: cpus[0]: missing boolean \"online\"");
    EXPECT_EQ(err(R"({"cpus": [], "nodes": [{"id": 0, "cpus": [], "memory_total_bytes": 1, "memory_free_bytes": 2, "distances": {}}]})"),
              "host file h.json: nodes[0]: memory_free_bytes exceeds memory_total_bytes");
}

// Every source returns through checked_topology: ids beyond the grammar's limit
// are refused wherever they come from, before anything is sized by them.
TEST(CheckedTopology, RefusesIdsOutOfRange) {
    auto err = [](const std::string& text) {
        auto t = topology_from_json(text, "h.json");
        EXPECT_FALSE(t) << text;
        return t ? std::string() : t.error().message;
    };
    const std::string node_1e9 = R"({"cpus": [{"id": 0, "online": true, "node": 1000000000, "core": 0, "package": 0}],
        "nodes": [{"id": 1000000000, "cpus": [0], "memory_total_bytes": 1, "memory_free_bytes": 1,
                   "distances": {"1000000000": 10}}]})";
    EXPECT_EQ(err(node_1e9), "host file h.json: node 1000000000: id out of range (ids are 0 to 1048575)");
    EXPECT_EQ(err(R"({"cpus": [{"id": 2000000, "online": false, "node": -1, "core": -1, "package": -1}], "nodes": []})"),
              "host file h.json: CPU 2000000: id out of range (ids are 0 to 1048575)");
    EXPECT_EQ(err(R"({"cpus": [{"id": 0, "online": true, "node": 0, "core": 5000000000, "package": 0}], "nodes": []})"),
              "host file h.json: cpus[0].core: must be at most 2147483647");
    EXPECT_EQ(err(R"({"cpus": [{"id": 0, "online": true, "node": 0, "core": 0, "package": 0, "l3": 2000000}],
                      "nodes": [{"id": 0, "cpus": [0], "memory_total_bytes": 1, "memory_free_bytes": 1, "distances": {}}]})"),
              "host file h.json: CPU 0: l3 2000000 out of range (ids are 0 to 1048575)");
    EXPECT_EQ(err(R"({"cpus": [{"id": 0, "online": true, "node": -1, "core": 0, "package": 0}], "nodes": []})"),
              "host file h.json: CPU 0: its node -1 is not a node of the host (nodes: none)");

    Topology t = *synthetic_topology("nodes=2,cores=1");
    t.cpus[1].package = -7;
    auto bad = checked_topology(t, "Xen topology", ErrorKind::failed);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, ErrorKind::failed);
    EXPECT_EQ(bad.error().message, "Xen topology: CPU 1: package -7 out of range (ids are 0 to 1048575, or -1 when unknown)");
}

// Linux gives every CPU a die_id, 0 on a host without dies: a package of one die has
// no die (null in every JSON output, "dies none" in the text); real dies stay.
TEST(CheckedTopology, DieOfAOneDiePackageIsNone) {
    Topology t = *synthetic_topology("nodes=2,cores=2");  // CPUs 0-1 on package 0, 2-3 on package 1
    for (Cpu& c : t.cpus) c.die = c.package;                // what sysfs says: one die_id per package
    auto one_die = checked_topology(t, "sysfs");
    ASSERT_TRUE(one_die) << one_die.error().message;
    for (const Cpu& c : one_die->cpus) EXPECT_FALSE(c.die) << "CPU " << c.id;
    EXPECT_TRUE(one_die->groups(Level::die).empty());

    t.cpus[1].die = 1;  // package 0 holds two dies; package 1 still one
    auto two_dies = checked_topology(t, "sysfs");
    ASSERT_TRUE(two_dies) << two_dies.error().message;
    EXPECT_EQ(two_dies->cpu(0)->die, 0);
    EXPECT_EQ(two_dies->cpu(1)->die, 1);
    EXPECT_FALSE(two_dies->cpu(2)->die);
    EXPECT_FALSE(two_dies->cpu(3)->die);
    EXPECT_EQ(two_dies->groups(Level::die), (std::vector<CpuSet>{CpuSet{0}, CpuSet{1}}));
}

// An offline CPU whose node the kernel no longer shows (node -1) belongs to no node:
// it once made `calc all --nodes` print a node 63 (bit -1 of a word).
TEST(CheckedTopology, OfflineCpuOfUnknownNodeIsInNoNode) {
    auto t = topology_from_json(R"({"cpus": [{"id": 0, "online": true, "node": 0, "core": 0, "package": 0},
                                             {"id": 1, "online": false, "node": -1, "core": -1, "package": -1}],
        "nodes": [{"id": 0, "cpus": [0], "memory_total_bytes": 1, "memory_free_bytes": 1, "distances": {"0": 10}}]})",
                                "h.json");
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->nodes_of(t->all_cpus()), (NodeSet{0}));
}

TEST(HwlocHost, SizesFollowAffinesRule) {
    // hwloc alone reads 64GB as 64 * 10^9 and refuses 64G; affine reads both, one rule.
    auto decimal = hwloc_topology("numa:1(memory=64GB) core:1 pu:1");
    ASSERT_TRUE(decimal) << decimal.error().message;
    EXPECT_EQ(decimal->nodes[0].memory_total_bytes, 64'000'000'000ULL);
    auto binary = hwloc_topology("numa:1(memory=64G) core:1 pu:1");
    ASSERT_TRUE(binary) << binary.error().message;
    EXPECT_EQ(binary->nodes[0].memory_total_bytes, 64ULL << 30);
    auto spec = synthetic_topology("nodes=1,cores=1,mem=64GB");
    ASSERT_TRUE(spec);
    EXPECT_EQ(spec->nodes[0].memory_total_bytes, decimal->nodes[0].memory_total_bytes);
    auto bad = hwloc_topology("numa:1(memory=64GiBs) core:1 pu:1");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, ErrorKind::usage);
}

TEST(HwlocHost, CachesAndDies) {
    auto t = hwloc_topology("pack:2 die:2 l3:1 numa:1 core:2 pu:2");
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->groups(Level::die).size(), 4U);
    EXPECT_EQ(t->groups(Level::l3).size(), 4U);
    EXPECT_EQ(t->groups(Level::l3)[1], CpuSet::range(4, 7));
    EXPECT_EQ(t->cpu(5)->l3, 1);
    EXPECT_EQ(t->groups(Level::core).size(), 8U);
}

TEST(HwlocHost, SyntheticDescription) {
    auto t = hwloc_topology("pack:2 numa:1(memory=1GB) core:2 pu:2");
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->nodes.size(), 2U);
    EXPECT_EQ(t->cpus.size(), 8U);
    EXPECT_EQ(t->nodes[1].cpus, CpuSet::range(4, 7));
    EXPECT_EQ(t->nodes[0].memory_total_bytes, 1000000000ULL);
    EXPECT_EQ(t->cores_of(1).size(), 2U);
    EXPECT_EQ(t->cpu(5)->package, 1);
    EXPECT_FALSE(hwloc_topology("nonsense:3"));
}

TEST(LoadHost, PicksTheSource) {
    EXPECT_TRUE(load_host("nodes=2,cores=1"));
    auto missing = load_host("/nonexistent/host.json");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().kind, ErrorKind::usage);
}

}  // namespace
}  // namespace affine
