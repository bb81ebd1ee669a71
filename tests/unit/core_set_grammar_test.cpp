#include <gtest/gtest.h>

#include <random>

#include "affine/host.hpp"
#include "affine/set_grammar.hpp"

namespace affine {
namespace {

// 4 nodes x 2 cores x 2 threads = CPUs 0-15, node n has CPUs 4n..4n+3.
Topology host() { return *synthetic_topology("nodes=4,cores=2,smt=2,mem=1G"); }

CpuSet cpus(std::string_view text) {
    auto r = parse_cpu_set(text, host());
    EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error().message);
    return r.value_or(CpuSet{});
}

std::string error_of(std::string_view text) {
    auto r = parse_cpu_set(text, host());
    EXPECT_FALSE(r.has_value()) << text << " parsed";
    if (r) return "";
    EXPECT_EQ(r.error().kind, ErrorKind::usage);
    return r.error().message;
}

TEST(SetGrammar, EveryForm) {
    EXPECT_EQ(cpus("3"), (CpuSet{3}));
    EXPECT_EQ(cpus("0-3"), (CpuSet{0, 1, 2, 3}));
    EXPECT_EQ(cpus("0-15:4"), (CpuSet{0, 4, 8, 12}));
    EXPECT_EQ(cpus("all"), CpuSet::range(0, 15));
    EXPECT_EQ(cpus("node:1"), (CpuSet{4, 5, 6, 7}));
    EXPECT_EQ(cpus("nodes:2-3"), CpuSet::range(8, 15));
    EXPECT_EQ(cpus("nodes:0-3:2"), (CpuSet{0, 1, 2, 3, 8, 9, 10, 11}));
    EXPECT_EQ(cpus("all,^0"), CpuSet::range(1, 15));
    EXPECT_EQ(cpus("nodes:0-3,^node:2"), CpuSet::range(0, 7) | CpuSet::range(12, 15));
    EXPECT_EQ(cpus("0-7,^2-5,3"), (CpuSet{0, 1, 3, 6, 7}));
    EXPECT_EQ(cpus("0x3"), (CpuSet{0, 1}));
    EXPECT_EQ(cpus("0xF0"), (CpuSet{4, 5, 6, 7}));
    EXPECT_EQ(cpus("0x0000,0000ff00"), CpuSet::range(8, 15));
}

TEST(SetGrammar, LeftToRight) {
    EXPECT_EQ(cpus("0-3,^1,1"), (CpuSet{0, 1, 2, 3}));
    EXPECT_EQ(cpus("0-3,1,^1"), (CpuSet{0, 2, 3}));
}

TEST(SetGrammar, NodeSets) {
    Topology t = host();
    EXPECT_EQ(*parse_node_set("1,3", t), (NodeSet{1, 3}));
    EXPECT_EQ(*parse_node_set("all,^node:0", t), (NodeSet{1, 2, 3}));
    EXPECT_EQ(*parse_node_set("nodes:0-2", t), (NodeSet{0, 1, 2}));
    EXPECT_EQ(*parse_node_set("0xa", t), (NodeSet{1, 3}));
    auto bad = parse_node_set("4", t);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "bad node list \"4\": node 4 at column 1 does not exist (nodes: 0-3)");
}

