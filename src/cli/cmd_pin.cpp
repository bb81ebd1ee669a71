// affine pin: set the hard affinity of a thread or of every thread of a process.
#include <fmt/format.h>

#include "affine/host.hpp"
#include "affine/linux.hpp"
#include "affine/set_grammar.hpp"
#include "command.hpp"
#include "help_format.hpp"
#include "linux_cli.hpp"
#include "soft_cli.hpp"

namespace affine::cli {
namespace {

// Prints the outcome; returns whether every thread holds the mask.
bool print_pin(const PinReport& r, ThreadScope scope) {
    if (scope == ThreadScope::named_thread) {
        const auto& o = r.threads.front();
        if (o.result == PinResult::pinned)
            fmt::print("tid {}: CPUs {} -> {}\n", o.tid, o.before ? to_list(*o.before) : "?",
                       o.after ? to_list(*o.after) : "?");
        else
            fmt::print(stderr, "affine: pin tid {} to CPUs {}: {}\n", o.tid, to_list(r.cpus), o.error);
        return r.ok();
    }
    int pinned = r.count(PinResult::pinned);
    int vanished = r.count(PinResult::vanished);
    int failed = r.count(PinResult::failed);
    fmt::print("pid {}: {} thread{} pinned to CPUs {}, each read back{}{}\n", r.pid, pinned, pinned == 1 ? "" : "s",
               to_list(r.cpus), vanished > 0 ? fmt::format("; {} exited meanwhile", vanished) : "",
               fmt::format(" ({} listing{})", r.rounds, r.rounds == 1 ? "" : "s"));
    for (const auto& o : r.threads)
        if (o.result == PinResult::failed) fmt::print(stderr, "affine: tid {}: {}\n", o.tid, o.error);
    if (failed > 0) fmt::print(stderr, "affine: pid {}: {} of {} threads failed\n", r.pid, failed, pinned + failed);
    if (pinned == 0 && failed == 0)
        fmt::print(stderr, "affine: pin pid {} to CPUs {}: the process exited before any of its threads was pinned\n",
                   r.pid, to_list(r.cpus));
    if (!r.settled)
        fmt::print(stderr, "affine: pid {}: threads with the old mask kept appearing through {} listings; threads "
                           "started since may have the old mask\n", r.pid, r.rounds);
    return r.ok();
}

// pin --soft CPUS PID...: every positional argument is a task.
template <typename Options>
int pin_soft(const Options& opt, const Topology& host) {
    if (opt.migrate) throw_error(usage_error("--migrate cannot be combined with --soft"));
    std::vector<int> ids;
    if (!opt.cpus.empty()) ids.push_back(parse_task_id_or_throw(opt.cpus));
    for (const auto& text : opt.ids) ids.push_back(parse_task_id_or_throw(text));
    if (ids.empty()) throw_error(usage_error("pin --soft needs at least one PID or TID"));
    auto cpus = parse_soft_cpus_or_throw(opt.soft, host);
    auto workloads = request_soft_affinity(ids, cpus, opt.all_threads, false);
    if (!cpus) {
        for (int id : ids) fmt::print("{}: soft affinity removed, its CPUs given back\n", id);
        return 0;
    }
    for (const auto& w : workloads) print_workload(w);
    return 0;
}

}  // namespace

Command pin_command() {
    return {"pin", "set the hard affinity of threads (one, or all with --all-threads)", [](CLI::App& sub, const CommandLine&) -> Action {
                struct Options {
                    std::string cpus;
                    std::vector<std::string> ids;
                    bool all_threads = false;
                    bool migrate = false;
                    std::string soft;
                };
                auto opt = std::make_shared<Options>();
                set_usage(sub, "pin CPUS PID... [--all-threads] [--migrate]\npin --soft CPUS|all PID... [--all-threads]");
                sub.add_option("CPUS", opt->cpus, "CPU set (0-3, node:1, all,^0, 0xf); not with --soft");
                sub.add_option("PID", opt->ids, "thread or process ids");
                sub.add_option("--soft", opt->soft,
                               "set soft affinity instead, through the daemon: the threads prefer these CPUs and "
                               "spill to the rest of their hard affinity when they are busy; \"all\" removes it");
                sub.add_flag("--all-threads", opt->all_threads, "every thread of each process, race-free");
                sub.add_flag("--migrate", opt->migrate, "also move the process's pages to the nodes of CPUS");
                CLI::App* self = &sub;
                return [opt, self] {
                    Topology host = load_host_or_throw("live");
                    if (self->count("--soft") > 0) return pin_soft(*opt, host);
                    if (opt->cpus.empty() || opt->ids.empty())
                        throw_error(usage_error("pin needs CPUS and at least one PID"));
                    CpuSet cpus = value_or_throw(parse_cpu_set(opt->cpus, host));
                    std::vector<int> ids;
                    for (const auto& text : opt->ids) ids.push_back(parse_task_id_or_throw(text));
                    ThreadScope scope = opt->all_threads ? ThreadScope::all_threads : ThreadScope::named_thread;
                    // A hard pin replaces a soft request: end it through the daemon
                    // first (it would release the thread at its next check anyway), and say so.
                    for (const auto& [pid, w] : managed_workloads(ids)) {
                        request_soft_affinity({pid}, std::nullopt, w.all_threads, false);
                        fmt::print(stderr, "affine: pid {} ({}): its soft affinity (CPUs {}, through the daemon) "
                                           "ended: a hard pin replaces it\n",
                                   pid, w.command, to_list(w.soft));
                    }
                    bool ok = true;
                    for (int id : ids) {
                        auto report = pin_threads(id, cpus, scope);
                        if (!report) {
                            fmt::print(stderr, "affine: {}\n", report.error().message);
                            if (report.error().kind == ErrorKind::usage) return 2;
                            ok = false;
                            continue;
                        }
                        ok = print_pin(*report, scope) && ok;
                        if (opt->migrate) {
                            NodeSet nodes = host.nodes_of(cpus) & host.nodes_with_memory();
                            if (nodes.empty()) {
                                fmt::print(stderr, "affine: pid {}: the nodes of CPUs {} have no memory; pages not "
                                                   "moved\n", id, to_list(cpus));
                                ok = false;
                                continue;
                            }
                            auto moved = migrate_process_memory(report->pid, nodes);
                            if (!moved) {
                                fmt::print(stderr, "affine: {}\n", moved.error().message);
                                ok = false;
                                continue;
                            }
                            print_migration(*moved);
                        }
                    }
                    return ok ? 0 : 1;
                };
            }};
}

}  // namespace affine::cli
