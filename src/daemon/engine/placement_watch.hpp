// What the daemon's placement loop decides about one process from what it read of
// it: its facts for the rules (CPU use from two readings, whether someone pinned it),
// what the process tracker should do with it next, and the host the planner sees
// from the daemon's own measurements. Pure: the daemon's edge reads /proc and sysfs
// and carries out the decisions.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "affine/id_set.hpp"
#include "affine/placement.hpp"
#include "placement_rules.hpp"
#include "process_tracker.hpp"

namespace affine::detail {

// What the daemon read of one process (/proc/PID/stat, status, cgroup and its
// main thread's affinity).
struct ProcessReading {
    int pid = 0;
    std::uint64_t start_time = 0;
    std::string comm;
    std::string cgroup;            // cgroup v2 path; "" when unknown
    std::optional<unsigned> uid;   // real uid
    std::uint64_t resident_bytes = 0;
    std::uint64_t cpu_ticks = 0;   // utime + stime, clock ticks
    bool kernel_thread = false;
    bool no_setaffinity = false;
    CpuSet affinity;               // its main thread's mask
    CpuSet allowed;                // what its cpuset allows of the online CPUs
};

// CPU use from successive readings of one process's cumulative ticks: the average
// over the readings so far, the newest weighing half (unknown after one reading).
struct CpuUse {
    std::uint64_t start_time = 0;
    std::uint64_t ticks = 0;
    TrackerClock::time_point at{};
    std::optional<double> cpus;
};
CpuUse next_cpu_use(const std::optional<CpuUse>& before, std::uint64_t start_time, std::uint64_t ticks,
                    TrackerClock::time_point now, double ticks_per_second);

// Whether someone else narrowed the process's mask: it allows fewer CPUs than its
// cpuset does. The daemon then never takes it: narrowing a mask is a choice about
// where it runs, and the daemon's soft affinity would have nothing to prefer in.
bool pinned_by_someone(const CpuSet& affinity, const CpuSet& allowed);

WorkloadFacts workload_facts(const ProcessReading& reading, std::optional<double> cpus);

// What the tracker keeps of a process the rules decided on.
Interest interest_of(RuleVerdict verdict);

// How a process grew from one reading to the next (its resident memory first).
Growth growth_of(const ProcessReading& before, const ProcessReading& now);

}  // namespace affine::detail