TEST(SetGrammar, ErrorsNameTheColumn) {
    EXPECT_EQ(error_of("0-3,x"), "bad CPU list \"0-3,x\": expected a number, a range, \"all\", "
                                 "or node:N, core:N, socket:N, die:N, l3:N, pu:N, numa:N at column 5");
    EXPECT_EQ(error_of(""), "bad CPU list \"\": it is empty");
    EXPECT_EQ(error_of("5-2"), "bad CPU list \"5-2\": range 5-2 at column 1 runs backwards");
    EXPECT_EQ(error_of("0-"), "bad CPU list \"0-\": expected a number at column 3");
    EXPECT_EQ(error_of("1,,2"), "bad CPU list \"1,,2\": expected a number, a range, \"all\", "
                                "or node:N, core:N, socket:N, die:N, l3:N, pu:N, numa:N at column 3");
    EXPECT_EQ(error_of("x"), "bad CPU list \"x\": expected a number, a range, \"all\", "
                             "or node:N, core:N, socket:N, die:N, l3:N, pu:N, numa:N at column 1");
    EXPECT_EQ(error_of("0x"), "bad CPU list \"0x\": expected a hex digit at column 3");
    EXPECT_EQ(error_of("0-8:0"), "bad CPU list \"0-8:0\": stride 0 at column 5 (use 1 or more)");
    EXPECT_EQ(error_of("^"), "bad CPU list \"^\": expected a number, a range, \"all\", "
                             "or node:N, core:N, socket:N, die:N, l3:N, pu:N, numa:N at column 2");
    EXPECT_EQ(error_of("0,^"), "bad CPU list \"0,^\": expected a number, a range, \"all\", "
                               "or node:N, core:N, socket:N, die:N, l3:N, pu:N, numa:N at column 4");
    EXPECT_EQ(error_of("^3"), "bad CPU list \"^3\": \"^\" at column 1 removes from nothing; "
                              "start with a set, e.g. all,^3");
    EXPECT_EQ(error_of("0,^0"), "bad CPU list \"0,^0\": the set is empty");
    EXPECT_EQ(error_of("16"), "bad CPU list \"16\": CPU 16 at column 1 does not exist (CPUs: 0-15)");
    EXPECT_EQ(error_of("0-3,14-17"), "bad CPU list \"0-3,14-17\": CPU 16 at column 5 does not exist (CPUs: 0-15)");
    EXPECT_EQ(error_of("99999999999999999999"),
              "bad CPU list \"99999999999999999999\": number 99999999999999999999 at column 1 is too large "
              "(at most 1048575)");
    EXPECT_EQ(error_of("node:7"), "bad CPU list \"node:7\": node 7 at column 6 does not exist (nodes: 0-3)");
    EXPECT_EQ(error_of("0x10000"), "bad CPU list \"0x10000\": bit 16 names CPU 16, which does not exist (CPUs: 0-15)");
    EXPECT_EQ(error_of("0x0"), "bad CPU list \"0x0\": the mask is zero (it names no CPU)");
    EXPECT_EQ(error_of("0xg"), "bad CPU list \"0xg\": expected a hex digit at column 3");
    EXPECT_EQ(error_of("0xff,ff"), "bad CPU list \"0xff,ff\": expected 8 hex digits in the last group, at column 6");
    EXPECT_EQ(error_of("1 2"), "bad CPU list \"1 2\": expected \",\" or the end at column 2");
}

// Location terms index hwloc's logical order. On this synthetic host (4 nodes of 2
// cores x 2 threads, one socket per node, one L3 per node) that is CPU order.
TEST(SetGrammar, LocationTerms) {
    EXPECT_EQ(cpus("core:0"), (CpuSet{0, 1}));
    EXPECT_EQ(cpus("core:1-2"), (CpuSet{2, 3, 4, 5}));
    EXPECT_EQ(cpus("cores:0-7:4"), (CpuSet{0, 1, 8, 9}));
    EXPECT_EQ(cpus("socket:1"), CpuSet::range(4, 7));
    EXPECT_EQ(cpus("package:1"), CpuSet::range(4, 7));
    EXPECT_EQ(cpus("sockets:2-3"), CpuSet::range(8, 15));
    EXPECT_EQ(cpus("l3:3"), CpuSet::range(12, 15));
    EXPECT_EQ(cpus("socket:0,^core:1"), (CpuSet{0, 1}));
    EXPECT_EQ(cpus("all,^l3:0-2"), CpuSet::range(12, 15));
    EXPECT_EQ(error_of("core:8"), "bad CPU list \"core:8\": core 8 at column 6 does not exist (cores: 0-7)");
    EXPECT_EQ(error_of("socket:0-4"),
              "bad CPU list \"socket:0-4\": socket 4 at column 8 does not exist (sockets: 0-3)");
    EXPECT_EQ(error_of("die:0"),
              "bad CPU list \"die:0\": die 0 at column 5 does not exist (this host shows no dies (one per "
              "package, or none))");
    auto nodes = parse_node_set("socket:1,core:5", host());
    ASSERT_TRUE(nodes) << nodes.error().message;
    EXPECT_EQ(*nodes, (NodeSet{1, 2}));
}

