// Reading and setting the CPU affinity of threads: show, pin, bind.
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "affine/set_grammar.hpp"
#include "procfs.hpp"
#include "settle.hpp"

namespace affine {

int PinReport::count(PinResult r) const {
    return static_cast<int>(std::ranges::count(threads, r, &ThreadPinOutcome::result));
}

namespace linux_backend {
namespace {

// hwloc retries 10 times; a process that keeps starting threads needs more sweeps
// (7 to 40 for thread_churn in the 4-node test guest), each of which costs a
// directory listing and a read of each new thread's mask.
constexpr int max_pin_sweeps = 500;

std::unexpected<Error> no_such_task(int id) {
    return failure(fmt::format("no such task: {} (no /proc/{})", id, id), ESRCH);
}


}  // namespace

Result<ProcessPlacement> read_process_placement(const Env& env, int id, ThreadSelection selection) {
    auto tgid = thread_group_of(env.fs, id);
    if (!tgid) return no_such_task(id);
    ProcessPlacement p;
    p.pid = *tgid;
    auto status = read_task_status(env.fs, p.pid);
    if (!status) return no_such_task(p.pid);
    p.command = status_field(*status, "Name").value_or("");
    if (auto uids = status_uids(*status)) p.uid = uids->real;
    std::vector<int> all_tids = list_threads(env.fs, p.pid);
    p.thread_count = static_cast<int>(all_tids.size());
    std::vector<int> tids = selection == ThreadSelection::all ? all_tids : std::vector<int>{id};
    CpuSet may_run;
    for (int tid : tids) {
        auto mask = env.sys.get_affinity(tid);
        if (!mask) {
            if (mask.error() == ESRCH) continue;  // exited while we looked
            return failure(fmt::format("read the affinity of tid {}: {}", tid,
                                       explain_affinity_error(env, tid, {}, mask.error())),
                           mask.error());
        }
        ThreadPlacement t{tid, "", *mask, std::nullopt};
        if (auto st = read_task_stat(env.fs, tid)) {
            t.name = st->comm;
            t.last_cpu = st->processor;
        }
        may_run |= *mask;
        p.threads.push_back(std::move(t));
    }
    if (p.threads.empty()) return no_such_task(id);
    TaskCpuset cs = read_task_cpuset(env, p.pid);
    p.cpuset = cs.path;
    p.cpuset_cpus = cs.cpus;
    p.allowed_nodes = read_allowed_nodes(env, p.pid);
    if (auto maps = env.fs.read(fmt::format("/proc/{}/numa_maps", p.pid))) {
        p.mappings = parse_numa_maps(*maps);
        p.memory_bytes_per_node = bytes_per_node(p.mappings);
    } else {
        p.memory_note = fmt::format("/proc/{}/numa_maps cannot be read: {}", p.pid,
                                    env.fs.exists(fmt::format("/proc/{}", p.pid))
                                        ? "no permission (it needs the rights of ptrace: same user or root)"
                                        : "the process exited");
    }
    p.local_nodes = env.host.nodes_of(may_run);
    std::uint64_t total = 0;
    std::uint64_t local = 0;
    for (auto [node, bytes] : p.memory_bytes_per_node) {
        total += bytes;
        if (p.local_nodes.contains(node)) local += bytes;
    }
    if (total > 0) p.local_memory_share = static_cast<double>(local) / static_cast<double>(total);
    p.numa_balancing = env.host.numa_balancing;
    return p;
}

Result<PinReport> pin_threads(const Env& env, int pid, const CpuSet& cpus, ThreadScope scope) {
    auto tgid = thread_group_of(env.fs, pid);
    if (!tgid) return no_such_task(pid);
    if (auto ok = check_cpus_usable(env.host, cpus); !ok) {
        Error e = ok.error();
        e.message = fmt::format("pin {} to CPUs {}: {}", describe_task(env.fs, pid), to_list(cpus), e.message);
        return std::unexpected(e);
    }
    TaskCpuset cs = read_task_cpuset(env, pid);
    CpuSet outside = cpus - cs.cpus;
    if (!outside.empty())
        return failure(fmt::format("pin {} to CPUs {}: CPU {} is outside its cpuset (cpuset {} allows CPUs {})",
                                   describe_task(env.fs, pid), to_list(cpus), to_list(outside),
                                   cs.path.empty() ? "/" : cs.path, to_list(cs.cpus)),
                       EINVAL);

    PinReport report;
    report.pid = scope == ThreadScope::all_threads ? *tgid : pid;
    report.cpus = cpus;

    // Sets one thread and reads its mask back: what holds is what the kernel says.
    auto set_one = [&](ThreadPinOutcome& o) {
        if (auto r = env.sys.set_affinity(o.tid, cpus); !r) {
            o.code = r.error();
            o.result = r.error() == ESRCH ? PinResult::vanished : PinResult::failed;
            if (o.result == PinResult::failed) o.error = explain_affinity_error(env, o.tid, cpus, r.error());
            o.after = o.before;
            return;
        }
        auto now = env.sys.get_affinity(o.tid);
        if (!now) {
            if (now.error() == ESRCH) {
                o.result = PinResult::vanished;
            } else {
                o.result = PinResult::failed;
                o.code = now.error();
                o.error = fmt::format("set, but reading it back failed: {}",
                                      explain_affinity_error(env, o.tid, cpus, now.error()));
            }
            return;
        }
        o.after = *now;
        if (*now != cpus) {
            o.result = PinResult::failed;
            o.error = fmt::format("the kernel holds CPUs {} instead of {} (its cpuset or the online CPUs changed "
                                  "meanwhile)",
                                  to_list(*now), to_list(cpus));
        }
    };

    if (scope == ThreadScope::named_thread) {
        ThreadPinOutcome o;
        o.tid = pid;
        auto before = env.sys.get_affinity(pid);
        if (!before && before.error() == ESRCH) return no_such_task(pid);
        if (before) o.before = *before;
        set_one(o);
        if (o.result == PinResult::vanished) return no_such_task(pid);
        report.threads.push_back(std::move(o));
        report.rounds = 1;
    } else {
        // Each sweep lists the threads and reads the mask of each thread the
        // previous listing did not hold, setting it when it differs. A thread cloned
        // from one already set inherits the mask and needs nothing; one cloned from a
        // thread not yet set is caught by a later sweep. A thread id the kernel
        // recycles was absent from a listing in between (ids are handed out in
        // turn, so reuse takes a wrap of pid_max), so it is read again as new.
        std::unordered_map<int, std::size_t> outcome_of;  // tid -> index in report.threads
        std::unordered_set<int> listed;                   // the last listing
        auto sweep = [&]() -> Result<Sweep> {
            Sweep done;
            std::unordered_set<int> now;
            for (int tid : list_threads(env.fs, *tgid)) {
                now.insert(tid);
                if (listed.contains(tid)) continue;
                done.new_tasks = true;
                auto mask = env.sys.get_affinity(tid);
                auto [it, first_time] = outcome_of.try_emplace(tid, report.threads.size());
                if (first_time) report.threads.emplace_back();
                ThreadPinOutcome& o = report.threads[it->second];
                o = ThreadPinOutcome{};
                o.tid = tid;
                if (!mask) {
                    o.code = mask.error();
                    if (mask.error() == ESRCH) {
                        o.result = PinResult::vanished;  // exited since the listing
                        done.exited_unchanged = true;
                    } else {
                        o.result = PinResult::failed;
                        o.error = fmt::format("reading its mask failed: {}",
                                              explain_affinity_error(env, tid, cpus, mask.error()));
                    }
                    continue;
                }
                o.before = *mask;
                o.after = *mask;
                if (*mask != cpus) {
                    set_one(o);
                    if (o.result == PinResult::pinned) done.changed.push_back(tid);
                    if (o.result == PinResult::vanished) done.exited_unchanged = true;
                }
            }
            listed = std::move(now);
            return done;
        };
        auto settling = sweep_until_settled(env, max_pin_sweeps, sweep);
        if (!settling) return std::unexpected(settling.error());
        report.rounds = settling->sweeps;
        report.settled = settling->settled;
        if (report.threads.empty()) return no_such_task(pid);
        // A thread missing from the last listing has exited.
        for (auto& o : report.threads)
            if (!listed.contains(o.tid)) o.result = PinResult::vanished;
    }
    std::ranges::sort(report.threads, {}, &ThreadPinOutcome::tid);
    return report;
}

Result<BindReport> bind_task(const Env& env, int pid, const CpuSet& mask) {
    if (mask.empty()) return failure("mask 0 names no CPU: a zero mask always fails", EINVAL);
    if (!env.fs.exists(task_dir(pid))) return no_such_task(pid);
    BindReport r;
    r.pid = pid;
    if (auto st = read_task_stat(env.fs, pid)) r.command = st->comm;
    CpuSet existing = mask & env.host.all_cpus();
    // A CPU the host does not have is refused as the set grammar refuses it: a mask
    // with stray bits is most often a pid and a mask given in taskset's order.
    if (CpuSet missing = mask - existing; !missing.empty())
        return usage_error(fmt::format("mask {} names CPU {}, which this host does not have (CPUs: {}; "
                                       "bind takes PID MASK, taskset's order is MASK PID)",
                                       to_hex(mask), to_list(missing), to_list(env.host.all_cpus())));
    CpuSet usable = existing & env.host.online_cpus();
    r.offline = existing - usable;
    if (usable.empty())
        return failure(fmt::format("mask {} names only offline CPUs {} (online: {})", to_hex(mask), to_list(existing),
                                   to_list(env.host.online_cpus())),
                       EINVAL);
    auto before = env.sys.get_affinity(pid);
    if (!before) return failure(explain_affinity_error(env, pid, usable, before.error()), before.error());
    r.before = *before;
    TaskCpuset cs = read_task_cpuset(env, pid);
    r.outside_cpuset = usable - cs.cpus;
    if (auto set = env.sys.set_affinity(pid, usable); !set)
        return failure(fmt::format("bind pid {} to {}: {}", pid, to_list(usable),
                                   explain_affinity_error(env, pid, usable, set.error())),
                       set.error());
    auto after = env.sys.get_affinity(pid);
    if (!after) return failure(explain_affinity_error(env, pid, usable, after.error()), after.error());
    r.after = *after;
    return r;
}

}  // namespace linux_backend
}  // namespace affine
