// The workloads the daemon manages and what it does to their threads: take them
// when asked, feed the engine every interval, apply its decisions journal-first,
// release a thread someone else changed, give back what it took when it stops,
// and take everything up again from the journal after a restart.
//
// Workloads come from requests (the control socket) and from the placement rules
// (PlacementManager, through set_soft_by_rule).
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/engine/daemon_config.hpp"
#include "daemon/engine/daemon_protocol.hpp"
#include "daemon/engine/soft_affinity.hpp"
#include "journal.hpp"
#include "kernel_accounting.hpp"
#include "linux/procfs.hpp"

namespace affine::daemon {

// Now, on the monotonic clock (decisions) and the wall clock (what users read).
struct Clock {
    Millis mono{0};
    double wall = 0;
};

struct ManagedThread {
    int tid = 0;
    unsigned long long start_time = 0;
    std::string name;
    CpuSet original;     // its mask when taken
    CpuSet kernel_mask;  // what the kernel held after the daemon's last change (read back)
    SoftThread engine;
    double changed_at = 0;
    std::optional<ThreadTimes> times;  // the last accounting read, at times_at
    Millis times_at{0};
};

// A request (soft_request.hpp) and what the daemon holds of it while it runs.
struct Workload : SoftRequest {
    std::map<int, ManagedThread> threads;
    std::set<std::pair<int, unsigned long long>> released;  // never taken again
    std::optional<Millis> verified_at;       // when its threads' identity and masks were last read
    std::string cgroup;                      // its cgroup v2 path, read with the identity
    std::optional<std::uint64_t> pressure;   // its cgroup's cpu.pressure total at the last tick
    int listed_threads = -1;                 // threads in its last listing (all_threads), -1: list again
    Millis listed_at{0};                     // when (steady clock) its threads were last listed
    std::optional<unsigned long long> cpu_ticks;  // the process's CPU time when last read (tick)
    // After the last pass over its threads, every one was at rest (at_rest) with the
    // kernel holding the engine's mask: a tick in which none of its tasks waited has
    // nothing to do for it. Cleared wherever a thread is taken or its engine restarted.
    bool resting = false;
    bool skipped = false;     // ticks passed without a visit: each thread's next reading starts a new interval
    std::vector<CpuSet> masks;  // the distinct masks of its threads at the last pass (while resting)
    int still = 0;              // ticks since its process's CPU time last advanced (as sampled)
    int widened = 0;            // its threads widened, as of its last pass (none while at rest)
    bool said_limit = false;  // the log said a thread of it was not taken (per-user limit)
    // Its memory per node (numa_maps) as a status last read it, and when (steady
    // clock); a status reads the oldest first within a budget (SoftManager::status).
    mutable std::map<int, std::uint64_t> memory_bytes_per_node;
    mutable std::optional<std::chrono::steady_clock::time_point> memory_read_at;
};

using Log = std::function<void(const std::string& line)>;

// "pid 12 (cmd)" or "tid 13 (name) of pid 12", as log lines name a thread.
std::string task_name(const Workload& w, const ManagedThread& t);

class SoftManager {
public:
    SoftManager(const linux_backend::Env& env, JournalFile journal, Log log);

    // Reserved CPUs and tuning (at start and on reload); a change of reserved CPUs
    // re-homes every thread at the next tick. `max_threads_per_user` bounds what a
    // user's workloads hold as they grow (new threads, child processes) as the
    // request handler bounds what a request asks: a thread past it is not taken.
    void configure(const CpuSet& reserved, const SoftAffinityTuning& tuning,
                   std::size_t max_threads_per_user = std::numeric_limits<std::size_t>::max());

    // Takes up every journalled request whose process still exists; a thread whose
    // mask is neither of the daemon's journalled masks is released. Fails only when
    // the journal cannot be read or written.
    Result<void> recover(const Clock& now);

