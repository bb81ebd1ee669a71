// Shielding CPUs: move every other task that may move off them, journalled so that
// --undo restores each task's previous mask, even after an interrupted shield.
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>
#include <map>

#include "core/json.hpp"
#include "affine/set_grammar.hpp"
#include "procfs.hpp"
#include "settle.hpp"
#include "state/state_file.hpp"

namespace affine {

int ShieldReport::count(ShieldAction a) const {
    return static_cast<int>(std::ranges::count(tasks, a, &ShieldTaskOutcome::action));
}

std::string default_shield_state_file() {
    const char* dir = std::getenv("AFFINE_STATE_DIR");
    return fmt::format("{}/shield.json", dir != nullptr && *dir != '\0' ? dir : "/run/affine");
}

namespace linux_backend {
namespace {

// Tasks forked by tasks not yet moved are caught by a later sweep; each change
// starts the waits between sweeps over.
constexpr int max_shield_sweeps = 40;

struct JournalEntry {
    int tid = 0;
    unsigned long long start_time = 0;
    std::string name;
    CpuSet before;
};

// The journal's text: every task with its mask before the shield changed it.
std::string journal_text(const CpuSet& cpus, const std::vector<JournalEntry>& entries) {
    detail::Json j;
    j["cpus"] = to_list(cpus);
    j["created"] = static_cast<long long>(std::time(nullptr));
    detail::Json tasks = detail::Json::array();
    for (const auto& e : entries)
        tasks.push_back({{"tid", e.tid}, {"start_time", e.start_time}, {"name", e.name}, {"mask", to_list(e.before)}});
    j["tasks"] = std::move(tasks);
    return j.dump(1) + "\n";
}

// The journal is written atomically (the old or the new one, also after a crash).
Result<void> write_journal(StateFile& state, const CpuSet& cpus, const std::vector<JournalEntry>& entries) {
    auto w = state.write(journal_text(cpus, entries));
    if (!w) return failure("write the shield journal: " + w.error().message, w.error().code);
    return {};
}

Result<std::vector<JournalEntry>> read_journal(const std::string& path, const std::string& text) {
    const detail::JsonReader in(fmt::format("{} (a shield journal)", path));
    auto j = detail::Json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return failure(fmt::format("{} is not a shield journal", path));
    auto tasks = in.array(j, "tasks", "top level");
    if (!tasks) return std::unexpected(tasks.error());
    std::vector<JournalEntry> entries;
    for (std::size_t i = 0; i < (*tasks)->size(); ++i) {
        const detail::Json& t = (**tasks)[i];
        std::string where = fmt::format("tasks[{}]", i);
        JournalEntry e;
        auto tid = in.integer(t, "tid", where, 1, std::numeric_limits<int>::max());
        if (!tid) return std::unexpected(tid.error());
        auto start = in.integer(t, "start_time", where, 0, std::numeric_limits<std::int64_t>::max());
        if (!start) return std::unexpected(start.error());
        auto name = in.string(t, "name", where, "");
        if (!name) return std::unexpected(name.error());
        auto mask_text = in.string(t, "mask", where);
        if (!mask_text) return std::unexpected(mask_text.error());
        auto mask = parse_id_list(*mask_text);
        if (!mask) return in.bad(where + ".mask", mask.error().message);
        e.tid = static_cast<int>(*tid);
        e.start_time = static_cast<unsigned long long>(*start);
        e.name = *name;
        e.before = *mask;
        entries.push_back(std::move(e));
    }
    return entries;
}

}  // namespace

Result<ShieldReport> shield_cpus(const Env& env, const ShieldOptions& options) {
    const CpuSet& cpus = options.cpus;
    if (auto usable = check_cpus_usable(env.host, cpus); !usable) return std::unexpected(usable.error());
    if ((env.host.online_cpus() - cpus).empty())
        return usage_error(fmt::format("shielding CPUs {} leaves no online CPU for the other tasks", to_list(cpus)));

    ShieldReport report;
    report.cpus = cpus;
    report.state_file = options.state_file.empty() ? default_shield_state_file() : options.state_file;
    // The lock is held until the shield is complete: a second shield started
    // meanwhile is refused instead of journalling over this one.
    auto state = StateFile::lock(report.state_file, LockWait::fail_if_held, ParentDirs::create);
    if (!state) {
        Error e = state.error();
        e.message = e.code == EWOULDBLOCK
                        ? fmt::format("another affine shield is running (it holds the lock {}.lock)", report.state_file)
                        : "shield journal: " + e.message;
        return std::unexpected(e);
    }
    auto existing = state->read();
    if (!existing) return failure("shield journal: " + existing.error().message, existing.error().code);
    if (*existing)
        return failure(fmt::format("a shield is already active (state file {}); run affine shield --undo first",
                                   report.state_file),
                       EEXIST);

    int self = env.sys.self_pid();
    std::map<int, unsigned long long> handled;  // tid -> start time
    std::vector<JournalEntry> journal;
    std::map<int, unsigned long long> listed;   // the last listing: tid -> start time
    auto sweep = [&]() -> Result<Sweep> {
        Sweep done;
        std::map<int, unsigned long long> seen;  // this listing
        std::vector<std::pair<JournalEntry, CpuSet>> to_move;
        for (int pid : list_processes(env.fs)) {
            if (pid == self) continue;
            for (int tid : list_threads(env.fs, pid)) {
                auto st = read_task_stat(env.fs, tid);
                if (!st) {
                    done.exited_unchanged = true;
                    continue;
                }
                seen[tid] = st->start_time;
                if (auto l = listed.find(tid); l == listed.end() || l->second != st->start_time) done.new_tasks = true;
                if (auto h = handled.find(tid); h != handled.end() && h->second == st->start_time) continue;
                auto mask = env.sys.get_affinity(tid);
                if (!mask) {  // exited, or not ours to read
                    done.exited_unchanged = done.exited_unchanged || mask.error() == ESRCH;
                    continue;
                }
                // The kernel's own mask may also hold offline CPUs (sched_getaffinity
                // leaves them out); journal that one, so undo knows the whole truth.
                if (auto status = read_task_status(env.fs, tid))
                    if (auto list = status_field(*status, "Cpus_allowed_list"))
                        if (auto full = parse_id_list(*list); full && mask->is_subset_of(*full)) *mask = *full;
                if (!mask->intersects(cpus)) continue;
                handled[tid] = st->start_time;
                ShieldTaskOutcome o;
                o.tid = tid;
                o.name = st->comm;
                o.kernel_thread = (st->flags & pf_kthread) != 0;
                o.before = *mask;
                o.after = *mask;
                CpuSet target = *mask - cpus;
                if (o.kernel_thread && !options.kernel_threads) {
                    o.action = ShieldAction::skipped;
                    o.reason = "kernel thread (use --kthreads to move kernel threads too)";
                } else if (o.kernel_thread && (st->flags & pf_no_setaffinity) != 0) {
                    o.action = ShieldAction::skipped;
                    o.reason = "kernel thread the kernel binds itself (PF_NO_SETAFFINITY)";
                } else if (o.kernel_thread && mask->count() == 1) {
                    o.action = ShieldAction::skipped;
                    o.reason = "per-CPU kernel thread";
                } else if (target.empty()) {
                    o.action = ShieldAction::skipped;
                    o.reason = fmt::format("its affinity holds only shielded CPUs ({}); it stays there",
                                           to_list(*mask));
                } else {
                    to_move.push_back({JournalEntry{tid, st->start_time, st->comm, *mask}, target});
                    continue;
                }
                report.tasks.push_back(std::move(o));
            }
        }
        listed = std::move(seen);
        if (to_move.empty()) return done;
        for (const auto& [entry, target] : to_move) journal.push_back(entry);
        // The journal holds every task before any of them changes.
        if (auto w = write_journal(*state, cpus, journal); !w) return std::unexpected(w.error());
        for (const auto& [entry, target] : to_move) {
            ShieldTaskOutcome o;
            o.tid = entry.tid;
            o.name = entry.name;
            o.before = entry.before;
            o.after = entry.before;
            if (auto r = env.sys.set_affinity(entry.tid, target); !r) {
                if (r.error() == ESRCH) {  // exited meanwhile: nothing to shield
                    done.exited_unchanged = true;
                    continue;
                }
                o.action = ShieldAction::failed;
                o.reason = explain_affinity_error(env, entry.tid, target, r.error());
            } else if (auto now = env.sys.get_affinity(entry.tid); now) {
                o.after = *now;
                if (now->intersects(cpus)) {
                    o.action = ShieldAction::failed;
                    o.reason = fmt::format("still on CPUs {} after the change", to_list(*now & cpus));
                }
            }
            if (o.action == ShieldAction::moved) done.changed.push_back(entry.tid);
            report.tasks.push_back(std::move(o));
        }
        return done;
    };
    auto settling = sweep_until_settled(env, max_shield_sweeps, sweep);
    if (!settling) return std::unexpected(settling.error());
    report.settled = settling->settled;
    if (journal.empty())
        if (auto w = write_journal(*state, cpus, journal); !w) return std::unexpected(w.error());
    std::ranges::sort(report.tasks, {}, &ShieldTaskOutcome::tid);
    return report;
}

Result<UndoReport> undo_shield(const Env& env, const std::string& state_file) {
    UndoReport report;
    report.state_file = state_file.empty() ? default_shield_state_file() : state_file;
    // Waits for a shield still being set up, then undoes all of it.
    auto state = StateFile::lock(report.state_file, LockWait::wait);
    if (!state && state.error().code == ENOENT) {  // not even its directory exists
        report.nothing_to_undo = true;
        return report;
    }
    if (!state) return failure("shield journal: " + state.error().message, state.error().code);
    auto contents = state->read();
    if (!contents) return failure("shield journal: " + contents.error().message, contents.error().code);
    if (!*contents) {
        report.nothing_to_undo = true;
        return report;
    }
    const std::string& text = **contents;
    auto journal = read_journal(report.state_file, text);
    if (!journal) return std::unexpected(journal.error());
    CpuSet online = env.host.online_cpus();
    for (const auto& e : *journal) {
        auto st = read_task_stat(env.fs, e.tid);
        if (!st || st->start_time != e.start_time) {
            ++report.gone;  // exited, or the tid now names another task
            continue;
        }
        if (auto r = env.sys.set_affinity(e.tid, e.before); !r) {
            if (r.error() == ESRCH) {
                ++report.gone;
                continue;
            }
            report.failures.push_back(fmt::format("restore {} to CPUs {}: {}", describe_task(env.fs, e.tid),
                                                  to_list(e.before),
                                                  explain_affinity_error(env, e.tid, e.before, r.error())));
            continue;
        }
        auto now = env.sys.get_affinity(e.tid);
        if (now && *now != (e.before & online) && *now != e.before) {
            report.failures.push_back(fmt::format("{} reads back CPUs {} instead of {}", describe_task(env.fs, e.tid),
                                                  to_list(*now), to_list(e.before)));
            continue;
        }
        ++report.restored;
        if (CpuSet lost = e.before - online; !lost.empty()) {
            ++report.restored_without_offline;
            report.offline_left_out |= lost;
        }
    }
    // Keep the journal while something could not be restored, so --undo can retry.
    if (report.failures.empty())
        if (auto removed = state->remove(); !removed) return std::unexpected(removed.error());
    return report;
}

}  // namespace linux_backend
}  // namespace affine
