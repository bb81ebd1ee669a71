#include <gtest/gtest.h>

#include "affine/host.hpp"
#include "affine/numad_compat.hpp"

namespace affine {
namespace {

constexpr std::uint64_t MiB = std::uint64_t{1} << 20;

Result<NumadInvocation> parse(std::vector<std::string> args) { return parse_numad_arguments(args); }

TEST(NumadArguments, AdviceAsLibvirtAsksIt) {
    auto inv = parse({"-w", "1:64"});
    ASSERT_TRUE(inv) << inv.error().message;
    EXPECT_EQ(inv->action, NumadAction::advice);
    EXPECT_EQ(inv->advice.cpu_hundredths, 100U);
    EXPECT_EQ(inv->advice.memory_mib, 64U);
}

TEST(NumadArguments, ValueAttachedOrNextWordAsGetopt) {
    auto attached = parse({"-w2:512"});
    ASSERT_TRUE(attached);
    EXPECT_EQ(attached->advice.cpu_hundredths, 200U);
    EXPECT_EQ(attached->advice.memory_mib, 512U);
    auto grouped = parse({"-dw", "4"});  // a flag and -w in one word, as getopt allows
    ASSERT_TRUE(grouped) << grouped.error().message;
    EXPECT_EQ(grouped->advice.cpu_hundredths, 400U);
    EXPECT_EQ(grouped->advice.memory_mib, 0U);
}

TEST(NumadArguments, FractionalCpusRoundUpPastHundredths) {
    EXPECT_EQ(parse({"-w", "1.5"})->advice.cpu_hundredths, 150U);
    EXPECT_EQ(parse({"-w", "0.25:10"})->advice.cpu_hundredths, 25U);
    EXPECT_EQ(parse({"-w", "1.001"})->advice.cpu_hundredths, 101U);
    EXPECT_EQ(parse({"-w", "1.000"})->advice.cpu_hundredths, 100U);
}

TEST(NumadArguments, ReservedCpusAndLogOptionsWithAdvice) {
    auto inv = parse({"-R", "0-1", "-l", "7", "-v", "-w", "2:512"});
    ASSERT_TRUE(inv) << inv.error().message;
    EXPECT_EQ(inv->reserved_cpus, "0-1");
    EXPECT_EQ(inv->advice.memory_mib, 512U);
}

TEST(NumadArguments, MalformedAdviceIsAUsageError) {
    for (const char* bad : {"", "x", "2:", ":512", "2:512x", "-1", "1.", "1.5.2", "2:-5", "2:1.5", "99999999999"}) {
        auto inv = parse({"-w", bad});
        ASSERT_FALSE(inv) << bad;
        EXPECT_EQ(inv.error().kind, ErrorKind::usage);
        EXPECT_NE(inv.error().message.find("NCPUS[:MB]"), std::string::npos) << inv.error().message;
    }
    auto missing = parse({"-w"});
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("needs a value"), std::string::npos);
}

TEST(NumadArguments, DaemonOptionsAreRefusedWithTheAffineEquivalent) {
    struct Case {
        std::vector<std::string> args;
        std::string says;
    };
    std::vector<Case> cases = {
        {{}, "affine daemon"},
        {{"-d"}, "affine daemon"},
        {{"-i", "15"}, "interval"},
        {{"-i", "0"}, "systemctl stop affine"},
        {{"-p", "1234"}, "[[rule]]"},
        {{"-x", "1234"}, "exclude_comm"},
        {{"-r", "1234"}, "affine daemon reload"},
        {{"-S", "0"}, "numad-like rule"},
        {{"-u", "85"}, "reserved_cpus"},
        {{"-m", "90"}, "memory"},
        {{"-t", "20"}, "--cores"},
        {{"-H", "100"}, "scan_sleep_millisecs"},
        {{"-C", "0"}, "inactive file cache"},
        {{"-K", "1"}, "interleaved"},
        // refused even with -w: nothing half-done
        {{"-w", "2:512", "-p", "1234"}, "[[rule]]"},
    };
    for (const Case& c : cases) {
        auto inv = parse(c.args);
        ASSERT_FALSE(inv) << testing::PrintToString(c.args);
        EXPECT_EQ(inv.error().kind, ErrorKind::usage);
        EXPECT_NE(inv.error().message.find(c.says), std::string::npos) << inv.error().message;
        EXPECT_EQ(inv.error().message.find('\n'), std::string::npos) << "one line: " << inv.error().message;
    }
}

TEST(NumadArguments, UnknownOptionsAndWordsAreUsageErrors) {
    EXPECT_FALSE(parse({"-z"}));
    EXPECT_FALSE(parse({"-w", "2", "extra"}));
    EXPECT_FALSE(parse({"--long"}));
    EXPECT_EQ(parse({"-h"})->action, NumadAction::help);
    EXPECT_EQ(parse({"-V"})->action, NumadAction::version);
    EXPECT_EQ(parse({"-w", "2", "-h"})->action, NumadAction::help);
}

TEST(NumadRequest, AsThePlannerSeesIt) {
    PlacementRequest r = numad_placement_request({150, 512});
    EXPECT_EQ(r.vcpus, 2);
    EXPECT_EQ(r.memory_bytes, 512 * MiB);
    EXPECT_EQ(r.policy, PlacementPolicy::best_effort);

    PlacementRequest no_memory = numad_placement_request({200, 0});
    EXPECT_EQ(no_memory.vcpus, 2);
    EXPECT_EQ(no_memory.memory_bytes, 4096U);

    PlacementRequest memory_only = numad_placement_request({0, 1024});
    EXPECT_EQ(memory_only.vcpus, 1);
    EXPECT_EQ(memory_only.policy, PlacementPolicy::prio_mem_only);
}

// 4 nodes of 2 CPUs and 1 GiB; node 1 has the most free memory.
Topology four_nodes() {
    auto t = synthetic_topology("nodes=4,cores=2,mem=1G,dist=21");
    EXPECT_TRUE(t);
    for (Node& n : t->nodes) n.memory_free_bytes = (n.id == 1 ? 900 : 600) * MiB;
    return *t;
}

TEST(NumadAdvice, OneNodeWhenItFits) {
    PlacementHost host = make_placement_host(four_nodes());
    auto plan = plan_placement(host, numad_placement_request({200, 512}));
    ASSERT_TRUE(plan);
    EXPECT_EQ(numad_node_list(*plan, host.topology), "1");
}

TEST(NumadAdvice, MeasuredLoadMovesTheAnswer) {
    PlacementHost host = make_placement_host(four_nodes());
    host.vcpus_per_node[1] = 2;  // node 1 busy
    auto plan = plan_placement(host, numad_placement_request({200, 512}));
    ASSERT_TRUE(plan);
    EXPECT_NE(numad_node_list(*plan, host.topology), "1");
}

TEST(NumadAdvice, SeveralNodesInListSyntax) {
    PlacementHost host = make_placement_host(four_nodes());
    auto plan = plan_placement(host, numad_placement_request({400, 1200}));
    ASSERT_TRUE(plan);
    ASSERT_TRUE(plan->fits());
    std::string list = numad_node_list(*plan, host.topology);
    EXPECT_EQ(plan->nodes.count(), 2);
    EXPECT_TRUE(list == "0-1" || list == "1-2" || list == "1,3") << list;
}

TEST(NumadAdvice, EveryNodeWhenNothingFits) {
    PlacementHost host = make_placement_host(four_nodes());
    auto plan = plan_placement(host, numad_placement_request({200, 64 * 1024}));
    ASSERT_TRUE(plan);
    EXPECT_FALSE(plan->fits());
    EXPECT_EQ(numad_node_list(*plan, host.topology), "0-3");
}

}  // namespace
}  // namespace affine
