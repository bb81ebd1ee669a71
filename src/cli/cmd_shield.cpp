// affine shield: give CPUs to one workload by moving every other task off them.
#include <fmt/format.h>

#include <map>

#include "affine/host.hpp"
#include "affine/linux.hpp"
#include "affine/set_grammar.hpp"
#include "command.hpp"
#include "help_format.hpp"

namespace affine::cli {
namespace {

int print_shield(const ShieldReport& r) {
    int moved = r.count(ShieldAction::moved);
    int failed = r.count(ShieldAction::failed);
    int kthreads = 0;
    for (const auto& t : r.tasks)
        if (t.action == ShieldAction::moved && t.kernel_thread) ++kthreads;
    fmt::print("shielded CPUs {}: {} task{} moved off them ({} kernel threads); journal {}\n", to_list(r.cpus), moved,
               moved == 1 ? "" : "s", kthreads, r.state_file);
    std::map<std::string, int> skipped;
    for (const auto& t : r.tasks) {
        if (t.action == ShieldAction::skipped) {
            // Group kernel threads by reason; name user tasks that stay.
            if (t.kernel_thread)
                ++skipped[t.reason];
            else
                fmt::print("  left: task {} ({}): {}\n", t.tid, t.name, t.reason);
        }
        if (t.action == ShieldAction::failed) fmt::print(stderr, "affine: task {} ({}): {}\n", t.tid, t.name, t.reason);
    }
    for (const auto& [reason, n] : skipped) fmt::print("  left: {} kernel threads: {}\n", n, reason);
    if (failed > 0) fmt::print(stderr, "affine: {} tasks could not be moved\n", failed);
    if (!r.settled)
        fmt::print(stderr, "affine: tasks kept appearing on CPUs {} while affine moved them off; tasks started since "
                           "may still run there (affine shield --undo restores what was moved)\n",
                   to_list(r.cpus));
    return failed > 0 || !r.settled ? 1 : 0;
}

}  // namespace

Command shield_command() {
    return {"shield", "move every other task off CPUS (journalled; --undo restores)", [](CLI::App& sub, const CommandLine& line) -> Action {
                struct Options {
                    std::string cpus;
                    bool kthreads = false;
                    bool exec = false;
                    bool undo = false;
                    std::string state;
                };
                auto opt = std::make_shared<Options>();
                set_usage(sub, "shield CPUS [--kthreads] [--state FILE] [--exec -- COMMAND [ARGS...]]\n"
                               "shield --undo [--state FILE]");
                sub.add_option("CPUS", opt->cpus, "CPUs to shield");
                sub.add_flag("--kthreads", opt->kthreads, "also move kernel threads that may move");
                sub.add_flag("--exec", opt->exec, "then run COMMAND on the shielded CPUs: shield CPUS --exec -- CMD...")
                    ->option_text("-- COMMAND...");
                sub.add_flag("--undo", opt->undo, "restore every task's previous mask from the journal");
                sub.add_option("--state", opt->state,
                               "journal file (default $AFFINE_STATE_DIR/shield.json or /run/affine/shield.json)");
                return [opt, &line]() -> int {
                    const std::vector<std::string>& command = line.words;
                    if (opt->undo) {
                        if (!opt->cpus.empty() || !command.empty() || opt->exec || opt->kthreads)
                            throw_error(usage_error("--undo takes no CPUs or other options"));
                        UndoReport u = value_or_throw(undo_shield(opt->state));
                        if (u.nothing_to_undo) {
                            fmt::print("no shield to undo ({} does not exist)\n", u.state_file);
                            return 0;
                        }
                        fmt::print("shield undone: {} tasks restored, {} no longer exist\n", u.restored, u.gone);
                        if (u.restored_without_offline > 0)
                            fmt::print("  {} of them without CPU {}, offline now: the kernel keeps no offline CPU "
                                       "in a mask\n", u.restored_without_offline, to_list(u.offline_left_out));
                        for (const auto& f : u.failures) fmt::print(stderr, "affine: {}\n", f);
                        if (!u.failures.empty())
                            fmt::print(stderr, "affine: journal {} kept; run --undo again\n", u.state_file);
                        return u.failures.empty() ? 0 : 1;
                    }
                    if (opt->cpus.empty())
                        throw_error(usage_error("shield needs CPUS (or --undo)"));
                    if (!command.empty() && !opt->exec)
                        throw_error(usage_error(fmt::format("unexpected argument \"{}\"; to run a command use "
                                                            "--exec -- COMMAND...",
                                                            command.front())));
                    if (opt->exec && command.empty())
                        throw_error(usage_error("--exec needs a command: shield CPUS --exec -- CMD..."));
                    Topology host = load_host_or_throw("live");
                    ShieldOptions options;
                    options.cpus = value_or_throw(parse_cpu_set(opt->cpus, host));
                    options.kernel_threads = opt->kthreads;
                    options.state_file = opt->state;
                    int status = print_shield(value_or_throw(shield_cpus(options)));
                    if (!opt->exec) return status;
                    LaunchPolicy policy;
                    policy.cpus = options.cpus;
                    flush_output_or_throw();  // the report, before COMMAND replaces affine
                    ExecFailure f = exec_with_policy(policy, command);
                    fmt::print(stderr, "affine: {}\n", f.error.message);
                    return f.exit_status;
                };
            },
            CommandWords::after_dashes};
}

}  // namespace affine::cli
