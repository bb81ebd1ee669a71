// The xl configuration reader (xl's syntax, the domain settings affine plans with)
// and the translation of a plan into `xl create` overrides.
#include <gtest/gtest.h>

#include "affine/host.hpp"
#include "affine/xl_config.hpp"

namespace affine {
namespace {

XlConfig parse_ok(std::string_view text) {
    auto c = parse_xl_config(text, "t.cfg");
    EXPECT_TRUE(c) << (c ? "" : c.error().message);
    return c ? *c : XlConfig{};
}

std::string parse_error(std::string_view text) {
    auto c = parse_xl_config(text, "t.cfg");
    EXPECT_FALSE(c);
    return c ? "" : c.error().message;
}

TEST(XlConfigSyntax, StringsNumbersListsAndComments) {
    XlConfig c = parse_ok(
        "# a guest\n"
        "name = \"web1\"   # trailing comment\n"
        "memory=128\n"
        "kernel = '/boot/vmlinuz'\n"
        "cpus = [\"2\", \"3\",\n"
        "        # a comment inside a list\n"
        "        \"5\", ]\n"
        "vcpus = 0x3; maxvcpus = 010\n"
        "empty = []\n");
    EXPECT_EQ(c.find("name")->atom, "web1");
    EXPECT_TRUE(c.find("name")->quoted);
    EXPECT_EQ(c.find("memory")->atom, "128");
    EXPECT_FALSE(c.find("memory")->quoted);
    EXPECT_EQ(c.find("kernel")->atom, "/boot/vmlinuz");
    ASSERT_TRUE(c.find("cpus")->is_list);
    EXPECT_EQ(c.find("cpus")->items, (std::vector<std::string>{"2", "3", "5"}));
    EXPECT_EQ(c.find("cpus")->line, 5);
    EXPECT_TRUE(c.find("empty")->is_list);
    EXPECT_TRUE(c.find("empty")->items.empty());
    XlDomain d = *xl_domain_from_config(c);
    EXPECT_EQ(d.vcpus, 3);      // 0x3, as strtol base 0
    EXPECT_EQ(d.max_vcpus, 8);  // 010 is octal
}

TEST(XlConfigSyntax, EscapesInStrings) {
    XlConfig c = parse_ok(R"(extra = "a\"b\\c\tz\x41\101")");
    EXPECT_EQ(c.find("extra")->atom, "a\"b\\c\tzAA");
}

TEST(XlConfigSyntax, LaterSettingsReplaceAndPlusEqualsAppends) {
    XlConfig c = parse_ok("memory = 64\nmemory = 256\nextra = \"a\"\nextra += \" b\"\ndisk = [\"x\"]\ndisk += [\"y\"]\n");
    EXPECT_EQ(c.find("memory")->atom, "256");
    EXPECT_EQ(c.find("memory")->line, 2);
    EXPECT_EQ(c.find("extra")->atom, "a b");
    EXPECT_EQ(c.find("disk")->items, (std::vector<std::string>{"x", "y"}));
}

TEST(XlConfigSyntax, ErrorsSayWhereAndWhatWasExpected) {
    EXPECT_EQ(parse_error("name = \"a\"\nmemory 128\n"), "t.cfg:2: expected '=' after memory, found '1'");
    EXPECT_EQ(parse_error("name = \"a\n"), "t.cfg:1: unterminated string");
    EXPECT_EQ(parse_error("cpus = [\"1\" \"2\"]"), "t.cfg:1: expected ',' or ']' in a list, found '\"'");
    EXPECT_EQ(parse_error("cpus = [\"1\","), "t.cfg:1: expected a value (a \"string\", a number or a [list]), found the end of the file");
    EXPECT_EQ(parse_error("memory = 1 2"), "t.cfg:1: expected the end of the setting memory (a newline or ';'), found '2'");
    EXPECT_EQ(parse_error("= 3"), "t.cfg:1: expected a setting KEY = VALUE, found '='");
    EXPECT_EQ(parse_error("x = foo"), "t.cfg:1: expected a value (a \"string\", a number or a [list]), found 'f'");
    EXPECT_EQ(parse_error("x = \"\\q\""), "t.cfg:1: unknown escape \\q in a string");
}

TEST(XlConfigOverrides, AppliedAfterTheFileAsXlTakesThem) {
    XlConfig c = parse_ok("name = \"a\"\nmemory = 128\ncpus_soft = \"2-3\"\n");
    ASSERT_TRUE(apply_xl_overrides(c, {"memory=256", "cpus_soft=\"0-1\"", "cpus=[\"2\",\"3\"]"}));
    XlDomain d = *xl_domain_from_config(c);
    EXPECT_EQ(d.memory_mib, 256U);
    EXPECT_EQ(d.cpus_soft, (XlCpuSpec{false, {"0-1"}}));
    EXPECT_EQ(d.cpus, (XlCpuSpec{true, {"2", "3"}}));
    auto bad = apply_xl_overrides(c, {"memory"});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, ErrorKind::usage);
    EXPECT_EQ(bad.error().message, "override \"memory\": expected KEY=VALUE, as xl takes it");
    bad = apply_xl_overrides(c, {"cpus=2-3"});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "override \"cpus=2-3\":1: expected the end of the setting cpus (a newline or ';'), found '-'");
}

