// affine migrate PID NODES: move a running process's pages.
#include <fmt/format.h>

#include "affine/host.hpp"
#include "affine/linux.hpp"
#include "affine/set_grammar.hpp"
#include "command.hpp"
#include "linux_cli.hpp"

namespace affine::cli {

Command migrate_command() {
    return {"migrate", "move a running process's pages to NODES", [](CLI::App& sub, const CommandLine&) -> Action {
                struct Options {
                    std::string pid;
                    std::string nodes;
                };
                auto opt = std::make_shared<Options>();
                sub.add_option("PID", opt->pid, "the process")->required();
                sub.add_option("NODES", opt->nodes, "target nodes (1, 0-1, all)")->required();
                return [opt] {
                    int pid = parse_task_id_or_throw(opt->pid);
                    Topology host = load_host_or_throw("live");
                    NodeSet nodes = value_or_throw(parse_node_set(opt->nodes, host));
                    MigrationReport r = value_or_throw(migrate_process_memory(pid, nodes));
                    print_migration(r);
                    return 0;
                };
            }};
}

}  // namespace affine::cli
