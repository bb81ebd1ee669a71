// SoftManager's interval: what it reads of each workload, what it decides, and
// what it leaves alone because nothing can have changed (see soft_manager.hpp).
#include <fmt/format.h>

#include <algorithm>

#include "affine/set_grammar.hpp"
#include "soft_manager.hpp"

namespace affine::daemon {

using linux_backend::read_task_stat;

namespace {

// How often a managed thread's identity and mask are read (tick): a mask someone
// else set is seen, and the thread released, within this time.
constexpr Millis verify_period{2000};
// The same for a workload whose threads are all at rest: what matters of a thread
// that does nothing is read less often (a mask someone else set is still never
// overwritten: every change is checked against the kernel first).
constexpr Millis resting_verify_period{10000};
// How often the thread list of a process is read all the same when its thread
// count stayed and no managed thread went: a thread that exited and one that
// started between two listings leave the count as it was. (The kernel builds a
// listing of 10,000 threads from 10,000 lookups: it was most of the daemon's cost
// with a process of idle threads.)
constexpr Millis relist_period{60000};
// Ticks a process must not have run before its CPU time is read only every this
// many ticks (4: once a second at the shipped interval).
constexpr int still_ticks = 4;

// Whether a thread on `mask` could have waited for a CPU for `threshold` of the
// interval: it waits only while every CPU of its mask runs something else, so no
// longer than the least busy of them was busy (an unknown CPU counts as busy).
bool could_have_waited(const CpuLoad& load, const CpuSet& mask, double threshold) {
    for (int cpu : mask)
        if (load.busy_of(cpu) < threshold) return false;
    return !mask.empty();
}

}  // namespace

void SoftManager::tick(const Clock& now, const CpuLoad& load) {
    CapacityBook book(load, env_.host.online_cpus() - reserved_);
    std::vector<Change> changes;
    bool dirty = false;
    std::vector<int> pids;
    for (const auto& [pid, w] : workloads_) pids.push_back(pid);
    for (int pid : pids) {
        auto wit = workloads_.find(pid);
        if (wit == workloads_.end()) continue;
        Workload& w = wit->second;
        // Its main thread's own stat: who the process is and how many threads it has,
        // without the kernel summing the CPU time of all of them.
        auto st = read_task_stat(env_.fs, pid);
        if (!st || st->start_time != w.start_time) {
            log_(fmt::format("pid {} ({}) exited: its soft-affinity request ends", pid, w.command));
            workloads_.erase(wit);
            dirty = true;
            continue;
        }
        w.command = st->comm;  // it may have executed another program since
        // What a tick costs does not grow with the threads that wait for nothing. Each
        // tick reads, per workload, its main thread's stat and its cgroup's pressure;
        // its threads only when some task of it waited (the pressure grew) or one of
        // them has something pending, and a thread's accounting only when it could
        // have waited (below). Every verify_period (resting_verify_period when all
        // its threads are at rest), each thread's mask (one system call, its stat
        // only when the mask is not the daemon's) and the children; the thread list
        // when the thread count says it changed (and every relist_period).
        // A change is checked against identity and mask first (commit), so no reused
        // tid is touched and no one else's mask overwritten.
        const Millis period = w.resting ? resting_verify_period : verify_period;
        const bool verify = !w.verified_at || now.mono - *w.verified_at >= period;
        if (verify) {
            w.verified_at = now.mono;
            w.cgroup = linux_backend::read_task_cgroup(env_.fs, pid);
        }
        // Its cgroup's cpu.pressure did not grow since the last tick: no task of it
        // waited for a CPU, so no thread of it did.
        auto pressure = read_cpu_pressure(env_.fs, w.cgroup);
        const bool quiet = pressure && w.pressure && *pressure == *w.pressure;
        w.pressure = pressure;
        // Whether any thread of the process ran since the last look: its CPU time
        // (the process's stat, one read the first time a thread needs it). A thread
        // that did not run has nothing to tell: the kernel adds a thread's wait to
        // its accounting when it gets a CPU (schedstat's run_delay grows at arrival),
        // so one that waited and never ran shows in neither.
        std::optional<bool> ran;
        auto process_ran = [&] {
            if (!ran) {
                auto whole = linux_backend::read_process_stat(env_.fs, pid);
                std::optional<unsigned long long> ticks;
                if (whole && whole->start_time == w.start_time) ticks = whole->utime + whole->stime;
                ran = !ticks || !w.cpu_ticks || *ticks != *w.cpu_ticks;
                w.cpu_ticks = ticks;
            }
            return *ran;
        };
        // New threads: as soon as the process's thread count is not the one of the
        // last listing (a managed thread found gone clears that count), and every
        // relist_period at a verification.
        const std::size_t taken_from = changes.size();  // the changes of the threads taken now
        if (w.all_threads && (st->threads != w.listed_threads || (verify && now.mono - w.listed_at >= relist_period)))
            take_new_threads(w, now, changes);
        if (w.children && verify) take_children(w, now, changes);
        // Every thread at rest and none could have waited: nothing to read or decide.
        // (A thread waits only while every CPU of its mask is busy.)
        auto none_could_wait = [&] {
            return std::ranges::none_of(
                w.masks, [&](const CpuSet& m) { return could_have_waited(load, m, tuning_.wait_threshold); });
        };
        // Whether its process ran, for a workload at rest: the process's stat sums the
        // CPU time of every thread, so for a process that has not run for a second it
        // is read once a second only (an idle process that starts to run is visited
        // within a second; one that runs is read every tick).
        auto ran_lately = [&] {
            if (w.still >= still_ticks && w.still % still_ticks != 0) {
                ++w.still;
                return false;
            }
            bool r = process_ran();
            w.still = r ? 0 : w.still + 1;
            return r;
        };
        if (!verify && !rehome_ && w.resting && (quiet || none_could_wait() || !ran_lately())) {
            w.skipped = true;
            continue;
        }
        bool resting = true;
        int widened = 0;
        w.masks.clear();
        for (auto it = w.threads.begin(); it != w.threads.end();) {
            ManagedThread& t = it->second;
            // As if each skipped tick had told it that it did not wait.
            if (w.skipped) t.times.reset();
            if (verify && !check_thread(w, t, now)) {
                it = w.threads.erase(it);
                w.listed_threads = -1;  // one that started meanwhile may hold its place in the count
                dirty = true;
                continue;
            }
            if (rehome_) t.engine = start_soft_thread(env_.host, hard_of(t.original), w.soft, now.mono);
            std::optional<ThreadSample> sample;
            // A widened thread is read every tick: its return home needs its CPU time.
            const bool settled = t.engine.state != SoftState::widened && t.engine.applied == t.kernel_mask;
            if (settled && (t.engine.state == SoftState::no_preference || quiet ||
                            !could_have_waited(load, t.kernel_mask, tuning_.wait_threshold) ||
                            !process_ran())) {
                // It did not wait (or the engine has nothing to decide for it): the
                // engine hears so without the thread's file.
                if (now.mono > t.times_at) sample = ThreadSample{now.mono - t.times_at, 0.0, 0.0};
                t.times.reset();  // the next reading starts a new interval
            } else {
                // No accounting (the thread just exited; its check will see it): no
                // decision this time.
                auto times = read_thread_times(env_.fs, pid, t.tid);
                if (t.times && times && now.mono > t.times_at)
                    sample = thread_sample_between(*t.times, *times, now.mono - t.times_at);
                t.times = times;
            }
            t.times_at = now.mono;
            bool changed = false;
            if (sample) {
                SoftDecision d = decide_soft_affinity(t.engine, *sample, book, env_.host, now.mono, tuning_);
                if (d.action != SoftAction::keep) {
                    changes.push_back({pid, t.tid, d.to,
                                       fmt::format("{} {}: CPUs {} -> {}: {}", to_string(d.action), task_name(w, t),
                                                   to_list(t.kernel_mask), to_list(d.to), d.reason)});
                    changed = true;
                }
            }
            // The engine restarted (new reserved CPUs, a change the journal refused):
            // the kernel follows it. (A thread taken now has its change already.)
            auto taken_now = [&] {
                return std::ranges::any_of(changes.begin() + static_cast<std::ptrdiff_t>(taken_from), changes.end(),
                                           [&](const Change& c) { return c.tid == t.tid; });
            };
            if (!changed && t.engine.applied != t.kernel_mask && !taken_now())
                changes.push_back({pid, t.tid, t.engine.applied,
                                   fmt::format("re-home {}: CPUs {} -> {}: {}", task_name(w, t), to_list(t.kernel_mask),
                                               to_list(t.engine.applied), t.engine.why)});
            resting = resting && !changed && t.engine.applied == t.kernel_mask && at_rest(t.engine);
            widened += t.engine.state == SoftState::widened ? 1 : 0;
            if (resting && std::ranges::find(w.masks, t.kernel_mask) == w.masks.end()) w.masks.push_back(t.kernel_mask);
            ++it;
        }
        w.resting = resting;
        w.widened = widened;
        w.skipped = false;
        if (w.threads.empty() && (!w.all_threads || !w.released.empty())) {
            log_(fmt::format("pid {} ({}): no thread left to manage; its request ends", pid, w.command));
            workloads_.erase(pid);
            dirty = true;
        }
    }
    rehome_ = false;
    if (!changes.empty()) commit(changes, now);
    else if (dirty) save();
}

}  // namespace affine::daemon
