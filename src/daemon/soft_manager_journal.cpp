// SoftManager's journal: every change is written to the journal before the kernel
// is asked, read back after, and the journal is how a restarted daemon takes its
// workloads up again (soft_manager.hpp).
#include <fmt/format.h>

#include <cerrno>

#include "affine/set_grammar.hpp"
#include "soft_manager.hpp"

namespace affine::daemon {

using linux_backend::read_task_stat;

Journal SoftManager::journal_with(const std::vector<Change>& changes) const {
    // By (pid, tid), the last change of each: a lookup per thread, not a pass over
    // every change (taking 10,000 threads is 10,000 changes).
    std::map<std::pair<int, int>, const Change*> change_of;
    for (const auto& c : changes) change_of[{c.pid, c.tid}] = &c;
    Journal j;
    for (const auto& [pid, w] : workloads_) {
        JournalWorkload jw{w, {}, {}};
        for (const auto& [tid, start] : w.released) jw.released.push_back({tid, start});
        for (const auto& [tid, t] : w.threads) {
            JournalThread jt{t.tid, t.start_time, t.original, t.engine.hard, t.kernel_mask, std::nullopt};
            if (auto c = change_of.find({pid, tid}); c != change_of.end()) {
                jt.previous = t.kernel_mask;
                jt.applied = c->second->to;
            }
            jw.threads.push_back(std::move(jt));
        }
        j.workloads.push_back(std::move(jw));
    }
    return j;
}

bool SoftManager::save() {
    if (auto s = journal_.save(journal_with({})); !s) {
        log_(fmt::format("error: cannot write the journal: {}", s.error().message));
        return false;
    }
    return true;
}

bool SoftManager::commit(std::vector<Change>& changes, const Clock& now) {
    if (changes.empty()) return true;
    // Nothing changes unless the journal says so first.
    if (auto s = journal_.save(journal_with(changes)); !s) {
        log_(fmt::format("error: cannot write the journal, so {} change{} not made: {}", changes.size(),
                         changes.size() == 1 ? " is" : "s are", s.error().message));
        // The engine's view must follow the kernel's: re-home at the next tick.
        for (const auto& c : changes)
            if (auto w = workloads_.find(c.pid); w != workloads_.end())
                if (auto t = w->second.threads.find(c.tid); t != w->second.threads.end()) {
                    t->second.engine = start_soft_thread(env_.host, t->second.engine.hard, w->second.soft, now.mono);
                    w->second.resting = false;
                }
        changes.clear();
        return false;
    }
    for (const auto& c : changes) {
        auto w = workloads_.find(c.pid);
        if (w == workloads_.end()) continue;
        auto it = w->second.threads.find(c.tid);
        if (it == w->second.threads.end()) continue;
        ManagedThread& t = it->second;
        // The thread is read between ticks only now and then (tick): check it is
        // still the one the daemon manages, with the mask the daemon left.
        if (!verify_thread(w->second, t, now)) {
            w->second.threads.erase(it);
            continue;
        }
        auto set = env_.sys.set_affinity(c.tid, c.to);
        if (!set) {
            if (set.error() != ESRCH)
                release(w->second, t,
                        fmt::format("the kernel refused CPUs {}: {}", to_list(c.to),
                                    linux_backend::explain_affinity_error(env_, c.tid, c.to, set.error())),
                        now);
            w->second.threads.erase(it);
            continue;
        }
        auto back = env_.sys.get_affinity(c.tid);
        if (!back) {
            w->second.threads.erase(it);
            continue;
        }
        t.kernel_mask = *back;
        t.changed_at = now.wall;
        if (*back != c.to) {
            release(w->second, t,
                    fmt::format("set CPUs {} but the kernel holds {} (its cpuset or the online CPUs changed)",
                                to_list(c.to), to_list(*back)),
                    now);
            w->second.threads.erase(it);
            continue;
        }
        log_(c.line);
    }
    changes.clear();
    save();
    return true;
}

Result<void> SoftManager::recover(const Clock& now) {
    auto loaded = journal_.load();
    if (!loaded) return std::unexpected(loaded.error());
    if (!loaded->set_aside.empty()) log_(fmt::format("warning: {}", loaded->set_aside));
    std::vector<Change> changes;
    int taken = 0;
    int ended = 0;
    for (const auto& jw : loaded->journal.workloads) {
        auto st = read_task_stat(env_.fs, jw.pid);
        if (!st || st->start_time != jw.start_time) {
            ++ended;
            log_(fmt::format("pid {} ({}) ended while the daemon was not running: its request ends", jw.pid,
                             jw.command));
            continue;
        }
        Workload w;
        static_cast<SoftRequest&>(w) = jw;  // the request as journalled
        w.command = st->comm;               // the name it has now
        // Released before the restart: still someone else's while they live.
        for (const auto& jr : jw.released)
            if (auto ts = read_task_stat(env_.fs, jr.tid); ts && ts->start_time == jr.start_time)
                w.released.insert({jr.tid, jr.start_time});
        for (const auto& jt : jw.threads) {
            auto ts = read_task_stat(env_.fs, jt.tid);
            if (!ts || ts->start_time != jt.start_time) continue;  // exited, or the tid is another task now
            auto mask = env_.sys.get_affinity(jt.tid);
            if (!mask) continue;
            ManagedThread t;
            t.tid = jt.tid;
            t.start_time = jt.start_time;
            t.name = ts->comm;
            t.original = jt.original;
            t.kernel_mask = *mask;
            t.changed_at = now.wall;
            bool ours = *mask == jt.applied || (jt.previous && *mask == *jt.previous);
            if (!ours) {
                release(w, t,
                        fmt::format("its mask changed to CPUs {} while the daemon was not running (it had set {})",
                                    to_list(*mask), to_list(jt.applied)),
                        now);
                continue;
            }
            // A widened thread stays widened: the engine narrows it when home has room.
            t.engine = resume_soft_thread(env_.host, hard_of(t.original), w.soft, *mask, now.mono);
            if (t.engine.state == SoftState::widened) ++w.widened;
            if (t.engine.applied != *mask)
                changes.push_back({w.pid, t.tid, t.engine.applied,
                                   fmt::format("take up {} again: CPUs {} -> {}: {}", task_name(w, t), to_list(*mask),
                                               to_list(t.engine.applied), t.engine.why)});
            w.threads.emplace(t.tid, std::move(t));
        }
        ++taken;
        workloads_.emplace(w.pid, std::move(w));
    }
    if (taken + ended > 0)
        log_(fmt::format("journal {}: {} request{} taken up again, {} ended", journal_.path(), taken,
                         taken == 1 ? "" : "s", ended));
    commit(changes, now);
    if (!save()) return failure(fmt::format("cannot write the journal {}", journal_.path()));
    return {};
}

}  // namespace affine::daemon
