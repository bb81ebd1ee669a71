// The daemon's configuration file: defaults, every key, and errors with their line.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "affine/host.hpp"
#include "core/daemon_config.hpp"

namespace affine {
namespace {

Topology host() { return *synthetic_topology("nodes=2,cores=2"); }

std::string error_of(const std::string& text) {
    auto c = parse_daemon_config(text, "daemon.conf", host());
    EXPECT_FALSE(c) << text;
    return c ? std::string() : c.error().message;
}

TEST(DaemonConfig, EmptyFileIsTheDefaults) {
    auto c = parse_daemon_config("", "daemon.conf", host());
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->interval, Millis{500});
    EXPECT_EQ(c->on_stop, OnStop::restore);
    EXPECT_TRUE(c->reserved_cpus.empty());
    EXPECT_EQ(c->tuning.narrow_after, SoftAffinityTuning{}.narrow_after);
}

TEST(DaemonConfig, TheShippedExampleHoldsTheDefaults) {
    std::ifstream f(std::string(AFFINE_FIXTURES) + "/../../dist/daemon.conf");
    ASSERT_TRUE(f);
    std::stringstream text;
    text << f.rdbuf();
    auto c = parse_daemon_config(text.str(), "dist/daemon.conf", host());
    ASSERT_TRUE(c) << c.error().message;
    auto defaults = *parse_daemon_config("", "x", host());
    EXPECT_EQ(c->interval, defaults.interval);
    EXPECT_EQ(c->max_request_bytes, defaults.max_request_bytes);
    EXPECT_EQ(c->tuning.wait_threshold, defaults.tuning.wait_threshold);
    EXPECT_EQ(c->tuning.widen_after, defaults.tuning.widen_after);
    EXPECT_EQ(c->tuning.idle_threshold, defaults.tuning.idle_threshold);
    EXPECT_EQ(c->tuning.return_room, defaults.tuning.return_room);
    EXPECT_EQ(c->tuning.narrow_after, defaults.tuning.narrow_after);
    EXPECT_EQ(c->tuning.min_dwell, defaults.tuning.min_dwell);
    EXPECT_EQ(c->tuning.flap_window, defaults.tuning.flap_window);
    EXPECT_EQ(c->tuning.max_backoff, defaults.tuning.max_backoff);
}

TEST(DaemonConfig, EveryKey) {
    auto c = parse_daemon_config(R"(interval = "250ms"
on_stop = "leave"
reserved_cpus = "node:1"
housekeeping_cpus = "0"
max_request_bytes = 4096
[soft_affinity]
wait_threshold = 0.3
widen_after = "1s"
idle_threshold = 0.6
return_room = 0.9
narrow_after = "10s"
min_dwell = "2s"
flap_window = "1m"
max_backoff = "5m"
[[rule]]
name = "databases"
comm = "postgres"
uid = 999
min_memory = "300M"
min_cpu = 0.5
policy = "best-effort-hard"
)",
                                 "daemon.conf", host());
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->interval, Millis{250});
    EXPECT_EQ(c->on_stop, OnStop::leave);
    EXPECT_EQ(c->reserved_cpus, (CpuSet{2, 3}));
    EXPECT_EQ(c->housekeeping_cpus, (CpuSet{0}));
    EXPECT_EQ(c->max_request_bytes, 4096U);
    EXPECT_EQ(c->tuning.flap_window, Millis{60000});
    EXPECT_EQ(c->tuning.max_backoff, Millis{300000});
    ASSERT_EQ(c->rules.rules.size(), 1U);
    EXPECT_EQ(c->rules.rules[0].match.comm, std::vector<std::string>{"postgres"});
    EXPECT_EQ(c->rules.rules[0].min_memory_bytes, 300ULL << 20);
    EXPECT_EQ(c->rules.rules[0].policy, PlacementPolicy::best_effort_hard);
}

TEST(DaemonConfig, ErrorsNameTheLine) {
    EXPECT_EQ(error_of("interval = \"500ms\"\non_stop = \n").substr(0, 14), "daemon.conf:2:");
    EXPECT_EQ(error_of("interval = \"500ms\"\n\nintervall = \"1s\"\n"),
              "daemon.conf:3: unknown key intervall (known: interval, on_stop, reserved_cpus, housekeeping_cpus, "
              "max_request_bytes, [soft_affinity], [[rule]], exclude_comm, exclude_cgroup, exclude_uid)");
    EXPECT_EQ(error_of("on_stop = \"keep\"\n"), "daemon.conf:1: on_stop = \"keep\": expected \"restore\" or \"leave\"");
    EXPECT_EQ(error_of("\ninterval = 5\n"), "daemon.conf:2: interval must be a string");
    EXPECT_EQ(error_of("interval = \"5 s\"\n"),
              "daemon.conf:1: interval: bad duration \"5 s\": expected a number and a unit, as 500ms, 2s, 1.5s or 1m");
    EXPECT_EQ(error_of("interval = \"10ms\"\n"), "daemon.conf:1: interval = \"10ms\" is out of range (100ms to 1m)");
    EXPECT_NE(error_of("reserved_cpus = \"0-9\"\n").find("daemon.conf:1: reserved_cpus: "), std::string::npos);
    EXPECT_EQ(error_of("reserved_cpus = \"all\"\n"),
              "daemon.conf:1: reserved_cpus leaves no online CPU for managed threads");
    EXPECT_EQ(error_of("[soft_affinity]\nwait_threshold = 2\n"),
              "daemon.conf:2: soft_affinity.wait_threshold = 2 is out of range (0.01 to 1)");
    EXPECT_EQ(error_of("[soft_affinity]\nnarrow = \"1s\"\n").substr(0, 45),
              "daemon.conf:2: unknown key soft_affinity.narr");
    // The rules' own reader names the file, the line and the key.
    EXPECT_NE(error_of("[[rule]]\ncomm = \"x\"\n").find("daemon.conf line 1"), std::string::npos);
    EXPECT_NE(error_of("[[rule]]\nname = \"a\"\ncomm = \"x\"\npolicy = \"bogus\"\n").find("daemon.conf line 4"),
              std::string::npos);
}

TEST(DaemonConfig, Durations) {
    EXPECT_EQ(*parse_duration("500ms"), Millis{500});
    EXPECT_EQ(*parse_duration("1.5s"), Millis{1500});
    EXPECT_EQ(*parse_duration("2m"), Millis{120000});
    EXPECT_FALSE(parse_duration("5"));
    EXPECT_FALSE(parse_duration("ms"));
    EXPECT_FALSE(parse_duration("-1s"));
    EXPECT_EQ(format_duration(Millis{1500}), "1500ms");
    EXPECT_EQ(format_duration(Millis{3000}), "3s");
}

}  // namespace
}  // namespace affine
