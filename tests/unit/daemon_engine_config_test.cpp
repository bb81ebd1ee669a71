// The daemon's configuration file: defaults, every key, and errors with their line.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "affine/host.hpp"
#include "daemon/engine/daemon_config.hpp"

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
    EXPECT_EQ(c->interval, Millis{250});
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
    EXPECT_EQ(c->placement.min_residency, defaults.placement.min_residency);
    EXPECT_EQ(c->placement.overload_load, defaults.placement.overload_load);
    EXPECT_EQ(c->placement.overload_after, defaults.placement.overload_after);
    EXPECT_EQ(c->placement.drift_share, defaults.placement.drift_share);
    EXPECT_EQ(c->placement.memory_cooldown, defaults.placement.memory_cooldown);
    EXPECT_EQ(c->placement.chunk_bytes, defaults.placement.chunk_bytes);
    EXPECT_EQ(c->placement.budget_bytes_per_second, defaults.placement.budget_bytes_per_second);
    EXPECT_EQ(c->placement.budget_burst_bytes, defaults.placement.budget_burst_bytes);
    EXPECT_TRUE(c->rules.rules.empty());  // shipped commented out: nothing is placed
}

TEST(DaemonConfig, PlacementKeys) {
    auto c = parse_daemon_config("[placement]\nmin_residency = \"2m\"\noverload_load = 0.9\noverload_after = \"10s\"\n"
                                 "drift_share = 0.8\nmemory_cooldown = \"1.5s\"\nmove_chunk = \"16M\"\n"
                                 "move_budget = 1048576\nmove_burst = \"512M\"\n",
                                 "daemon.conf", host());
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->placement.min_residency, std::chrono::seconds{120});
    EXPECT_EQ(c->placement.overload_load, 0.9);
    EXPECT_EQ(c->placement.overload_after, std::chrono::seconds{10});
    EXPECT_EQ(c->placement.drift_share, 0.8);
    EXPECT_EQ(c->placement.memory_cooldown, Millis{1500});  // sub-second parts are kept
    EXPECT_EQ(c->placement.chunk_bytes, std::uint64_t{16} << 20);
    EXPECT_EQ(c->placement.budget_bytes_per_second, std::uint64_t{1} << 20);
    EXPECT_EQ(c->placement.budget_burst_bytes, std::uint64_t{512} << 20);
    EXPECT_EQ(error_of("[placement]\nmove_chunk = \"1K\"\n"),
              "daemon.conf:2: placement.move_chunk = 1K is out of range (4K to 1T)");
    EXPECT_EQ(error_of("[placement]\nmove_chunk = true\n"),
              "daemon.conf:2: placement.move_chunk must be a size (\"64M\") or a number of bytes");
    EXPECT_NE(error_of("[placement]\nmove_chunk = \"lots\"\n").find("daemon.conf:2: placement.move_chunk: "),
              std::string::npos);
    EXPECT_EQ(error_of("[placement]\nresidency = \"1m\"\n"),
              "daemon.conf:2: unknown key placement.residency (known: min_residency, overload_load, overload_after, "
              "drift_share, memory_cooldown, move_chunk, move_budget, move_burst)");
    EXPECT_EQ(error_of("placement = 3\n"), "daemon.conf:1: placement must be a table ([placement])");
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
              "max_request_bytes, max_workloads_per_user, max_threads_per_user, [soft_affinity], [placement], [[rule]], exclude_comm, exclude_cgroup, exclude_uid)");
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
    EXPECT_NE(error_of("[[rule]]\ncomm = \"x\"\n").find("daemon.conf:1:"), std::string::npos);
    EXPECT_NE(error_of("[[rule]]\nname = \"a\"\ncomm = \"x\"\npolicy = \"bogus\"\n").find("daemon.conf:4:"),
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
