// affine xen: the affinity of Xen domains, on this host's hypervisor (libxenctrl,
// loaded at run time) or on a simulated host (--host sim:FILE). This file holds the
// subcommand table; each group of subcommands is in a cmd_xen_*.cpp of its own.
#include <fmt/format.h>

#include "xen_cli.hpp"

namespace affine::cli {

const std::vector<XenSubcommand>& xen_subcommand_table() {
    static const std::vector<XenSubcommand> table = [] {
        std::vector<XenSubcommand> all;
        auto add = [&all](std::vector<XenSubcommand> group) {
            for (XenSubcommand& s : group) all.push_back(std::move(s));
        };
        add(xen_inspect_subcommands());
        add(xen_affinity_subcommands());
        add({xen_place_subcommand()});
        add({xen_create_subcommand()});
        add(xen_sim_subcommands());
        return all;
    }();
    return table;
}

Command xen_command() {
    return {"xen", "Xen domains: topo, domains, show, vcpu-pin, place, create, node-affinity, numastat",
            [](CLI::App& app, const CommandLine&) -> Action {
                auto options = std::make_shared<XenOptions>();
                auto chosen = std::make_shared<Action>();
                app.fallthrough();
                app.require_subcommand(1, 1);  // `affine xen` alone: "xen needs a command"
                app.add_option("--host", options->host,
                               "the hypervisor: xen (this host's, the default) or sim:STATEFILE (a simulated host)");
                for (const XenSubcommand& s : xen_subcommand_table()) {
                    CLI::App* sub = app.add_subcommand(std::string(s.name), std::string(s.summary));
                    sub->set_help_flag("-h,--help", "print this command's options");
                    Action action = s.define(*sub, options);
                    sub->callback([chosen, action] { *chosen = action; });
                }
                return [chosen] { return (*chosen)(); };
            }};
}

}  // namespace affine::cli