    // Sets (cpus) or removes (no cpus: "all") the soft affinity of the request's
    // tasks, after checking the peer's right over each of them. Returns the
    // workloads as they stand.
    // `origin` replaces the default ("pin --soft by uid ...") in status and the log.
    Result<detail::Json> set_soft(const protocol::Request& request, const protocol::PeerCredentials& peer,
                                  const Clock& now, const std::string& origin = "");

    // The daemon's own request (a placement rule): soft CPUs `cpus` for every thread
    // of process `pid`, with `origin` ("rule NAME: ...") as the reason.
    Result<void> set_soft_by_rule(int pid, const CpuSet& cpus, const std::string& origin, const Clock& now);
    // The workload of process `pid`, nullptr when none.
    [[nodiscard]] const Workload* find(int pid) const;

    // One interval: notices exits, new threads and children, foreign changes
    // (released), reads the accounting, decides and applies.
    void tick(const Clock& now, const CpuLoad& load);

    // A clean stop: restores every thread it changed (OnStop::restore) or leaves
    // them; the requests stay in the journal either way.
    void stop(OnStop on_stop, const Clock& now);

    // The workloads `shown` accepts (every one without it). With memory, each one's
    // memory per node: numa_maps is read afresh for the workloads read longest ago,
    // within `memory_budget` of reading in all, so that a status of many large
    // processes never holds the loop; the others give their last reading.
    [[nodiscard]] std::vector<protocol::WorkloadStatus> status(
        bool with_memory, const std::function<bool(const Workload&)>& shown = nullptr,
        std::chrono::milliseconds memory_budget = std::chrono::milliseconds(50)) const;
    // The workloads, by pid.
    [[nodiscard]] const std::map<int, Workload>& workloads() const { return workloads_; }
    // The workload holding pid or tid `id`, nullopt when none.
    [[nodiscard]] std::optional<protocol::WorkloadStatus> show(int id) const;
    [[nodiscard]] const std::deque<protocol::ReleaseEvent>& releases() const { return releases_; }
    [[nodiscard]] std::size_t thread_count() const;
    [[nodiscard]] std::size_t widened_count() const;
    [[nodiscard]] std::size_t workload_count() const { return workloads_.size(); }

private:
    struct Change {
        int pid = 0;
        int tid = 0;
        CpuSet to;
        std::string line;  // what to log once applied
    };

    CpuSet hard_of(const CpuSet& original) const;
    std::optional<ManagedThread> take_thread(Workload& w, int tid, const Clock& now, std::string* refusal);
    void take_new_threads(Workload& w, const Clock& now, std::vector<Change>& changes);
    void take_children(Workload& w, const Clock& now, std::vector<Change>& changes);
    void release(Workload& w, ManagedThread& t, const std::string& reason, const Clock& now);
    // Reads the thread's start time and mask: false, after saying why, when it is gone
    // or released (someone else changed its mask); true when it is still the daemon's.
    bool verify_thread(Workload& w, ManagedThread& t, const Clock& now);
    // The same, cheaper: its mask only (one system call), its identity when the mask
    // is not the one the daemon left.
    bool check_thread(Workload& w, ManagedThread& t, const Clock& now);
    Journal journal_with(const std::vector<Change>& changes) const;
    // Journals the changes, then makes them and reads each mask back; false (and
    // nothing changed) when the journal cannot be written.
    bool commit(std::vector<Change>& changes, const Clock& now);
    bool save();
    Result<void> remove_soft(int pid, int id, bool whole_process, const Clock& now);
    protocol::WorkloadStatus status_of(const Workload& w, bool with_memory) const;
    void read_memory(const Workload& w) const;

    linux_backend::Env env_;
    JournalFile journal_;
    Log log_;
    CpuSet reserved_;
    SoftAffinityTuning tuning_;
    std::size_t max_threads_per_user_ = std::numeric_limits<std::size_t>::max();
    bool rehome_ = false;
    std::map<int, Workload> workloads_;  // by pid
    std::deque<protocol::ReleaseEvent> releases_;
};

}  // namespace affine::daemon