TEST(XlDomainSettings, DefaultsAreLibxls) {
    XlDomain d = *xl_domain_from_config(parse_ok("name = \"a\""));
    EXPECT_EQ(d.name, "a");
    EXPECT_EQ(d.memory_mib, 32U);
    EXPECT_EQ(d.maxmem_mib, 32U);
    EXPECT_EQ(d.vcpus, 1);
    EXPECT_EQ(d.max_vcpus, 1);
    EXPECT_FALSE(d.cpus);
    EXPECT_FALSE(d.cpus_soft);
    EXPECT_EQ(d.cpupool, "");
}

TEST(XlDomainSettings, AllTheKeysAffinePlansWith) {
    XlDomain d = *xl_domain_from_config(parse_ok(
        "name='db'\ntype=\"pv\"\nmemory=\"512\"\nmaxmem=1024\nvcpus=2\nmaxvcpus=4\ncpus=\"all,^0\"\n"
        "cpus_soft=\"node:1\"\ncpupool=\"Pool-0\"\n"));
    EXPECT_EQ(d.name, "db");
    EXPECT_EQ(d.type, "pv");
    EXPECT_EQ(d.memory_mib, 512U);  // a quoted number is read as xl reads it
    EXPECT_EQ(d.maxmem_mib, 1024U);
    EXPECT_EQ(d.vcpus, 2);
    EXPECT_EQ(d.max_vcpus, 4);
    EXPECT_EQ(d.cpus, (XlCpuSpec{false, {"all,^0"}}));
    EXPECT_EQ(d.cpus_soft, (XlCpuSpec{false, {"node:1"}}));
    EXPECT_EQ(d.cpupool, "Pool-0");
}

TEST(XlDomainSettings, WrongValuesAreRefusedWithTheirLine) {
    auto err = [](std::string_view text) {
        auto c = parse_xl_config(text, "t.cfg");
        EXPECT_TRUE(c);
        auto d = xl_domain_from_config(*c);
        EXPECT_FALSE(d);
        EXPECT_EQ(d.error().kind, ErrorKind::usage);
        return d.error().message;
    };
    EXPECT_EQ(err("memory = 128"), "t.cfg: no name: xl needs `name = \"...\"`");
    EXPECT_EQ(err("name=\"a\"\nmemory = [\"1\"]"), "t.cfg:2: memory is a list: expected a number");
    EXPECT_EQ(err("name=\"a\"\nmemory = \"lots\""), "t.cfg:2: memory \"lots\" is not one: expected a number");
    EXPECT_EQ(err("name=\"a\"\nmemory = 0"), "t.cfg:2: memory = 0: expected 1 to 1099511627776");
    EXPECT_EQ(err("name=\"a\"\nvcpus = 0"), "t.cfg:2: vcpus = 0: expected 1 to 4096");
    EXPECT_EQ(err("name=\"a\"\nmemory=256\nmaxmem=128"), "t.cfg:3: maxmem = 128 is below memory = 256");
    EXPECT_EQ(err("name=\"a\"\nvcpus=4\nmaxvcpus=2"), "t.cfg:3: maxvcpus = 2 is below vcpus = 4");
    EXPECT_EQ(err("name=[\"a\"]"), "t.cfg:1: name is a list: expected a string");
}

// 2 nodes x 2 CPUs: node 0 CPUs 0-1, node 1 CPUs 2-3.
Topology two_nodes() { return *synthetic_topology("nodes=2,cores=2,mem=1G"); }

TEST(XlCpus, XlFormsOfCpuSets) {
    Topology t = two_nodes();
    auto one = [&](std::string_view text) { return (*resolve_xl_cpus({false, {std::string(text)}}, 1, t, "cpus"))[0]; };
    EXPECT_EQ(one("2-3"), (CpuSet{2, 3}));
    EXPECT_EQ(one("node:1"), (CpuSet{2, 3}));
    EXPECT_EQ(one("nodes:0-1"), (CpuSet{0, 1, 2, 3}));
    EXPECT_EQ(one("all,^0"), (CpuSet{1, 2, 3}));
    EXPECT_EQ(one("3"), (CpuSet{3}));
}