// CPU ids that alternate between packages, SMT siblings numbered last (as on many
// two-socket servers): core:1 is the second core of the first package, as hwloc-calc
// has it, not the core of CPU 1.
TEST(SetGrammar, LocationTermsFollowTopologyOrder) {
    Topology t;
    for (int id = 0; id < 8; ++id) {
        int package = id % 2;
        int core = id % 4;  // CPU 4+k is the SMT sibling of CPU k
        t.cpus.push_back(Cpu{.id = id, .online = true, .core = core, .package = package, .die = 0,
                             .node = package, .l3 = package});
    }
    t.nodes = {Node{.id = 0, .cpus = {0, 2, 4, 6}, .memory_total_bytes = 1 << 30, .distances = {{0, 10}, {1, 21}}, .access = {}, .memory_side_caches = {}},
               Node{.id = 1, .cpus = {1, 3, 5, 7}, .memory_total_bytes = 1 << 30, .distances = {{0, 21}, {1, 10}}, .access = {}, .memory_side_caches = {}}};
    auto checked = checked_topology(t, "test");
    ASSERT_TRUE(checked) << checked.error().message;
    auto set = [&](std::string_view text) { return parse_cpu_set(text, *checked).value_or(CpuSet{}); };
    EXPECT_EQ(set("core:0"), (CpuSet{0, 4}));
    EXPECT_EQ(set("core:1"), (CpuSet{2, 6}));
    EXPECT_EQ(set("core:2"), (CpuSet{1, 5}));
    EXPECT_EQ(set("socket:1"), (CpuSet{1, 3, 5, 7}));
    EXPECT_EQ(set("l3:0"), (CpuSet{0, 2, 4, 6}));
    // hwloc's pu:N and numa:N: PUs core by core in that order, nodes by their first PU.
    EXPECT_EQ(set("pu:0"), CpuSet{0});
    EXPECT_EQ(set("pu:1"), CpuSet{4});
    EXPECT_EQ(set("pu:2"), CpuSet{2});
    EXPECT_EQ(set("pus:4-5"), (CpuSet{1, 5}));
    EXPECT_EQ(set("numa:1"), (CpuSet{1, 3, 5, 7}));
    EXPECT_EQ(set("all,^numa:0"), (CpuSet{1, 3, 5, 7}));
    auto nodes = parse_node_set("pu:4", *checked);
    ASSERT_TRUE(nodes) << nodes.error().message;
    EXPECT_EQ(*nodes, NodeSet{1});
    auto missing = parse_cpu_set("numa:2", *checked);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, "bad CPU list \"numa:2\": numa 2 at column 6 does not exist (NUMA nodes with memory: 0-1)");
}

TEST(SetGrammar, ClassicMask) {
    EXPECT_EQ(*parse_cpu_mask("1"), (CpuSet{0}));
    EXPECT_EQ(*parse_cpu_mask("3"), (CpuSet{0, 1}));
    EXPECT_EQ(*parse_cpu_mask("2147483648"), (CpuSet{31}));
    EXPECT_EQ(*parse_cpu_mask("4294967295"), CpuSet::range(0, 31));
    EXPECT_EQ(*parse_cpu_mask("0x80000000,00000000"), (CpuSet{63}));
    EXPECT_EQ(*parse_cpu_mask("0"), CpuSet{});
    EXPECT_FALSE(parse_cpu_mask("3x"));
    EXPECT_FALSE(parse_cpu_mask("-1"));
    EXPECT_FALSE(parse_cpu_mask("18446744073709551616"));
    EXPECT_FALSE(parse_cpu_mask(""));
}

TEST(SetGrammar, KernelLists) {
    EXPECT_EQ(*parse_id_list("0-3,8-11\n"), CpuSet::range(0, 3) | CpuSet::range(8, 11));
    EXPECT_EQ(*parse_id_list("\n"), CpuSet{});
    EXPECT_EQ(*parse_id_list(""), CpuSet{});
    EXPECT_FALSE(parse_id_list("0-3,a"));
}

TEST(SetFormat, Forms) {
    CpuSet s = CpuSet::range(0, 3) | CpuSet::range(8, 11) | CpuSet{13};
    EXPECT_EQ(to_list(s), "0-3,8-11,13");
    EXPECT_EQ(to_list(CpuSet{}), "");
    EXPECT_EQ(to_hex(s), "0x2f0f");
    EXPECT_EQ(to_hex(CpuSet{}), "0x0");
    EXPECT_EQ(to_hex(CpuSet{64}), "0x10000000000000000");
    EXPECT_EQ(to_kernel_mask(CpuSet::range(0, 39)), "ff,ffffffff");
    EXPECT_EQ(to_kernel_mask(CpuSet{0, 1}), "3");
    EXPECT_EQ(to_kernel_mask(CpuSet{0, 1}, 64), "0,00000003");
}

// Property: every set prints in each form and parses back to itself.
TEST(SetFormat, RoundTrips) {
    Topology t = *synthetic_topology("nodes=8,cores=16,smt=2,mem=1G");  // 256 CPUs
    std::mt19937 rng(7);
    for (int round = 0; round < 500; ++round) {
        CpuSet s;
        int n = 1 + static_cast<int>(rng() % 40);
        for (int i = 0; i < n; ++i) s.insert(static_cast<int>(rng() % 256));
        EXPECT_EQ(*parse_cpu_set(to_list(s), t), s);
        EXPECT_EQ(*parse_cpu_set(to_hex(s), t), s);
        EXPECT_EQ(*parse_cpu_set("0x" + to_kernel_mask(s, 256), t), s);
        EXPECT_EQ(*parse_cpu_mask(to_hex(s)), s);
        EXPECT_EQ(*parse_id_list(to_list(s)), s);
    }
}

}  // namespace
}  // namespace affine
