// Memory policy for launched commands, and migration of a running process's pages.
#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "procfs.hpp"

namespace affine::linux_backend {
namespace {

std::string kernel_release() {
    utsname u{};
    if (::uname(&u) == 0) return u.release;
    return "this kernel";
}

std::string mode_name(int mode) {
    switch (mode) {
    case mpol::default_: return "default";
    case mpol::preferred: return "preferred";
    case mpol::bind: return "bind";
    case mpol::interleave: return "interleave";
    case mpol::local: return "local";
    case mpol::preferred_many: return "preferred-many";
    case mpol::weighted_interleave: return "weighted-interleave";
    default: return fmt::format("mode {}", mode);
    }
}

Result<std::map<int, std::uint64_t>> pages_per_node(const Env& env, int pid) {
    auto text = env.fs.read(fmt::format("/proc/{}/numa_maps", pid));
    if (!text) {
        if (!env.fs.exists(fmt::format("/proc/{}", pid)))
            return failure(fmt::format("no such process: {}", pid), ESRCH);
        return failure(fmt::format("cannot read /proc/{}/numa_maps: {}", pid, explain_permission(env, pid)), EPERM);
    }
    std::map<int, std::uint64_t> pages;
    std::uint64_t page = page_bytes();
    for (auto [node, bytes] : bytes_per_node(parse_numa_maps(*text))) pages[node] = bytes / page;
    return pages;
}

// Gone, or a zombie: its memory is released and its numa_maps reads empty.
bool has_exited(const Env& env, int pid) {
    auto st = read_task_stat(env.fs, pid);
    return !st || st->state == 'Z' || st->state == 'X';
}

std::unexpected<Error> exited_meanwhile(int pid, const NodeSet& to) {
    return failure(fmt::format("move the pages of pid {} to node {}: the process exited meanwhile", pid, to_list(to)),
                   ESRCH);
}

}  // namespace

Result<AppliedPolicy> apply_launch_policy(const Env& env, const LaunchPolicy& policy) {
    auto resolved = resolve_launch_policy(policy, env.host);
    if (!resolved) return std::unexpected(resolved.error());
    AppliedPolicy applied;
    applied.notes = resolved->notes;
    int self = env.sys.self_pid();

    if (resolved->cpus) {
        TaskCpuset cs = read_task_cpuset(env, self);
        CpuSet outside = *resolved->cpus - cs.cpus;
        if (!outside.empty())
            return usage_error(fmt::format("CPU {} is outside this process's cpuset (cpuset {} allows CPUs {})",
                                           to_list(outside), cs.path.empty() ? "/" : cs.path, to_list(cs.cpus)));
        if (auto r = env.sys.set_affinity(0, *resolved->cpus); !r)
            return failure(fmt::format("set the affinity to CPUs {}: {}", to_list(*resolved->cpus),
                                       explain_affinity_error(env, self, *resolved->cpus, r.error())),
                           r.error());
    }

    if (resolved->mode) {
        int mode = mpol::default_;
        switch (*resolved->mode) {
        case MemPolicy::local: mode = mpol::local; break;
        case MemPolicy::bind: mode = mpol::bind; break;
        case MemPolicy::interleave: mode = mpol::interleave; break;
        case MemPolicy::weighted_interleave: mode = mpol::weighted_interleave; break;
        case MemPolicy::preferred:
            mode = resolved->nodes.count() == 1 ? mpol::preferred : mpol::preferred_many;
            break;
        case MemPolicy::automatic: break;
        }
        if (auto r = env.sys.set_mempolicy(mode, resolved->nodes); !r) {
            if (mode == mpol::preferred_many && r.error() == EINVAL)
                return failure(fmt::format("--mem-policy preferred with several nodes ({}) needs "
                                           "MPOL_PREFERRED_MANY, which kernel {} does not have (Linux 5.15+); "
                                           "give one node, or use bind or interleave",
                                           to_list(resolved->nodes), kernel_release()),
                               EINVAL);
            if (mode == mpol::weighted_interleave && r.error() == EINVAL)
                return failure(fmt::format("--mem-policy weighted-interleave needs MPOL_WEIGHTED_INTERLEAVE, which "
                                           "kernel {} does not have (Linux 6.9+); use interleave",
                                           kernel_release()),
                               EINVAL);
            if (mode == mpol::local && r.error() == EINVAL) {
                // MPOL_LOCAL is 3.8+; MPOL_DEFAULT is the same local allocation.
                if (auto d = env.sys.set_mempolicy(mpol::default_, {}); !d)
                    return failure(fmt::format("set the memory policy to local: {}", std::strerror(d.error())),
                                   d.error());
                applied.notes.push_back("this kernel has no MPOL_LOCAL; MPOL_DEFAULT (local allocation) used");
            } else {
                return failure(fmt::format("set the memory policy {} on nodes {}: {} (nodes must be online, "
                                           "have memory and be in Mems_allowed_list {})",
                                           mode_name(mode), to_list(resolved->nodes), std::strerror(r.error()),
                                           to_list(read_allowed_nodes(env, self))),
                               r.error());
            }
        }
    }

    // Read back what holds.
    auto cpus = env.sys.get_affinity(0);
    if (!cpus) return failure(fmt::format("read back the affinity: {}", std::strerror(cpus.error())), cpus.error());
    applied.cpus = *cpus;
    if (resolved->cpus && *cpus != *resolved->cpus)
        return failure(fmt::format("the kernel holds CPUs {} instead of {}", to_list(*cpus), to_list(*resolved->cpus)));
    auto pol = env.sys.get_mempolicy();
    if (!pol)
        return failure(fmt::format("read back the memory policy: {}", std::strerror(pol.error())), pol.error());
    applied.kernel_mode = mode_name(pol->mode);
    applied.nodes = pol->nodes;
    if (resolved->mode && *resolved->mode != MemPolicy::local && pol->nodes != resolved->nodes)
        return failure(fmt::format("the kernel holds memory policy {} on nodes {} instead of nodes {}",
                                   applied.kernel_mode, to_list(pol->nodes), to_list(resolved->nodes)));
    return applied;
}

ExecFailure exec_with_policy(const Env& env, const LaunchPolicy& policy, const std::vector<std::string>& argv) {
    if (argv.empty()) return {Error{ErrorKind::usage, "no command given (affine run [OPTIONS] -- COMMAND...)", 0}, 2};
    auto applied = apply_launch_policy(env, policy);
    if (!applied) return {applied.error(), applied.error().kind == ErrorKind::usage ? 2 : 1};
    int err = env.sys.exec(argv);
    bool not_found = err == ENOENT || err == ENOTDIR;
    return {Error{ErrorKind::failed,
                  fmt::format("cannot execute {}: {}", argv.front(),
                              not_found ? "command not found" : std::strerror(err)),
                  err},
            not_found ? 127 : 126};
}

Result<MigrationReport> migrate_process_memory(const Env& env, int pid, const NodeSet& to) {
    if (to.empty()) return usage_error("no target node given");
    NodeSet missing = to - env.host.all_nodes();
    if (!missing.empty())
        return usage_error(fmt::format("node {} does not exist on this host (nodes: {})", to_list(missing),
                                       to_list(env.host.all_nodes())));
    NodeSet memoryless = to - env.host.nodes_with_memory();
    if (!memoryless.empty())
        return usage_error(fmt::format("node {} has no memory, so no page can move there (nodes with memory: {})",
                                       to_list(memoryless), to_list(env.host.nodes_with_memory())));
    if (!env.fs.exists(task_dir(pid))) return failure(fmt::format("no such process: {}", pid), ESRCH);
    if (has_exited(env, pid))
        return failure(fmt::format("pid {} has exited (its parent has not reaped it yet): it has no memory to move",
                                   pid),
                       ESRCH);
    NodeSet allowed = read_allowed_nodes(env, pid);
    NodeSet outside = to - allowed;
    if (!outside.empty())
        return failure(fmt::format("node {} is outside the cpuset of {} (Mems_allowed_list {})", to_list(outside),
                                   describe_task(env.fs, pid), to_list(allowed)),
                       EINVAL);

    MigrationReport report;
    report.pid = pid;
    report.to = to;
    // Only pages outside the targets move: with old = new, or overlapping sets of the
    // same size, the kernel would shuffle pages between target nodes too.
    report.from = (env.host.nodes_with_memory() & allowed) - to;
    auto before = pages_per_node(env, pid);
    if (!before) return std::unexpected(before.error());
    report.pages_before = *before;
    if (!report.from.empty()) {
        auto r = env.sys.migrate_pages(pid, report.from, to);
        if (!r && has_exited(env, pid)) return exited_meanwhile(pid, to);
        if (!r) {
            std::string why = r.error() == EPERM   ? explain_permission(env, pid)
                              : r.error() == ESRCH ? fmt::format("no such process: {}", pid)
                                                   : std::string(std::strerror(r.error()));
            return failure(fmt::format("move the pages of pid {} to node {}: {}", pid, to_list(to), why), r.error());
        }
        report.pages_not_moved = *r;
    }
    auto after = pages_per_node(env, pid);
    // An exited process's numa_maps reads empty: that is no table of pages moved.
    if (has_exited(env, pid)) return exited_meanwhile(pid, to);
    if (!after) return std::unexpected(after.error());
    report.pages_after = *after;
    return report;
}

}  // namespace affine::linux_backend
