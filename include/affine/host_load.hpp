// The measured state of a host for placement: how busy each node's CPUs are and how
// much memory each node can give, as the planner's PlacementHost.
//
// Load is measured, not counted: the busy time of each CPU between two readings of
// /proc/stat (user, nice, system, irq, softirq, steal; idle and iowait are idle),
// plus the tasks waiting on its run queue (/proc/schedstat), summed per node, is the
// CPU demand there. The planner's "vCPUs already placed" on a node is that number
// rounded to the nearest whole CPU.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/placement.hpp"
#include "affine/topology.hpp"

namespace affine {

// Cumulative times of one CPU, in the kernel's USER_HZ ticks.
struct CpuTime {
    std::uint64_t busy = 0;
    std::uint64_t total = 0;
};
using CpuTimes = std::map<int, CpuTime>;  // CPU id -> its times

// How busy each CPU was over the last interval, 0..1 (index = CPU id). CPUs not
// listed, or with a negative value, count as fully busy.
struct CpuLoad {
    std::vector<double> busy;
    [[nodiscard]] double busy_of(int cpu) const;
};

// Parses the "cpuN ..." lines of /proc/stat (the "cpu" total line is skipped).
// Usage error naming the line when a cpuN line has fewer than four numbers. Pure.
Result<CpuTimes> parse_cpu_times(std::string_view proc_stat);

// The busy share of each CPU between two readings (index = CPU id); a CPU missing
// from either reading, or whose counters went back (it came online between them),
// is unknown (-1). Pure.
CpuLoad cpu_load_between(const CpuTimes& before, const CpuTimes& after);

// Cumulative nanoseconds tasks waited on each CPU's run queue (/proc/schedstat: the
// eighth number of a cpuN line; index = CPU id); empty when the kernel has no
// schedstat or a line is short. Pure.
using CpuRunDelays = std::vector<std::optional<std::uint64_t>>;
CpuRunDelays parse_cpu_run_delays(std::string_view schedstat);
// The average number of tasks waiting on each CPU between two readings `interval`
// apart: the demand a busy CPU could not serve (0 where unknown). Pure.
std::vector<double> waiting_between(const CpuRunDelays& before, const CpuRunDelays& after,
                                    std::chrono::milliseconds interval);

// The CPU demand per node over an interval, the one measure of node load (the
// daemon's placement and numad -w, with or without a daemon): the busy share of
// each CPU (unknown: not counted) plus the tasks that waited on its run queue on
// average (so a node asked for more than it has counts above its CPUs); reserved
// CPUs are not counted. Every node of `topology` is in the result. Pure.
std::map<int, double> busy_per_node(const Topology& topology, const CpuLoad& load, const CpuSet& reserved = {},
                                    const std::vector<double>& waiting = {});

// Sets the planner's load from measured busy CPUs: vcpus_per_node[N] = busy[N]
// rounded to the nearest integer (nodes absent from `busy` get 0). Pure.
void set_measured_load(PlacementHost& host, const std::map<int, double>& busy);

// The planner's host from what was measured, for numad -w with and without a
// daemon alike: the topology with each node's free memory (`free_bytes_per_node`,
// capped at its total; nodes absent keep the topology's), the CPU demand per node
// over the readings (busy_per_node, rounded), the reserved CPUs out. Pure.
PlacementHost measured_placement_host(Topology topology, const std::map<int, std::uint64_t>& free_bytes_per_node,
                                      const CpuLoad& load, const std::vector<double>& waiting, const CpuSet& reserved);

struct LiveHostOptions {
    std::chrono::milliseconds window{100};  // between the two readings of /proc/stat and /proc/schedstat
    bool count_inactive_file = true;        // a node's inactive file cache counts as free
    std::string reserved;                   // set grammar; never in a plan, their load not counted
};

// Reads this host for the planner: the topology (as read_linux_topology), each node's
// free memory (MemFree, plus Inactive(file) when asked, capped at MemTotal), and the
// measured load over `window` (the call takes about that long), with `reserved`
// parsed against the host. Failed error when sysfs or /proc/stat cannot be read;
// usage error when `reserved` is malformed or names CPUs the host does not have.
// Reads live system state.
Result<PlacementHost> read_live_placement_host(const LiveHostOptions& options = {});

}  // namespace affine
