// The measured state of a host for placement: how busy each node's CPUs are and how
// much memory each node can give, as the planner's PlacementHost.
//
// Load is measured, not counted: the busy time of each CPU between two readings of
// /proc/stat (user, nice, system, irq, softirq, steal; idle and iowait are idle),
// summed per node, is the number of busy CPUs there. The planner's "vCPUs already
// placed" on a node is that number rounded to the nearest whole CPU.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

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

// Parses the "cpuN ..." lines of /proc/stat (the "cpu" total line is skipped).
// Usage error naming the line when a cpuN line has fewer than four numbers. Pure.
Result<CpuTimes> parse_cpu_times(std::string_view proc_stat);

// Busy CPUs per node between two readings: for each node, the sum over its CPUs
// present in both readings, and not in `left_out`, of busy delta / total delta (a CPU
// whose total did not advance counts as idle). Every node of `topology` is in the
// result. Pure.
std::map<int, double> busy_cpus_per_node(const Topology& topology, const CpuTimes& before, const CpuTimes& after,
                                         const CpuSet& left_out = {});

// Sets the planner's load from measured busy CPUs: vcpus_per_node[N] = busy[N]
// rounded to the nearest integer (nodes absent from `busy` get 0). Pure.
void set_measured_load(PlacementHost& host, const std::map<int, double>& busy);

struct LiveHostOptions {
    std::chrono::milliseconds window{100};  // between the two readings of /proc/stat
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
