// What the kernel accounts that the soft-affinity engine reads: busy time per CPU
// (/proc/stat) and, per thread, time on a CPU and time waiting to run
// (/proc/PID/task/TID/schedstat). Reads go through the SysFs seam.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/host_load.hpp"
#include "daemon/engine/soft_affinity.hpp"
#include "linux/cpu_accounting.hpp"
#include "linux/sysfs.hpp"

namespace affine::daemon {

// The readers of /proc/stat and /proc/schedstat are the Linux backend's, the same
// numad -w uses without a daemon.
using linux_backend::read_cpu_run_delays;
using linux_backend::read_cpu_times;

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
