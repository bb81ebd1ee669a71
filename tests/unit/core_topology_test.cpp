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
              "host file h.json: CPU 0: its node 1 is not in \"nodes\"");
    EXPECT_EQ(err(R"({"cpus": [{"id": 0, "online": true, "node": 0, "core": 0, "package": 0}],
                      "nodes": [{"id": 0, "cpus": [0, 1], "memory_total_bytes": 1, "memory_free_bytes": 1, "distances": {}}]})"),
              "host file h.json: node 0.cpus: lists CPU 1, which is not one of its CPUs in \"cpus\"");
    EXPECT_EQ(err(R"({"cpus": [{"id": 0, "node": 0, "core": 0, "package": 0}], "nodes": []})"),
              "host file h.json: cpus[0]: missing boolean \"online\"");
    EXPECT_EQ(err(R"({"cpus": [], "nodes": [{"id": 0, "cpus": [], "memory_total_bytes": 1, "memory_free_bytes": 2, "distances": {}}]})"),
              "host file h.json: nodes[0]: memory_free_bytes exceeds memory_total_bytes");
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
