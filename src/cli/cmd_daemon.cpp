// affine daemon: run the soft-affinity daemon, or ask the running one for its
// status or to reload its configuration.
#include <fmt/format.h>

#include <cerrno>

#include "daemon/control_client.hpp"
#include "daemon/daemon.hpp"
#include "daemon/state_dir.hpp"
#include "linux/procfs.hpp"
#include "linux/sysfs.hpp"
#include "nri/container_status.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "command.hpp"
#include "help_format.hpp"
#include "json_output.hpp"
#include "plan_text.hpp"
#include "soft_cli.hpp"

namespace affine::cli {
namespace {

void print_placements(const protocol::DaemonStatus& s) {
    if (s.rules == 0) {
        fmt::print("placement rules: none (nothing is placed automatically)\n");
        return;
    }
    fmt::print("placement rules: {}; new processes seen through {}\n", s.rules, s.process_events);
    if (s.placements.empty()) fmt::print("no workload placed by rule\n");
    for (const auto& p : s.placements) {
        fmt::print("pid {} ({}), rule '{}': {}{}, since {}: {}\n", p.pid, p.command, p.rule,
                   p.nodes.empty() ? std::string("not placed yet") : "node " + to_list(p.nodes),
                   p.cpus.empty() ? std::string() : ", soft CPUs " + to_list(p.cpus), clock_time(p.since), p.reason);
        std::uint64_t total = 0;
        std::uint64_t home = 0;
        for (auto [n, b] : p.memory_bytes_per_node) {
            total += b;
            if (p.nodes.contains(n) || p.memory_nodes.contains(n)) home += b;
        }
        NodeSet attached = p.memory_nodes - p.nodes;
        fmt::print("  memory: {} resident, {:.1f}% on its nodes{}, {} moved{}\n", format_size(total),
                   total > 0 ? 100.0 * static_cast<double>(home) / static_cast<double>(total) : 100.0,
                   attached.empty() ? std::string() : fmt::format(" (with the memory-only node{} {})", attached.count() == 1 ? "" : "s", to_list(attached)),
                   format_size(p.moved_bytes), p.widened ? "; widened now: its memory stays put" : "");
        if (!p.memory_bytes_per_tier.empty())
            fmt::print("  memory per tier: {} (memory_tier {}: {})\n", memory_tiers_text(p.memory_bytes_per_tier),
                       p.memory_tier, p.memory_tier == "top" ? "the fastest tier only" : "the fastest first");
    }
    if (!s.placement_events.empty()) {
        fmt::print("recent placements and moves:\n");
        for (const auto& e : s.placement_events) fmt::print("  {} {}\n", clock_time(e.when), e.line);
    }
}

// The containers `affine nri` placed: its nri.json in the state directory, which it
// removes when it stops (a plugin killed with SIGKILL leaves its last one).
struct NriContainers {
    nri::PluginStatus status;
    bool plugin_running = false;  // its pid is still the plugin (start time), or an affine process
};

// The plugin's status file: nullopt when no plugin wrote one.
Result<std::optional<nri::PluginStatus>> read_nri_status(const std::string& path) {
    auto text = daemon::read_file_nofollow(path);
    if (!text) return std::unexpected(text.error());
    if (!*text) return std::nullopt;
    auto status = nri::plugin_status_from_json(detail::Json::parse(**text, nullptr, false), path);
    if (!status) return std::unexpected(status.error());
    return std::move(*status);
}

// nullopt when no plugin wrote the file, or this user may not read it (it is root's);
// a file that cannot be read otherwise, or is not such a status, is said on stderr.
std::optional<NriContainers> nri_containers() {
    auto status = read_nri_status(nri::plugin_status_path(daemon::state_dir_path("")));
    if (!status) {
        if (status.error().code != EACCES && status.error().code != EPERM)
            fmt::print(stderr, "affine: warning: containers placed by affine nri not shown: {}\n",
                       status.error().message);
        return std::nullopt;
    }
    if (!*status) return std::nullopt;
    auto stat = linux_backend::read_process_stat(linux_backend::SysFs(), (*status)->plugin_pid);
    // The file of an earlier affine has no start time: an affine process with that pid.
    std::uint64_t start = (*status)->plugin_start_time;
    bool running = stat && (start != 0 ? stat->start_time == start : stat->comm == "affine");
    return NriContainers{std::move(**status), running};
}

void print_nri_containers(const NriContainers& n) {
    const nri::PluginStatus& s = n.status;
    fmt::print("containers placed by affine nri (pid {}{}): {}\n", s.plugin_pid,
               n.plugin_running ? "" : ", not running: as it last recorded them",
               s.containers.empty() ? std::string("none") : std::to_string(s.containers.size()));
    for (const auto& c : s.containers)
        fmt::print("  {} container {} ({}): nodes {}, cpus {}{}, mems {}: {}\n", c.pod, c.name, c.id.substr(0, 12),
                   to_list(c.nodes), to_list(c.cpus), c.mode == "exclusive" ? " exclusive" : "", to_list(c.mems), c.why);
}

int print_status(bool json) {
    protocol::Request r;
    r.op = protocol::Op::status;
    auto body = value_or_throw(daemon::ask_daemon(r).answer);
    auto containers = nri_containers();
    if (json) {
        if (containers) {
            body["status"]["nri"] = nri::to_json(containers->status);
            body["status"]["nri"]["plugin_running"] = containers->plugin_running;
        }
        print_json(body["status"]);
        return 0;
    }
    auto s = value_or_throw(protocol::daemon_status_from_json(body["status"]));
    fmt::print("affine daemon pid {}: configuration {}, interval {} s, on_stop {}\n", s.daemon_pid, s.config,
               s.interval_seconds, s.on_stop);
    if (s.workloads.empty()) fmt::print("no managed workloads\n");
    for (const auto& w : s.workloads) print_workload(w);
    if (s.other_users_workloads > 0)
        fmt::print("{} workload{} of other users not shown (root or CAP_SYS_PTRACE sees them)\n",
                   s.other_users_workloads, s.other_users_workloads == 1 ? "" : "s");
    if (!s.releases.empty()) {
        fmt::print("recent releases:\n");
        for (const auto& e : s.releases) fmt::print("  {} {}\n", clock_time(e.when), e.reason);
    }
    print_placements(s);
    if (containers) print_nri_containers(*containers);
    return 0;
}

}  // namespace

Command daemon_command() {
    return {"daemon", "run the daemon: soft affinity, placement rules (status, reload: ask the running one)", [](CLI::App& sub, const CommandLine&) -> Action {
                struct Options {
                    daemon::DaemonOptions run;
                    bool json = false;
                };
                auto opt = std::make_shared<Options>();
                set_usage(sub, "daemon [--config FILE] [--state-dir DIR]\n"
                               "daemon status [--json[=compact|pretty]] [--state-dir DIR]\n"
                               "daemon reload [--state-dir DIR]");
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
                        auto body = value_or_throw(daemon::ask_daemon(r).answer);
                        fmt::print("configuration reloaded from {}\n", body.value("config", std::string("?")));
                        return 0;
                    }
                    opt->run.config_given = self->count("--config") > 0;
                    if (auto ran = daemon::run_daemon(opt->run); !ran) throw_error(ran.error());
                    return 0;
                };
            }};
}

}  // namespace affine::cli