TEST(XlCpus, AListGivesOneMaskPerVcpuAndTheRestEveryCpu) {
    Topology t = two_nodes();
    auto masks = resolve_xl_cpus({true, {"2", "3"}}, 3, t, "cpus");
    ASSERT_TRUE(masks);
    EXPECT_EQ(*masks, (std::vector<CpuSet>{CpuSet{2}, CpuSet{3}, CpuSet{0, 1, 2, 3}}));
    // A string applies to every vCPU.
    masks = resolve_xl_cpus({false, {"node:0"}}, 2, t, "cpus");
    EXPECT_EQ(*masks, (std::vector<CpuSet>{CpuSet{0, 1}, CpuSet{0, 1}}));
}

TEST(XlCpus, ABadSetNamesTheKeyAndTheVcpu) {
    Topology t = two_nodes();
    auto bad = resolve_xl_cpus({true, {"2", "9"}}, 2, t, "cpus");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, ErrorKind::usage);
    EXPECT_TRUE(bad.error().message.starts_with("cpus (vCPU 1) \"9\": ")) << bad.error().message;
    bad = resolve_xl_cpus({false, {"node:7"}}, 1, t, "cpus_soft");
    ASSERT_FALSE(bad);
    EXPECT_TRUE(bad.error().message.starts_with("cpus_soft \"node:7\": ")) << bad.error().message;
}

Plan placed(PlacementPolicy policy, CpuSet cpus, CpuSet hard = {}) {
    Plan p;
    p.outcome = PlanOutcome::placed;
    p.policy = policy;
    p.cpus = cpus;
    if (policy == PlacementPolicy::best_effort) {
        p.affinity = AffinityKind::soft;
        p.soft_cpus = cpus;
        p.hard_cpus = hard;
    } else if (policy == PlacementPolicy::best_effort_hard) {
        p.affinity = AffinityKind::hard;
        p.hard_cpus = cpus;
    } else {
        p.hard_cpus = hard;
    }
    return p;
}

std::vector<std::string> overrides(const Plan& plan, const XlDomain& d = {}) {
    auto o = xl_placement_overrides(plan, d);
    EXPECT_TRUE(o) << (o ? "" : o.error().message);
    return o ? *o : std::vector<std::string>{};
}

TEST(XlTranslation, BestEffortIsSoftAffinity) {
    EXPECT_EQ(overrides(placed(PlacementPolicy::best_effort, {2, 3})), (std::vector<std::string>{"cpus_soft=\"2-3\""}));
    // Reserved CPUs: the hard mask keeps the domain off them.
    EXPECT_EQ(overrides(placed(PlacementPolicy::best_effort, {2, 3}, {1, 2, 3})),
              (std::vector<std::string>{"cpus=\"1-3\"", "cpus_soft=\"2-3\""}));
}

TEST(XlTranslation, BestEffortHardSetsSoftTooSoLibxlDoesNotPlaceItself) {
    EXPECT_EQ(overrides(placed(PlacementPolicy::best_effort_hard, {0, 1})),
              (std::vector<std::string>{"cpus=\"0-1\"", "cpus_soft=\"0-1\""}));
}

TEST(XlTranslation, AnyStopsLibxlPlacement) {
    EXPECT_EQ(overrides(placed(PlacementPolicy::any, {0, 1, 2, 3})), (std::vector<std::string>{"cpus_soft=\"all\""}));
    EXPECT_EQ(overrides(placed(PlacementPolicy::any, {0, 1, 2, 3}, {1, 2, 3})),
              (std::vector<std::string>{"cpus=\"1-3\"", "cpus_soft=\"all\""}));
}

TEST(XlTranslation, AUsersPerVcpuHardListIsKept) {
    XlDomain d;
    d.cpus = XlCpuSpec{true, {"2", "3"}};
    EXPECT_EQ(overrides(placed(PlacementPolicy::best_effort_hard, {2, 3}), d),
              (std::vector<std::string>{"cpus_soft=\"2-3\""}));
    EXPECT_EQ(overrides(placed(PlacementPolicy::best_effort, {2, 3}, {1, 2, 3}), d),
              (std::vector<std::string>{"cpus_soft=\"2-3\""}));
}

TEST(XlTranslation, RefusedPlansAndPrioMemOnly) {
    Plan p = placed(PlacementPolicy::best_effort, {2, 3});
    p.outcome = PlanOutcome::fallback;
    EXPECT_FALSE(xl_placement_overrides(p, {}));
    auto r = xl_placement_overrides(placed(PlacementPolicy::prio_mem_only, {0, 1}), {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::usage);
}

TEST(XlTranslation, QuotingAsXlReadsIt) {
    EXPECT_EQ(xl_quote("2-3"), "\"2-3\"");
    EXPECT_EQ(xl_quote("a\"b\\"), "\"a\\\"b\\\\\"");
    // What affine quotes, xl's syntax reads back.
    XlConfig c = parse_ok("x = " + xl_quote("a\"b\\"));
    EXPECT_EQ(c.find("x")->atom, "a\"b\\");
}

}  // namespace
}  // namespace affine
