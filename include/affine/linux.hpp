// Linux processes: where their threads may run and where their memory lives, and
// how to change both — the CPU affinity system calls, memory policy, page
// migration and CPU shielding, with every refusal explained in the user's terms.
//
// Functions here act on the live system (real system calls, procfs and sysfs under
// "/") unless they say otherwise. They return errors as values; a per-thread
// failure inside an otherwise completed operation is reported in the result, never
// dropped.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/launch_policy.hpp"
#include "affine/topology.hpp"

namespace affine {

// ------------------------------------------------------------------ reading

// One thread as the kernel holds it.
struct ThreadPlacement {
    int tid = 0;
    std::string name;              // comm
    CpuSet affinity;               // sched_getaffinity: hard affinity ∩ online ∩ cpuset
    std::optional<int> last_cpu;   // CPU it last ran on (/proc/TID/stat field 39)
};

// One mapping of /proc/PID/numa_maps.
struct MappingPlacement {
    std::string address;                        // start address, hex as the kernel prints it
    std::string policy;                         // "default", "bind:1", "interleave:0-1", ...
    std::string backing;                        // "file=/usr/lib/...", "heap", "stack", "anon", ...
    std::map<int, std::uint64_t> bytes_per_node;  // node -> bytes resident there
    int mapped_max = 1;                         // mapmax=: most processes mapping one of its pages

    // A file's pages other processes map too (shared libraries, the program's text):
    // not one process's memory to move.
    [[nodiscard]] bool shared_file() const { return backing.starts_with("file=") && mapped_max > 1; }
};

// A process: its threads' affinity, its cpuset, and where its memory is.
struct ProcessPlacement {
    int pid = 0;                     // the thread group id
    std::string command;             // comm of the process
    std::optional<unsigned> uid;     // real uid (from status)
    std::vector<ThreadPlacement> threads;
    int thread_count = 0;            // threads the process has, listed or not
    std::string cpuset;              // the cpuset cgroup path (/proc/PID/cpuset), "" when unknown
    CpuSet cpuset_cpus;              // CPUs the cpuset allows (effective), all online CPUs without one
    NodeSet allowed_nodes;           // Mems_allowed_list: the nodes the cpuset allows
    std::map<int, std::uint64_t> memory_bytes_per_node;  // resident bytes per node, all mappings
    std::vector<MappingPlacement> mappings;
    NodeSet local_nodes;             // nodes of the CPUs its threads may run on
    std::optional<double> local_memory_share;  // share of memory on local_nodes; nullopt when no memory
    std::optional<bool> numa_balancing;        // the kernel may move its pages and threads on its own
    std::string memory_note;                   // why numa_maps could not be read, "" when it was
};

enum class ThreadSelection {
    named,  // only the thread named (the main thread for a pid)
    all,    // every thread of the process
};

// Reads the placement of the process holding thread `pid_or_tid` (a pid or any of
// its thread ids). With ThreadSelection::named only that thread is listed. Errors:
// no such task; procfs unreadable. Reads live system state.
Result<ProcessPlacement> read_process_placement(int pid_or_tid, ThreadSelection threads);

// ------------------------------------------------------------------ pinning

enum class ThreadScope {
    named_thread,  // the one thread the id names (the kernel's unit, as `taskset -p`)
    all_threads,   // every thread of the process, including threads started meanwhile
};

enum class PinResult {
    pinned,    // set, and the mask read back equals the request
    vanished,  // the thread exited before it could be set or read back (not an error)
    failed,    // the kernel refused, or the mask read back differs: see `error`
};

struct ThreadPinOutcome {
    int tid = 0;
    PinResult result = PinResult::pinned;
    std::optional<CpuSet> before;  // mask before the change, when it could be read
    std::optional<CpuSet> after;   // mask read back after the change
    std::string error;             // why it failed, in the user's terms
    int code = 0;                  // errno, or 0 for a read-back mismatch
};

struct PinReport {
    int pid = 0;
    CpuSet cpus;
    std::vector<ThreadPinOutcome> threads;  // sorted by tid
    int rounds = 0;                         // listings of /proc/PID/task it took
    bool settled = true;                    // false: threads with the old mask kept appearing

