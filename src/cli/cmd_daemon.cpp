// affine daemon: run the soft-affinity daemon, or ask the running one for its
// status or to reload its configuration.
#include <fmt/format.h>

#include "../daemon/control_client.hpp"
#include "../daemon/daemon.hpp"
#include "affine/set_grammar.hpp"
#include "command.hpp"
#include "json_output.hpp"
#include "soft_cli.hpp"

namespace affine::cli {
namespace {

int print_status(bool json) {
    protocol::Request r;
    r.op = protocol::Op::status;
    auto body = value_or_throw(daemon::ask_daemon(r));
    if (json) {
        print_json(body["status"]);
        return 0;
    }
    auto s = value_or_throw(protocol::daemon_status_from_json(body["status"]));
    fmt::print("affine daemon pid {}: configuration {}, interval {} s, on_stop {}\n", s.daemon_pid, s.config,
               s.interval_seconds, s.on_stop);
    if (s.workloads.empty()) fmt::print("no managed workloads\n");
    for (const auto& w : s.workloads) print_workload(w);
    if (!s.releases.empty()) {
        fmt::print("recent releases:\n");
        for (const auto& e : s.releases) fmt::print("  {} {}\n", clock_time(e.when), e.reason);
    }
    return 0;
}

}  // namespace

Command daemon_command() {
    return {"daemon", "run the soft-affinity daemon (status, reload: ask the running one)", [](CLI::App& sub) -> Action {
                struct Options {
                    daemon::DaemonOptions run;
                    bool json = false;
                };
                auto opt = std::make_shared<Options>();
                sub.add_option("--config", opt->run.config_path,
                               fmt::format("configuration file (default {})", daemon::default_config_path));
                sub.add_option("--state-dir", opt->run.state_dir,
                               "state directory: lock, journal, socket (default $AFFINE_STATE_DIR or /run/affine)");
                CLI::App* status = sub.add_subcommand("status", "list the workloads the running daemon manages");
                add_json_flag(*status, opt->json, "print JSON");
                CLI::App* reload = sub.add_subcommand("reload", "make the running daemon re-read its configuration");
                sub.require_subcommand(0, 1);
                CLI::App* self = &sub;
                return [opt, self, status, reload]() -> int {
                    if (!opt->run.state_dir.empty() && (status->parsed() || reload->parsed()))
                        ::setenv("AFFINE_STATE_DIR", opt->run.state_dir.c_str(), 1);
                    if (status->parsed()) return print_status(opt->json);
                    if (reload->parsed()) {
                        protocol::Request r;
                        r.op = protocol::Op::reload;
                        auto body = value_or_throw(daemon::ask_daemon(r));
                        fmt::print("configuration reloaded from {}\n", body.value("config", std::string("?")));
                        return 0;
                    }
                    opt->run.config_given = self->count("--config") > 0;
                    if (auto ran = daemon::run_daemon(opt->run); !ran) throw CommandError{ran.error()};
                    return 0;
                };
            }};
}

}  // namespace affine::cli
