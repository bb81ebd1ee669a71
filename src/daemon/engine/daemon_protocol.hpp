// The daemon's control protocol: one JSON object per line each way, over a unix
// socket. Requests, responses, the status of managed workloads, and the kernel's
// rule for who may change a thread's affinity. Pure: no I/O.
//
//   {"op":"set-soft","ids":[4312],"all_threads":true,"cpus":"0-3","children":false}
//   {"op":"set-soft","ids":[4312],"cpus":"all"}          remove the preference
//   {"op":"status"}   {"op":"show","ids":[4312]}   {"op":"reload"}
//   {"op":"advise","cpu_hundredths":200,"memory_mib":512,"reserved":"0"}   numad -w
//
// Every response has "ok"; a refusal has "error" (one line) and "kind" ("usage" or
// "failed").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "core/json.hpp"
#include "daemon/engine/soft_request.hpp"

namespace affine::protocol {

enum class Op { set_soft, status, show, reload, advise };

struct Request {
    Op op = Op::status;
    std::vector<int> ids;            // set-soft, show: pids or tids
    bool all_threads = false;        // set-soft: every thread of each process, also later ones
    bool children = false;           // set-soft: also processes they start (as run --soft)
    std::optional<CpuSet> cpus;      // set-soft: the soft CPUs; nullopt for "all" (no preference)
    // advise (numad -w NCPUS[:MB] -R CPUS): the CPUs in hundredths, the memory in MiB,
    // CPUs to leave out (set grammar, read against the daemon's host).
    std::uint64_t cpu_hundredths = 0;
    std::uint64_t memory_mib = 0;
    std::string reserved;
};

// Parses one request line (without its newline). Usage errors: longer than
// `max_bytes`, not JSON, not an object, an unknown op, a field of the wrong type,
// ids that are not positive, a CPU list that does not parse.
Result<Request> parse_request(std::string_view line, std::size_t max_bytes);
// The line a client sends (no newline).
std::string format_request(const Request& request);

// Who is asking, established once when the connection is accepted: the socket's
// peer credentials (SO_PEERCRED, the kernel's record of connect time) and the
// effective capabilities of the process a pidfd of the peer names (the daemon's
// edge, peer_identity.hpp). Never looked up again by pid.
struct PeerCredentials {
    int pid = 0;
    unsigned uid = 0;           // effective uid at connect time
    unsigned gid = 0;
    bool cap_sys_nice = false;   // may change any thread's affinity
    bool cap_sys_ptrace = false; // may read any process's memory map, as `affine show` does
};

// Whether `peer` sees every workload in `status` and `show`: root, or CAP_SYS_PTRACE
// (what `affine show` needs to read another user's numa_maps). Other peers see the
// workloads of processes they own or asked for, and a count of the others.
bool may_see_all_workloads(const PeerCredentials& peer);
bool may_see_workload(const PeerCredentials& peer, unsigned owner_uid, unsigned requester_uid);

// The owner of a target thread (/proc/TID/status Uid: real, effective).
struct TaskOwner {
    unsigned real_uid = 0;
    unsigned effective_uid = 0;
};

// The kernel's rule for sched_setaffinity (kernel/sched/syscalls.c, check_same_owner):
// the caller's euid equals the target's real or effective uid, or the caller has
// CAP_SYS_NICE. Failed error (EPERM) saying what would allow it.
Result<void> may_set_affinity(const PeerCredentials& peer, const TaskOwner& owner, int tid);

// One managed thread as `status` and `show` report it.
struct ThreadStatus {
    int tid = 0;
    std::string name;
    CpuSet hard;
    CpuSet soft;
    CpuSet applied;
    std::string state;            // "home", "widened", "no-preference"
    double since = 0;             // unix time of the last change
    std::string why;
};

// One managed workload: its request (of which status shows the pid, command, uid,
// soft CPUs, all_threads, children, origin and since) and the threads the daemon manages.
struct WorkloadStatus : daemon::SoftRequest {
    std::vector<ThreadStatus> threads;
    std::map<int, std::uint64_t> memory_bytes_per_node;
};

// A release: the daemon stopped managing a thread because someone else changed it.
struct ReleaseEvent {
    int pid = 0;
    int tid = 0;
    double when = 0;
    std::string reason;
};

// A workload a placement rule placed: where, why, and what moved.
struct PlacementStatus {
    int pid = 0;
    std::string command;
    std::string rule;
    NodeSet nodes;                // where it is placed
    CpuSet cpus;                  // its soft CPUs (empty: memory only)
    double since = 0;             // unix time of the last place or move
    std::string reason;           // of the last place or move
    std::uint64_t moved_bytes = 0;  // memory moved to its nodes so far
    bool widened = false;         // some thread spills now: its memory stays put
    std::map<int, std::uint64_t> memory_bytes_per_node;
    std::string memory_tier;      // the rule's: "any" (fastest tier first) or "top" (only)
    NodeSet memory_nodes;         // `nodes` and the CPU-less nodes attached to them: its memory is home there
    std::map<int, std::uint64_t> memory_bytes_per_tier;  // resident, by kernel tier id; empty without tiers
};

// One placement decision carried out (place, move, move-memory), as logged.
struct PlacementEvent {
    double when = 0;
    std::string line;
};

struct DaemonStatus {
    int daemon_pid = 0;
    std::string config;           // the configuration file in use
    double interval_seconds = 0;
    std::string on_stop;
    std::vector<WorkloadStatus> workloads;
    int other_users_workloads = 0;        // workloads the peer may not see (counted only)
    std::vector<ReleaseEvent> releases;   // the most recent releases
    int rules = 0;                        // placement rules configured
    std::string process_events;           // how new processes are seen ("" without rules)
    std::vector<PlacementStatus> placements;
    std::vector<PlacementEvent> placement_events;  // the most recent ones
};

detail::Json to_json(const DaemonStatus& status);
Result<DaemonStatus> daemon_status_from_json(const detail::Json& json);
detail::Json to_json(const WorkloadStatus& workload);
Result<WorkloadStatus> workload_from_json(const detail::Json& json);

// Response lines (no newline).
std::string ok_response(detail::Json body = detail::Json::object());
std::string error_response(const Error& error);
// A response line back into its body, or the error it carries (usage or failed as
// the daemon said); a line that is not a response is a failed error.
Result<detail::Json> parse_response(std::string_view line);

}  // namespace affine::protocol
