// What the kernel accounts that the soft-affinity engine reads: busy time per CPU
// (/proc/stat) and, per thread, time on a CPU and time waiting to run
// (/proc/PID/task/TID/schedstat). Reads go through the SysFs seam.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/soft_affinity.hpp"
#include "linux/sysfs.hpp"

namespace affine::daemon {

// Cumulative busy and total time per CPU, in the kernel's ticks (index = CPU id).
struct CpuTimes {
    struct Times {
        std::uint64_t busy = 0;
        std::uint64_t total = 0;
    };
    std::vector<std::optional<Times>> cpus;
};

// Parses /proc/stat: busy = user + nice + system + irq + softirq + steal, total adds
// idle and iowait.
CpuTimes parse_cpu_times(std::string_view proc_stat);
std::optional<CpuTimes> read_cpu_times(const linux_backend::SysFs& fs);
// Busy share per CPU between two readings; a CPU missing from either (offline) is
// unknown (-1, which counts as busy).
CpuLoad cpu_load_between(const CpuTimes& before, const CpuTimes& after);

// Cumulative nanoseconds tasks waited on each CPU's run queue (/proc/schedstat:
// the eighth number of a cpuN line; index = CPU id), and the average number of
// tasks waiting on each CPU between two readings `interval` apart: the demand a
// busy CPU could not serve. Empty when the kernel has no schedstat.
std::vector<std::optional<std::uint64_t>> parse_cpu_run_delays(std::string_view schedstat);
std::vector<std::optional<std::uint64_t>> read_cpu_run_delays(const linux_backend::SysFs& fs);
std::vector<double> waiting_between(const std::vector<std::optional<std::uint64_t>>& before,
                                    const std::vector<std::optional<std::uint64_t>>& after, Millis interval);

// Cumulative nanoseconds on a CPU and waiting on a run queue.
struct ThreadTimes {
    std::uint64_t run_ns = 0;
    std::uint64_t wait_ns = 0;
};
std::optional<ThreadTimes> parse_schedstat(std::string_view text);
std::optional<ThreadTimes> read_thread_times(const linux_backend::SysFs& fs, int pid, int tid);

// The cumulative microseconds during which some task of a cgroup waited for a CPU
// (the total= of the "some" line of cpu.pressure); nullopt when there is none (no
// pressure accounting: PSI is off, or not cgroup v2). The cgroup "/" is the whole
// host (/proc/pressure/cpu); "" (no v2 cgroup) has none.
std::optional<std::uint64_t> parse_cpu_pressure(std::string_view text);
std::optional<std::uint64_t> read_cpu_pressure(const linux_backend::SysFs& fs, const std::string& cgroup);

// The shares of `interval` between two readings (clamped to 0..1).
ThreadSample thread_sample_between(const ThreadTimes& before, const ThreadTimes& after, Millis interval);

}  // namespace affine::daemon
