// Shielding CPUs: move every other task that may move off them, journalled so that
// --undo restores each task's previous mask, even after an interrupted shield.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>

#include "../core/json.hpp"
#include "affine/set_grammar.hpp"
#include "procfs.hpp"
#include "settle.hpp"

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

std::string parent_dir(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

Result<void> make_dirs(const std::string& dir) {
    if (dir.empty() || dir == "/" || dir == ".") return {};
    struct stat st{};
    if (::stat(dir.c_str(), &st) == 0) return {};
    if (auto parent = make_dirs(parent_dir(dir)); !parent) return parent;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return failure(fmt::format("create {}: {}", dir, std::strerror(errno)), errno);
    return {};
}

// Writes the journal to a temporary file, fsyncs it, renames it into place and
// fsyncs the directory: the state file is either the old or the new journal.
Result<void> write_journal(const std::string& path, const CpuSet& cpus, const std::vector<JournalEntry>& entries) {
    detail::Json j;
    j["cpus"] = to_list(cpus);
    j["created"] = static_cast<long long>(std::time(nullptr));
    detail::Json tasks = detail::Json::array();
    for (const auto& e : entries)
        tasks.push_back({{"tid", e.tid}, {"start_time", e.start_time}, {"name", e.name}, {"mask", to_list(e.before)}});
    j["tasks"] = std::move(tasks);
    std::string text = j.dump(1) + "\n";

    if (auto dirs = make_dirs(parent_dir(path)); !dirs) return dirs;
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return failure(fmt::format("write the shield journal {}: {}", tmp, std::strerror(errno)), errno);
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return failure(fmt::format("write the shield journal {}: {}", tmp, std::strerror(err)), err);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0)
        return failure(fmt::format("sync the shield journal {}: {}", tmp, std::strerror(errno)), errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0)
        return failure(fmt::format("rename {} to {}: {}", tmp, path, std::strerror(errno)), errno);
    int dfd = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return {};
}

Result<std::vector<JournalEntry>> read_journal(const std::string& path, const std::string& text) {
    std::vector<JournalEntry> entries;
    try {
        auto j = detail::Json::parse(text);
        for (const auto& t : j.at("tasks")) {
            JournalEntry e;
            e.tid = t.at("tid").get<int>();
            e.start_time = t.at("start_time").get<unsigned long long>();
            e.name = t.value("name", "");
            auto mask = parse_id_list(t.at("mask").get<std::string>());
            if (!mask) return failure(fmt::format("{}: bad mask for tid {}", path, e.tid));
            e.before = *mask;
            entries.push_back(std::move(e));
        }
    } catch (const std::exception& ex) {
        return failure(fmt::format("{} is not a shield journal: {}", path, ex.what()));
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
    if (::access(report.state_file.c_str(), F_OK) == 0)
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
        if (auto w = write_journal(report.state_file, cpus, journal); !w) return std::unexpected(w.error());
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
        if (auto w = write_journal(report.state_file, cpus, journal); !w) return std::unexpected(w.error());
    std::ranges::sort(report.tasks, {}, &ShieldTaskOutcome::tid);
    return report;
}

Result<UndoReport> undo_shield(const Env& env, const std::string& state_file) {
    UndoReport report;
    report.state_file = state_file.empty() ? default_shield_state_file() : state_file;
    int fd = ::open(report.state_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            report.nothing_to_undo = true;
            return report;
        }
        return failure(fmt::format("read {}: {}", report.state_file, std::strerror(errno)), errno);
    }
    std::string text;
    char buf[65536];
    ssize_t n = 0;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
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
    if (report.failures.empty() && ::unlink(report.state_file.c_str()) != 0 && errno != ENOENT)
        return failure(fmt::format("remove {}: {}", report.state_file, std::strerror(errno)), errno);
    return report;
}

}  // namespace linux_backend
}  // namespace affine
