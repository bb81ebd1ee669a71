// affine run: start a command with an affinity and memory policy it and its children inherit.
#include <fmt/format.h>

#include "affine/host.hpp"
#include "affine/linux.hpp"
#include "affine/set_grammar.hpp"
#include "command.hpp"

namespace affine::cli {

Command run_command() {
    return {"run", "run a command with CPUs and a memory policy it inherits", [](CLI::App& sub) -> Action {
                struct Options {
                    std::string cpus;
                    std::string nodes;
                    std::string mode = "auto";
                    bool verbose = false;
                    std::vector<std::string> command;
                };
                auto opt = std::make_shared<Options>();
                sub.add_option("--cpus", opt->cpus, "CPUs it may run on");
                sub.add_option("--nodes", opt->nodes, "nodes its memory comes from");
                sub.add_option("--mem-policy", opt->mode,
                               "bind | preferred | interleave | local (default: bind with --nodes; with --cpus "
                               "only, memory follows the CPUs)");
                sub.add_flag("-v,--verbose", opt->verbose, "print the policy read back before executing");
                sub.add_option("COMMAND", opt->command, "the command and its arguments (after --)")->required();
                return [opt]() -> int {
                    Topology host = load_host_or_throw("live");
                    LaunchPolicy policy;
                    if (!opt->cpus.empty()) policy.cpus = value_or_throw(parse_cpu_set(opt->cpus, host));
                    if (!opt->nodes.empty()) policy.nodes = value_or_throw(parse_node_set(opt->nodes, host));
                    policy.mode = value_or_throw(parse_mem_policy(opt->mode));
                    if (opt->verbose) {
                        // Apply and read back here, then exec with the same policy (idempotent).
                        AppliedPolicy a = value_or_throw(apply_launch_policy(policy));
                        for (const auto& note : a.notes) fmt::print(stderr, "affine: {}\n", note);
                        fmt::print(stderr, "affine: CPUs {}, memory policy {}{}\n", to_list(a.cpus), a.kernel_mode,
                                   a.nodes.empty() ? "" : fmt::format(" on nodes {}", to_list(a.nodes)));
                    }
                    ExecFailure f = exec_with_policy(policy, opt->command);
                    fmt::print(stderr, "affine: {}\n", f.error.message);
                    return f.exit_status;
                };
            }};
}

}  // namespace affine::cli
