#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "daemon/engine/placement_rules.hpp"
#include "daemon/engine/placement_rules_toml.hpp"

namespace affine {
namespace {

constexpr std::uint64_t MiB = std::uint64_t{1} << 20;

WorkloadFacts qemu() {
    WorkloadFacts w;
    w.pid = 4242;
    w.comm = "qemu-system-x86";
    w.cgroup = "/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope/libvirt/emulator";
    w.uid = 64055;
    w.resident_bytes = 2048 * MiB;
    w.cpus = 1.7;
    return w;
}

PlacementRules vms_rule() {
    PlacementRules rules;
    PlacementRule vms;
    vms.name = "vms";
    vms.match.cgroup = {"/machine.slice"};
    vms.min_memory_bytes = 300 * MiB;
    vms.min_cpu = 0.5;
    rules.rules.push_back(vms);
    return rules;
}

TEST(PlacementRules, OffByDefault) {
    RuleDecision d = decide_placement_rule(PlacementRules{}, qemu());
    EXPECT_EQ(d.verdict, RuleVerdict::unnamed);
    EXPECT_EQ(d.rule, -1);
}

TEST(PlacementRules, CgroupPrefixOnPathComponents) {
    EXPECT_TRUE(cgroup_under("/machine.slice", "/machine.slice"));
    EXPECT_TRUE(cgroup_under("/machine.slice/vm1.scope", "/machine.slice"));
    EXPECT_TRUE(cgroup_under("/machine.slice/vm1.scope", "/machine.slice/"));
    EXPECT_FALSE(cgroup_under("/machine.slice-extra/x", "/machine.slice"));
    EXPECT_FALSE(cgroup_under("/system.slice", "/machine.slice"));
    EXPECT_TRUE(cgroup_under("/anything", "/"));
}

TEST(PlacementRules, EveryGivenKeyMustMatch) {
    PlacementRules rules = vms_rule();
    RuleDecision d = decide_placement_rule(rules, qemu());
    EXPECT_EQ(d.verdict, RuleVerdict::place);
    EXPECT_EQ(d.rule, 0);
    EXPECT_NE(d.reason.find("rule 'vms'"), std::string::npos) << d.reason;

    rules.rules[0].match.comm = {"postgres", "qemu-system-x86"};  // any of the list
    EXPECT_EQ(decide_placement_rule(rules, qemu()).verdict, RuleVerdict::place);
    rules.rules[0].match.uid = {0};  // and the uid must match too
    EXPECT_EQ(decide_placement_rule(rules, qemu()).verdict, RuleVerdict::unnamed);
    WorkloadFacts unknown_uid = qemu();
    unknown_uid.uid.reset();
    EXPECT_EQ(decide_placement_rule(rules, unknown_uid).verdict, RuleVerdict::unnamed);
}

TEST(PlacementRules, CommIsExact) {
    PlacementRules rules;
    PlacementRule r;
    r.name = "db";
    r.match.comm = {"postgres"};
    rules.rules.push_back(r);
    WorkloadFacts w = qemu();
    w.comm = "postgres: writer";
    EXPECT_EQ(decide_placement_rule(rules, w).verdict, RuleVerdict::unnamed);
    w.comm = "postgres";
    EXPECT_EQ(decide_placement_rule(rules, w).verdict, RuleVerdict::place);
}

TEST(PlacementRules, SizeThresholdsAsNumad) {
    PlacementRules rules;
    rules.rules.push_back(numad_like_rule());
    WorkloadFacts w = qemu();
    EXPECT_EQ(decide_placement_rule(rules, w).verdict, RuleVerdict::place);

    w.resident_bytes = 200 * MiB;
    RuleDecision small = decide_placement_rule(rules, w);
    EXPECT_EQ(small.verdict, RuleVerdict::too_small);
    EXPECT_EQ(small.rule, 0);
    EXPECT_NE(small.reason.find("min_memory"), std::string::npos) << small.reason;

    w.resident_bytes = 300 * MiB;
    w.cpus = 0.2;
    EXPECT_EQ(decide_placement_rule(rules, w).verdict, RuleVerdict::too_small);
    w.cpus.reset();  // not measured yet: not placed yet
    EXPECT_NE(decide_placement_rule(rules, w).reason.find("not measured"), std::string::npos);
    w.cpus = 0.5;
    EXPECT_EQ(decide_placement_rule(rules, w).verdict, RuleVerdict::place);
}

TEST(PlacementRules, FirstRuleThatNamesItWinsAndSmallFallsThrough) {
    PlacementRules rules = vms_rule();
    PlacementRule any;
    any.name = "all-qemu";
    any.match.comm = {"qemu-system-x86"};
    any.policy = PlacementPolicy::prio_mem_only;
    rules.rules.push_back(any);

    WorkloadFacts w = qemu();
    EXPECT_EQ(decide_placement_rule(rules, w).rule, 0);
    w.cpus = 0.1;  // too small for "vms": the next rule still names it
    RuleDecision d = decide_placement_rule(rules, w);
    EXPECT_EQ(d.verdict, RuleVerdict::place);
    EXPECT_EQ(d.rule, 1);
}

TEST(PlacementRules, ExclusionsPerRuleAndGlobal) {
    PlacementRules rules = vms_rule();
    rules.rules[0].exclude.comm = {"qemu-system-x86"};
    PlacementRule fallback = numad_like_rule();
    rules.rules.push_back(fallback);
    // Excluded from "vms", named by the next rule.
    EXPECT_EQ(decide_placement_rule(rules, qemu()).rule, 1);

    rules.exclude.uid = {64055};
    RuleDecision d = decide_placement_rule(rules, qemu());
    EXPECT_EQ(d.verdict, RuleVerdict::excluded);
    EXPECT_NE(d.reason.find("uid 64055"), std::string::npos) << d.reason;

    rules.exclude = {};
    rules.exclude.cgroup = {"/machine.slice/"};
    EXPECT_EQ(decide_placement_rule(rules, qemu()).verdict, RuleVerdict::excluded);
}

TEST(PlacementRules, NeverTaken) {
    PlacementRules rules;
    rules.rules.push_back(numad_like_rule());
    WorkloadFacts w = qemu();
    w.pid = 1;
    EXPECT_EQ(decide_placement_rule(rules, w).verdict, RuleVerdict::never_taken);
    w = qemu();
    w.kernel_thread = true;
    EXPECT_EQ(decide_placement_rule(rules, w).verdict, RuleVerdict::never_taken);
    w = qemu();
    w.no_setaffinity = true;
    EXPECT_EQ(decide_placement_rule(rules, w).verdict, RuleVerdict::never_taken);
    w = qemu();
    w.pinned_by_other = true;
    EXPECT_EQ(decide_placement_rule(rules, w).verdict, RuleVerdict::never_taken);
}

TEST(PlacementRulesToml, ReadsTheKeysOfTheConfiguration) {
    auto rules = detail::placement_rules_from_toml_text(R"(
interval = "500ms"
exclude_comm = ["sshd", "systemd-journal"]
exclude_uid = 0

[[rule]]
name = "vms"
cgroup = "/machine.slice/"
min_memory = "300M"
min_cpu = 0.5
policy = "best-effort"
exclude_comm = "qemu-ga"

[[rule]]
name = "databases"
comm = ["postgres", "mysqld"]
uid = [999, 1000]
min_memory = 1048576
min_cpu = 1
policy = "prio-mem-only"
)",
                                                        "daemon.conf");
    ASSERT_TRUE(rules) << rules.error().message;
    EXPECT_EQ(rules->exclude.comm, (std::vector<std::string>{"sshd", "systemd-journal"}));
    EXPECT_EQ(rules->exclude.uid, (std::vector<unsigned>{0}));
    ASSERT_EQ(rules->rules.size(), 2U);
    EXPECT_EQ(rules->rules[0].name, "vms");
    EXPECT_EQ(rules->rules[0].match.cgroup, (std::vector<std::string>{"/machine.slice/"}));
    EXPECT_EQ(rules->rules[0].min_memory_bytes, 300 * MiB);
    EXPECT_DOUBLE_EQ(rules->rules[0].min_cpu, 0.5);
    EXPECT_EQ(rules->rules[0].exclude.comm, (std::vector<std::string>{"qemu-ga"}));
    EXPECT_EQ(rules->rules[1].match.uid, (std::vector<unsigned>{999, 1000}));
    EXPECT_EQ(rules->rules[1].min_memory_bytes, MiB);
    EXPECT_DOUBLE_EQ(rules->rules[1].min_cpu, 1.0);
    EXPECT_EQ(rules->rules[1].policy, PlacementPolicy::prio_mem_only);
}

TEST(PlacementRulesToml, MemoryTier) {
    auto rules = detail::placement_rules_from_toml_text(R"(
[[rule]]
name = "latency"
comm = "redis-server"
memory_tier = "top"

[[rule]]
name = "batch"
memory_tier = "any"

[[rule]]
name = "default"
)",
                                                        "daemon.conf");
    ASSERT_TRUE(rules) << rules.error().message;
    ASSERT_EQ(rules->rules.size(), 3U);
    EXPECT_EQ(rules->rules[0].memory_tier, MemoryTierUse::top_only);
    EXPECT_EQ(rules->rules[1].memory_tier, MemoryTierUse::top_first);
    EXPECT_EQ(rules->rules[2].memory_tier, MemoryTierUse::top_first);  // the default: top first
}