    [[nodiscard]] int count(PinResult r) const;
    [[nodiscard]] bool ok() const {
        return settled && count(PinResult::failed) == 0 && count(PinResult::pinned) > 0;
    }
};

// Sets the hard affinity of thread `pid` (ThreadScope::named_thread) or of every
// thread of process `pid`: lists /proc/PID/task, sets each thread whose mask
// differs and reads it back, lists again until no listing shows a thread that still
// needs setting, and, when the process is starting threads, until every thread it
// set has been seen outside a clone (a clone in flight when its parent was set
// appears late, with the old mask); at most 500 listings (see settle.hpp).
// `cpus` is checked first: CPUs that do not exist or are offline, and CPUs outside
// the process's cpuset, are refused (usage/failed error) before any call, so the
// kernel never drops bits silently. Per-thread refusals (EPERM, ESRCH,
// EINVAL) are in the report, explained. Changes live system state.
Result<PinReport> pin_threads(int pid, const CpuSet& cpus, ThreadScope scope);

// The classic `bind PID MASK` (Robert Love's tool): the mask before and after.
struct BindReport {
    int pid = 0;
    std::string command;      // its comm, read before the change
    CpuSet before;
    CpuSet after;             // read back after the change
    CpuSet offline;           // CPUs of the mask that are offline (not applied)
    CpuSet outside_cpuset;    // CPUs the task's cpuset does not allow (the kernel leaves them out)
};

// Sets the affinity of thread `pid` to the CPUs of `mask` that are online, as the
// kernel would, but never silently: offline CPUs left out are in the report. A mask
// naming a CPU the host does not have is a usage error (exit 2), as in the set
// grammar. Fails (exit 1) for a zero mask, a mask naming only offline CPUs, and
// every kernel refusal, explained. Changes live system state.
Result<BindReport> bind_task(int pid, const CpuSet& mask);

// ------------------------------------------------------------------ memory policy

// What holds after apply_launch_policy, read back from the kernel.
struct AppliedPolicy {
    CpuSet cpus;                      // sched_getaffinity(0)
    std::string kernel_mode;          // "default", "bind", "preferred", "preferred-many", ...
    NodeSet nodes;                    // get_mempolicy's node mask
    std::vector<std::string> notes;   // resolution notes and fallbacks taken
};

// Applies `policy` to the calling process (sched_setaffinity(0) and set_mempolicy),
// so what it executes or forks inherits it, and reads both back. Preferred with
// several nodes needs MPOL_PREFERRED_MANY: on a kernel without it this fails and
// says so (the semantics are never changed silently). Changes live state of the
// calling thread.
Result<AppliedPolicy> apply_launch_policy(const LaunchPolicy& policy);

// Why exec_with_policy returned, and the exit status a shell would give: 127 when
// the command was not found, 126 when it was found but cannot be executed, 1 (or 2
// for a usage error) when the policy could not be applied.
struct ExecFailure {
    Error error;
    int exit_status = 1;
};

// Applies `policy` and replaces the calling process with `argv` (execvp, so the
// command is looked up in PATH). Returns only on failure.
ExecFailure exec_with_policy(const LaunchPolicy& policy, const std::vector<std::string>& argv);

// ------------------------------------------------------------------ migration

struct MigrationReport {
    int pid = 0;
    NodeSet from;  // nodes whose pages were asked to move
    NodeSet to;
    std::map<int, std::uint64_t> pages_before;  // numa_maps pages per node before
    std::map<int, std::uint64_t> pages_after;   // and after
    long pages_not_moved = 0;                   // what migrate_pages returned
};

// Moves the pages of process `pid` that are on nodes outside `to` onto `to`
// (migrate_pages; pages already on `to` stay), and reads numa_maps before and after.
// Errors: nodes without memory or outside the process's cpuset, EPERM (whose task,
// CAP_SYS_NICE), ESRCH. Changes live system state.
Result<MigrationReport> migrate_process_memory(int pid, const NodeSet& to);

// ------------------------------------------------------------------ shielding

struct ShieldOptions {
    CpuSet cpus;                   // the CPUs to give to one workload
    bool kernel_threads = false;   // also move kernel threads that may move
    std::string state_file;        // journal; default_shield_state_file() when empty
};

enum class ShieldAction { moved, skipped, failed };

struct ShieldTaskOutcome {
    int tid = 0;
    std::string name;
    bool kernel_thread = false;
    ShieldAction action = ShieldAction::moved;
    CpuSet before;
    CpuSet after;        // the mask read back (moved), or the mask it keeps
    std::string reason;  // why skipped or failed
};

struct ShieldReport {
    CpuSet cpus;
    std::string state_file;
    std::vector<ShieldTaskOutcome> tasks;  // every task that touched the CPUs
    bool settled = true;                   // false: tasks were still being started on the CPUs
    [[nodiscard]] int count(ShieldAction a) const;
};

// $AFFINE_STATE_DIR/shield.json, or /run/affine/shield.json.
std::string default_shield_state_file();

// Moves every other task that may move off `cpus`: user tasks, and with
// kernel_threads the kernel threads that are neither per-CPU nor PF_NO_SETAFFINITY.
// pid 1 is among them, so tasks started later inherit the shield. Before changing
// anything it journals every task's previous mask (with its start time, so a
// recycled tid is never restored) to the state file, fsync'ed and renamed into
// place. Fails when a shield is already active, or while another shield is being
// set up: the journal's lock (STATE.lock, flock) is held until the shield is
// complete. Changes live system state.
Result<ShieldReport> shield_cpus(const ShieldOptions& options);

struct UndoReport {
    std::string state_file;
    int restored = 0;   // tasks whose journalled mask was set and read back
    int gone = 0;       // tasks that no longer exist (or whose tid was reused)
    // Restored tasks whose journalled mask held CPUs that are offline now: the
    // kernel keeps no offline CPU in a mask, so those bits could not come back.
    int restored_without_offline = 0;
    CpuSet offline_left_out;
    std::vector<std::string> failures;  // what could not be restored, and why
    bool nothing_to_undo = false;
};

// Restores every journalled task that still exists to its previous mask, then
// removes the state file. Idempotent: without a state file there is nothing to do.
// Waits for a shield being set up (its lock) and then undoes all of it.
// Works after an interrupted shield_cpus, since the journal precedes all changes.
Result<UndoReport> undo_shield(const std::string& state_file);

}  // namespace affine
