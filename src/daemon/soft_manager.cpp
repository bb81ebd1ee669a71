#include "soft_manager.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "affine/set_grammar.hpp"

namespace affine::daemon {

using linux_backend::read_task_stat;
using linux_backend::TaskStat;

namespace {

constexpr std::size_t max_release_events = 64;

std::optional<protocol::TaskOwner> read_owner(const linux_backend::SysFs& fs, int tid) {
    auto status = linux_backend::read_task_status(fs, tid);
    if (!status) return std::nullopt;
    auto uids = linux_backend::status_uids(*status);
    if (!uids) return std::nullopt;
    return protocol::TaskOwner{uids->real, uids->effective};
}

}  // namespace

std::string task_name(const Workload& w, const ManagedThread& t) {
    return t.tid == w.pid ? fmt::format("pid {} ({})", w.pid, w.command)
                          : fmt::format("tid {} ({}) of pid {}", t.tid, t.name, w.pid);
}

SoftManager::SoftManager(const linux_backend::Env& env, JournalFile journal, Log log)
    : env_(env), journal_(std::move(journal)), log_(std::move(log)) {}

void SoftManager::configure(const CpuSet& reserved, const SoftAffinityTuning& tuning,
                            std::size_t max_threads_per_user) {
    if (reserved != reserved_) rehome_ = !workloads_.empty();
    reserved_ = reserved;
    tuning_ = tuning;
    max_threads_per_user_ = max_threads_per_user;
}

CpuSet SoftManager::hard_of(const CpuSet& original) const {
    CpuSet usable = original & env_.host.online_cpus();
    CpuSet hard = usable - reserved_;
    return hard.empty() ? usable : hard;
}

std::optional<ManagedThread> SoftManager::take_thread(Workload& w, int tid, const Clock& now, std::string* refusal) {
    auto st = read_task_stat(env_.fs, tid);
    if (!st) return std::nullopt;
    if ((st->flags & linux_backend::pf_kthread) != 0 || (st->flags & linux_backend::pf_no_setaffinity) != 0) {
        if (refusal != nullptr) *refusal = fmt::format("tid {} ({}) is a kernel thread; the daemon manages user threads only",
                                                       tid, st->comm);
        return std::nullopt;
    }
    auto mask = env_.sys.get_affinity(tid);
    if (!mask) {
        if (refusal != nullptr && mask.error() != ESRCH)
            *refusal = linux_backend::explain_affinity_error(env_, tid, CpuSet{}, mask.error());
        return std::nullopt;
    }
    ManagedThread t;
    t.tid = tid;
    t.start_time = st->start_time;
    t.name = st->comm;
    t.kernel_mask = *mask;
    t.original = *mask;
    // A thread started by a managed thread inherited the daemon's mask: what it
    // would have had is its creator's original mask.
    for (const auto& [other_tid, other] : w.threads)
        if (other.kernel_mask == *mask) {
            t.original = other.original;
            break;
        }
    t.engine = start_soft_thread(env_.host, hard_of(t.original), w.soft, now.mono);
    t.changed_at = now.wall;
    return t;
}

void SoftManager::take_new_threads(Workload& w, const Clock& now, std::vector<Change>& changes) {
    std::vector<int> tids;
    if (w.all_threads) {
        tids = linux_backend::list_threads(env_.fs, w.pid);
        w.listed_threads = static_cast<int>(tids.size());
        w.listed_at = now.mono;
        // A released thread that exited is no one's any more (the journal keeps the others).
        std::erase_if(w.released, [&](const auto& key) { return std::ranges::find(tids, key.first) == tids.end(); });
    } else {
        tids.assign(w.named.begin(), w.named.end());
    }
    // What the requester may still have taken (root and the rules are not counted).
    std::size_t room = std::numeric_limits<std::size_t>::max();
    if (w.requester_uid != 0) {
        std::size_t held = w.threads.size();
        for (const auto& [pid, other] : workloads_)
            if (pid != w.pid && other.requester_uid == w.requester_uid) held += other.threads.size();
        room = held < max_threads_per_user_ ? max_threads_per_user_ - held : 0;
    }
    for (int tid : tids) {
        if (w.threads.contains(tid)) continue;
        if (room == 0) {
            if (!w.said_limit)
                log_(fmt::format("pid {} ({}): tid {} and later threads not taken: uid {} has {} threads managed, the "
                                 "limit per user (max_threads_per_user)",
                                 w.pid, w.command, tid, w.requester_uid, max_threads_per_user_));
            w.said_limit = true;
            break;
        }
        auto st = read_task_stat(env_.fs, tid);
        if (!st || w.released.contains({tid, st->start_time})) continue;
        auto t = take_thread(w, tid, now, nullptr);
        if (!t) continue;
        if (t->engine.applied != t->kernel_mask)
            changes.push_back({w.pid, tid, t->engine.applied,
                               fmt::format("take {}: CPUs {} -> {}: {}", task_name(w, *t), to_list(t->kernel_mask),
                                           to_list(t->engine.applied), t->engine.why)});
        w.threads.emplace(tid, std::move(*t));
        w.resting = false;
        --room;
    }
}

void SoftManager::take_children(Workload& w, const Clock& now, std::vector<Change>& changes) {
    for (int tid : linux_backend::list_threads(env_.fs, w.pid)) {
        auto text = env_.fs.read(fmt::format("/proc/{}/task/{}/children", w.pid, tid));
        if (!text) continue;
        const char* p = text->data();
        const char* end = p + text->size();
        while (p < end) {
            int child = 0;
            auto [next, ec] = std::from_chars(p, end, child);
            if (ec != std::errc()) {
                ++p;
                continue;
            }
            p = next;
            if (child <= 0 || workloads_.contains(child)) continue;
            auto st = read_task_stat(env_.fs, child);
            auto owner = read_owner(env_.fs, child);
            if (!st || !owner) continue;
            protocol::PeerCredentials requester{0, w.requester_uid, 0, w.requester_cap_sys_nice};
            if (!protocol::may_set_affinity(requester, *owner, child)) continue;  // e.g. a setuid program
            Workload c;
            c.pid = child;
            c.start_time = st->start_time;
            c.command = st->comm;
            c.uid = owner->real_uid;
            c.soft = w.soft;
            c.all_threads = true;
            c.children = true;
            c.origin = fmt::format("started by pid {}", w.pid);
            c.since = now.wall;
            c.requester_uid = w.requester_uid;
            c.requester_cap_sys_nice = w.requester_cap_sys_nice;
            log_(fmt::format("pid {} ({}) started by managed pid {}: soft CPUs {}", child, c.command, w.pid,
                             to_list(c.soft)));
            take_new_threads(c, now, changes);
            workloads_.emplace(child, std::move(c));
        }
    }
}

bool SoftManager::verify_thread(Workload& w, ManagedThread& t, const Clock& now) {
    auto ts = read_task_stat(env_.fs, t.tid);
    auto mask = ts && ts->start_time == t.start_time ? env_.sys.get_affinity(t.tid)
                                                     : linux_backend::SysResult<CpuSet>(std::unexpected(ESRCH));
    if (!mask) return false;  // exited
    if (*mask != t.kernel_mask) {
        release(w, t,
                fmt::format("its mask was changed to CPUs {} by someone else (the daemon had set {}); left as it is",
                            to_list(*mask), to_list(t.kernel_mask)),
                now);
        return false;
    }
    t.name = ts->comm;
    return true;
}

bool SoftManager::check_thread(Workload& w, ManagedThread& t, const Clock& now) {
    auto mask = env_.sys.get_affinity(t.tid);
    if (!mask) return false;  // exited
    // The mask the daemon left: still its thread (a reused tid would have to be a
    // new thread of the same process with the same mask; commit reads the identity
    // before any change, so it is never touched as the old one).
    if (*mask == t.kernel_mask) return true;
    return verify_thread(w, t, now);
}

void SoftManager::release(Workload& w, ManagedThread& t, const std::string& reason, const Clock& now) {
    std::string line = fmt::format("release {}: {}", task_name(w, t), reason);
    log_(line);
    releases_.push_back({w.pid, t.tid, now.wall, line});
    while (releases_.size() > max_release_events) releases_.pop_front();
    w.released.insert({t.tid, t.start_time});
}

Result<void> SoftManager::remove_soft(int pid, int id, bool whole_process, const Clock& now) {
    auto w = workloads_.find(pid);
    if (w == workloads_.end()) return {};
    std::vector<Change> changes;
    std::vector<int> tids;
    bool whole = whole_process || w->second.all_threads || (w->second.named.size() <= 1 && w->second.named.contains(id));
    for (auto& [tid, t] : w->second.threads)
        if (whole || tid == id) {
            tids.push_back(tid);
            if (t.kernel_mask != t.original)
                changes.push_back({pid, tid, t.original,
                                   fmt::format("restore {}: soft affinity removed; CPUs {} -> {}",
                                               task_name(w->second, t), to_list(t.kernel_mask), to_list(t.original))});
        }
    if (!commit(changes, now))
        return failure(fmt::format("pid {}: nothing changed: the journal {} cannot be written", pid, journal_.path()));
    w = workloads_.find(pid);
    if (w == workloads_.end()) return {};
    if (whole) {
        workloads_.erase(w);
    } else {
        for (int tid : tids) w->second.threads.erase(tid);
        w->second.named.erase(id);
        if (w->second.named.empty()) workloads_.erase(w);
    }
    if (!save()) return failure(fmt::format("cannot write the journal {}", journal_.path()));
    return {};
}

Result<void> SoftManager::set_soft_by_rule(int pid, const CpuSet& cpus, const std::string& origin, const Clock& now) {
    protocol::Request r;
    r.op = protocol::Op::set_soft;
    r.ids = {pid};
    r.cpus = cpus;
    r.all_threads = true;
    protocol::PeerCredentials self{env_.sys.self_pid(), 0, 0, true};
    auto done = set_soft(r, self, now, origin);
    if (!done) return std::unexpected(done.error());
    return {};
}

const Workload* SoftManager::find(int pid) const {
    auto it = workloads_.find(pid);
    return it == workloads_.end() ? nullptr : &it->second;
}

Result<detail::Json> SoftManager::set_soft(const protocol::Request& r, const protocol::PeerCredentials& peer,
                                           const Clock& now, const std::string& origin) {
    if (r.cpus) {
        if (auto usable = check_cpus_usable(env_.host, *r.cpus); !usable) return std::unexpected(usable.error());
    }
    // Check every task first: a refused one changes nothing.
    struct Target {
        int id;
        int pid;
        TaskStat process;
        protocol::TaskOwner owner;
    };
    std::vector<Target> targets;
    for (int id : r.ids) {
        auto pid = linux_backend::thread_group_of(env_.fs, id);
        auto st = pid ? read_task_stat(env_.fs, *pid) : std::nullopt;
        auto owner = read_owner(env_.fs, id);
        if (!pid || !st || !owner) return failure(fmt::format("no process or thread {}", id), ESRCH);
        if ((st->flags & linux_backend::pf_kthread) != 0)
            return failure(fmt::format("pid {} ({}) is a kernel thread; the daemon manages user threads only", id,
                                       st->comm),
                           EINVAL);
        if (*pid == 1 || *pid == env_.sys.self_pid())
            return failure(fmt::format("pid {} ({}): the daemon never manages {}", *pid, st->comm,
                                       *pid == 1 ? "pid 1" : "itself"),
                           EPERM);
        if (auto allowed = protocol::may_set_affinity(peer, *owner, id); !allowed)
            return std::unexpected(allowed.error());
        targets.push_back({id, *pid, *st, *owner});
    }
    detail::Json answer = detail::Json::array();
    for (const auto& target : targets) {
        if (!r.cpus) {
            if (auto removed = remove_soft(target.pid, target.id, r.all_threads, now);
                !removed)
                return std::unexpected(removed.error());
            log_(fmt::format("soft affinity of {} {} removed by uid {}", target.id == target.pid ? "pid" : "tid",
                             target.id, peer.uid));
            continue;
        }
        auto it = workloads_.find(target.pid);
        if (it != workloads_.end() && it->second.start_time != target.process.start_time) {
            workloads_.erase(it);  // a recycled pid: the old request ended with its process
            it = workloads_.end();
        }
        if (it == workloads_.end()) {
            Workload w;
            w.pid = target.pid;
            w.start_time = target.process.start_time;
            w.command = target.process.comm;
            w.uid = target.owner.real_uid;
            w.since = now.wall;
            w.requester_uid = peer.uid;
            w.requester_cap_sys_nice = peer.cap_sys_nice;
            it = workloads_.emplace(target.pid, std::move(w)).first;
        }
        Workload& w = it->second;
        std::vector<Change> changes;
        bool soft_changed = w.soft != *r.cpus;
        w.soft = *r.cpus;
        w.all_threads = w.all_threads || r.all_threads;
        w.children = w.children || r.children;
        if (!w.all_threads) w.named.insert(target.id);
        w.origin = !origin.empty() ? origin
                                   : fmt::format("{} by uid {} (pid {})", r.children ? "run --soft" : "pin --soft",
                                                 peer.uid, peer.pid);
        // Asking again takes back what was released.
        std::erase_if(w.released, [&](const auto& key) { return w.all_threads || key.first == target.id; });
        w.resting = false;
        if (soft_changed) w.widened = 0;  // every thread starts again at home
        if (soft_changed)
            for (auto& [tid, t] : w.threads) {
                t.engine = start_soft_thread(env_.host, hard_of(t.original), w.soft, now.mono);
                if (t.engine.applied != t.kernel_mask)
                    changes.push_back({w.pid, tid, t.engine.applied,
                                       fmt::format("soft CPUs of {} now {}: CPUs {} -> {}", task_name(w, t),
                                                   to_list(w.soft), to_list(t.kernel_mask), to_list(t.engine.applied))});
            }
        std::string refusal;
        if (!w.all_threads && !w.threads.contains(target.id)) {
            auto t = take_thread(w, target.id, now, &refusal);
            if (!t) {
                w.named.erase(target.id);
                if (w.threads.empty() && w.named.empty()) workloads_.erase(target.pid);
                return failure(refusal.empty() ? fmt::format("no process or thread {}", target.id) : refusal);
            }
            if (t->engine.applied != t->kernel_mask)
                changes.push_back({w.pid, t->tid, t->engine.applied,
                                   fmt::format("take {}: CPUs {} -> {}: {}", task_name(w, *t), to_list(t->kernel_mask),
                                               to_list(t->engine.applied), t->engine.why)});
            w.threads.emplace(t->tid, std::move(*t));
        } else {
            take_new_threads(w, now, changes);
        }
        if (origin.empty())
            log_(fmt::format("soft CPUs {} for {} {} ({}) asked by uid {} (pid {}){}", to_list(w.soft),
                             target.id == target.pid ? "pid" : "tid", target.id, w.command, peer.uid, peer.pid,
                             w.all_threads ? ", every thread" : ""));
        if (!commit(changes, now)) {
            workloads_.erase(target.pid);
            return failure(fmt::format("pid {}: nothing changed: the journal {} cannot be written (see the daemon's "
                                       "log)",
                                       target.pid, journal_.path()));
        }
        if (auto done = workloads_.find(target.pid); done != workloads_.end()) {
            if (done->second.threads.empty()) {
                workloads_.erase(done);
                save();
                return failure(fmt::format("pid {}: no thread could be taken", target.pid));
            }
            answer.push_back(protocol::to_json(status_of(done->second, false)));
        }
    }
    if (!save())
        return failure(fmt::format("the request was carried out but the journal {} cannot be written, so it would not "
                                   "survive a restart of the daemon (see the daemon's log)",
                                   journal_.path()));
    detail::Json body;
    body["workloads"] = std::move(answer);
    return body;
}

void SoftManager::stop(OnStop on_stop, const Clock& now) {
    std::vector<Change> changes;
    if (on_stop == OnStop::restore) {
        for (auto& [pid, w] : workloads_)
            for (auto& [tid, t] : w.threads) {
                auto mask = env_.sys.get_affinity(tid);
                if (!mask || *mask != t.kernel_mask || t.kernel_mask == t.original) continue;
                changes.push_back({pid, tid, t.original,
                                   fmt::format("restore {}: CPUs {} -> {} (stopping)", task_name(w, t),
                                               to_list(t.kernel_mask), to_list(t.original))});
            }
    }
    std::size_t n = changes.size();
    commit(changes, now);
    save();
    log_(on_stop == OnStop::restore
             ? fmt::format("stopping: {} thread{} restored; {} request{} kept in the journal", n, n == 1 ? "" : "s",
                           workloads_.size(), workloads_.size() == 1 ? "" : "s")
             : fmt::format("stopping: masks left as they are (on_stop = \"leave\"); {} request{} kept in the journal",
                           workloads_.size(), workloads_.size() == 1 ? "" : "s"));
}

}  // namespace affine::daemon