TEST(PlacementRulesToml, NoRulesMeansNothingIsPlaced) {
    auto rules = detail::placement_rules_from_toml_text("interval = \"1s\"\n", "daemon.conf");
    ASSERT_TRUE(rules);
    EXPECT_TRUE(rules->rules.empty());
}

TEST(PlacementRulesToml, BadValuesNameTheLineAndKey) {
    struct Case {
        const char* text;
        const char* says;
    };
    const Case cases[] = {
        {"[[rule]]\nname = \"a\"\ncommand = \"x\"\n", ":3: [[rule]] command: unknown key"},
        {"[[rule]]\ncomm = \"x\"\n", "needs a name"},
        {"[[rule]]\nname = \"a\"\n[[rule]]\nname = \"a\"\n", "two rules are named 'a'"},
        {"[[rule]]\nname = \"a\"\nmin_memory = \"lots\"\n", ":3: min_memory"},
        {"[[rule]]\nname = \"a\"\nmin_cpu = \"half\"\n", ":3: min_cpu"},
        {"[[rule]]\nname = \"a\"\nmin_cpu = -1\n", "min_cpu"},
        {"[[rule]]\nname = \"a\"\npolicy = \"fast\"\n", ":3: policy"},
        {"[[rule]]\nname = \"a\"\npolicy = \"any\"\n", "places nothing"},
        {"[[rule]]\nname = \"a\"\nmemory_tier = \"fast\"\n", ":3: memory_tier: unknown memory tier choice \"fast\""},
        {"[[rule]]\nname = \"a\"\nmemory_tier = 1\n", ":3: memory_tier: expected a string: top or any"},
        {"[[rule]]\nname = \"a\"\nuid = -5\n", ":3: uid"},
        {"[[rule]]\nname = \"a\"\ncomm = []\n", "matches nothing"},
        {"[[rule]]\nname = \"a\"\ncgroup = \"machine.slice\"\n", "not a cgroup path"},
        {"exclude_comm = 5\n", ":1: exclude_comm"},
        {"rule = 5\n", "[[rule]] tables"},
        {"[[rule]\n", ":1:"},
        {"[[rule]]\nname = \"a\"\ncomm = \"x\x01\"\n", ":3: control character 0x01"},
    };
    for (const Case& c : cases) {
        auto rules = detail::placement_rules_from_toml_text(c.text, "daemon.conf");
        ASSERT_FALSE(rules) << c.text;
        EXPECT_EQ(rules.error().kind, ErrorKind::usage);
        EXPECT_NE(rules.error().message.find(c.says), std::string::npos) << rules.error().message;
        EXPECT_TRUE(rules.error().message.starts_with("daemon.conf")) << rules.error().message;
    }
}

}  // namespace
}  // namespace affine

