// Reading tasks from procfs (through the SysFs seam) and explaining the kernel's
// refusals in the user's terms. Internal to the Linux backend.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/linux.hpp"
#include "affine/topology.hpp"
#include "sysfs.hpp"
#include "syscalls.hpp"

namespace affine::linux_backend {

// What the Linux backend works with: the file system, the system calls, the host.
struct Env {
    const SysFs& fs;
    Syscalls& sys;
    const Topology& host;
};

// Task flags from include/linux/sched.h (field 9 of /proc/TID/stat).
inline constexpr unsigned long pf_kthread = 0x00200000;
inline constexpr unsigned long pf_no_setaffinity = 0x04000000;

// The fields of /proc/TID/stat affine uses.
struct TaskStat {
    std::string comm;
    char state = '?';
    unsigned long flags = 0;                // field 9
    unsigned long long utime = 0;           // field 14, clock ticks in user mode
    unsigned long long stime = 0;           // field 15, clock ticks in kernel mode
    int threads = 0;                        // field 20, threads in its process (0: unknown)
    unsigned long long start_time = 0;      // field 22, clock ticks since boot
    unsigned long long rss_pages = 0;       // field 24, resident pages
    std::optional<int> processor;           // field 39: CPU it last ran on
};

// Parses a /proc/TID/stat line (comm may hold spaces and parentheses).
std::optional<TaskStat> parse_task_stat(std::string_view text);

// Parses /proc/PID/numa_maps: one MappingPlacement per line, bytes per node from
// the N<node>=<pages> fields times kernelpagesize_kB.
std::vector<MappingPlacement> parse_numa_maps(std::string_view text);

// Resident bytes per node, summed over mappings.
std::map<int, std::uint64_t> bytes_per_node(const std::vector<MappingPlacement>& mappings);

// The same over the process's own memory: every mapping but files other processes
// map too (MappingPlacement::shared_file), which are not its to move (the daemon's
// placement would pull them back and forth between workloads on different nodes).
std::map<int, std::uint64_t> own_bytes_per_node(const std::vector<MappingPlacement>& mappings);

// The own directory of thread `tid`: /proc/TID/task/TID (procfs resolves any thread
// id as /proc/TID, and every thread of its group under its task/). Per-thread files
// are read there and never as /proc/TID/FILE: some of those are the whole process's
// (/proc/TID/stat sums the CPU time of every thread of the group, so reading it once
// per thread costs the kernel the square of the thread count).
std::string task_dir(int tid);
// The directory of process `pid`: /proc/PID, for what belongs to the whole process
// (numa_maps, maps, its total CPU time).
std::string process_dir(int pid);

// The thread ids of process `pid`, sorted; empty when it does not exist.
std::vector<int> list_threads(const SysFs& fs, int pid);
// Every process id in /proc, sorted.
std::vector<int> list_processes(const SysFs& fs);

// The thread's own stat (task_dir): its own CPU time; its start time, name and flags.
std::optional<TaskStat> read_task_stat(const SysFs& fs, int tid);
// The process's stat (/proc/PID/stat): utime and stime are those of every thread of
// the process summed, which costs the kernel a pass over its threads; read it once
// per process for its CPU time, never per thread.
std::optional<TaskStat> read_process_stat(const SysFs& fs, int pid);
std::optional<std::string> read_task_status(const SysFs& fs, int tid);

// The thread group (process) id of `tid`, from its status; nullopt when no such task.
std::optional<int> thread_group_of(const SysFs& fs, int tid);

// The cgroup v2 path of a task ("0::/path" of its cgroup file); "" without one.
std::string read_task_cgroup(const SysFs& fs, int tid);

// The cpuset of task `tid`: its cgroup path and the CPUs it allows (cgroup v2
// cpuset.cpus.effective, else v1, walking up to the nearest cgroup that has the
// file); all online CPUs of the host when there is no cpuset.
struct TaskCpuset {
    std::string path;
    CpuSet cpus;
};
TaskCpuset read_task_cpuset(const Env& env, int tid);

// The nodes the task's cpuset allows (Mems_allowed_list); all nodes when unknown.
NodeSet read_allowed_nodes(const Env& env, int tid);

// "task 4312 (postgres)"
std::string describe_task(const SysFs& fs, int tid);

// Why the kernel refused `what` (e.g. "pin tid 4312 to CPUs 8-11") with errno
// `err`, worked out from the task's state: offline CPUs, its cpuset, a kernel thread
// the kernel binds, whose task it is and that CAP_SYS_NICE would allow it, or that
// it no longer exists.
std::string explain_affinity_error(const Env& env, int tid, const CpuSet& cpus, int err);
std::string explain_permission(const Env& env, int tid);

// Backend entry points over an Env (the public functions call these with the live one).
Result<ProcessPlacement> read_process_placement(const Env& env, int pid_or_tid, ThreadSelection threads);
Result<PinReport> pin_threads(const Env& env, int pid, const CpuSet& cpus, ThreadScope scope);
Result<BindReport> bind_task(const Env& env, int pid, const CpuSet& mask);
Result<AppliedPolicy> apply_launch_policy(const Env& env, const LaunchPolicy& policy);
ExecFailure exec_with_policy(const Env& env, const LaunchPolicy& policy, const std::vector<std::string>& argv);
Result<MigrationReport> migrate_process_memory(const Env& env, int pid, const NodeSet& to);
Result<ShieldReport> shield_cpus(const Env& env, const ShieldOptions& options);
Result<UndoReport> undo_shield(const Env& env, const std::string& state_file);

}  // namespace affine::linux_backend
