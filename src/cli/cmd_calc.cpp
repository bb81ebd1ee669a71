// affine calc: resolve sets in the grammar against a host and print them in another form.
#include <fmt/format.h>

#include "../core/json.hpp"
#include "affine/set_grammar.hpp"
#include "command.hpp"

namespace affine::cli {

Command calc_command() {
    return {"calc", "resolve CPU/node sets against a host (like hwloc-calc)", [](CLI::App& sub) -> Action {
                struct Options {
                    std::vector<std::string> sets;
                    std::string host = "live";
                    std::string to = "list";
                    bool nodes = false;
                };
                auto opt = std::make_shared<Options>();
                sub.add_option("SET", opt->sets, "sets in the grammar (0-3,8, node:1, all,^0, 0xff); several are joined")
                    ->required();
                sub.add_option("--to", opt->to, "output form: list (default), hex, kernel or json");
                sub.add_flag("--nodes", opt->nodes, "print the nodes the CPU set touches");
                add_host_option(sub, opt->host);
                return [opt] {
                    if (opt->to != "list" && opt->to != "hex" && opt->to != "kernel" && opt->to != "json")
                        throw_error(usage_error(fmt::format(
                            "calc --to: bad output form \"{}\": expected list, hex, kernel or json", opt->to)));
                    Topology t = load_host_or_throw(opt->host);
                    CpuSet cpus;
                    for (const auto& text : opt->sets) cpus |= value_or_throw(parse_cpu_set(text, t));
                    auto print = [&](const auto& set) {
                        if (opt->to == "hex") fmt::print("{}\n", to_hex(set));
                        else if (opt->to == "kernel") fmt::print("{}\n", to_kernel_mask(set));
                        else if (opt->to == "json") fmt::print("{}\n", detail::ids_json(set).dump());
                        else fmt::print("{}\n", to_list(set));
                    };
                    if (opt->nodes)
                        print(t.nodes_of(cpus));
                    else
                        print(cpus);
                    return 0;
                };
            }};
}

}  // namespace affine::cli