namespace affine {
namespace {

// The shipped example parses, names nothing as shipped, and its numad-like rule,
// uncommented, is numad_like_rule().
TEST(PlacementRulesToml, TheExampleConfiguration) {
    std::string path = std::string(AFFINE_SOURCE_DIR) + "/dist/daemon.conf";
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto shipped = detail::placement_rules_from_toml_text(text, path);
    ASSERT_TRUE(shipped) << shipped.error().message;
    EXPECT_TRUE(shipped->rules.empty());

    std::string enabled;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        enabled += (line.starts_with("# ") && line.find('=') != std::string::npos) || line.starts_with("# [[")
                       ? line.substr(2) + "\n"
                       : line + "\n";
    auto all = detail::placement_rules_from_toml_text(enabled, path);
    ASSERT_TRUE(all) << all.error().message;
    ASSERT_EQ(all->rules.size(), 2U);
    const PlacementRule& numad = all->rules[1];
    PlacementRule expected = numad_like_rule();
    EXPECT_EQ(numad.name, expected.name);
    EXPECT_EQ(numad.min_memory_bytes, expected.min_memory_bytes);
    EXPECT_DOUBLE_EQ(numad.min_cpu, expected.min_cpu);
    EXPECT_TRUE(numad.match.empty());
    EXPECT_EQ(all->exclude.comm, (std::vector<std::string>{"sshd", "systemd-journal"}));
}

TEST(PlacementRules, TooSmallForEveryRuleWhateverElseIsTrue) {
    PlacementRules rules;
    PlacementRule vms;
    vms.match.comm = {"qemu"};
    vms.min_memory_bytes = 256 * MiB;
    PlacementRule any = numad_like_rule();  // 300M and half a CPU
    rules.rules = {vms, any};
    EXPECT_TRUE(too_small_for_every_rule(rules, 100 * MiB, std::nullopt));
    EXPECT_FALSE(too_small_for_every_rule(rules, 260 * MiB, std::nullopt));  // vms, if it were qemu
    rules.rules = {any};
    EXPECT_FALSE(too_small_for_every_rule(rules, 400 * MiB, std::nullopt));  // its CPU use unknown
    EXPECT_TRUE(too_small_for_every_rule(rules, 400 * MiB, 0.1));
    EXPECT_FALSE(too_small_for_every_rule(rules, 400 * MiB, 0.6));
    rules.rules.push_back(PlacementRule{});  // no minimum: any size may be taken
    EXPECT_FALSE(too_small_for_every_rule(rules, 0, 0.0));
}

}  // namespace
}  // namespace affine
