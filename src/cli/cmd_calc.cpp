// affine calc: resolve sets in the grammar against a host and print them in another
// form, or as hwloc-calc's --intersect and --number-of do, the objects they touch.
#include <fmt/format.h>

#include "core/json.hpp"
#include "affine/set_grammar.hpp"
#include "command.hpp"
#include "help_format.hpp"

namespace affine::cli {
namespace {

// hwloc's type names (hwloc-calc -I TYPE) as the grammar's location terms.
std::string location_of_type(const std::string& type, std::string_view option) {
    static const std::vector<std::pair<std::string_view, std::string_view>> names = {
        {"pu", "pu"},        {"core", "core"}, {"package", "package"}, {"socket", "package"}, {"die", "die"},
        {"l3", "l3"},        {"l3cache", "l3"}, {"numa", "numa"},      {"numanode", "numa"},  {"node", "numa"},
    };
    for (auto [name, term] : names)
        if (type == name) return std::string(term);
    throw_error(usage_error(fmt::format("calc {}: unknown type \"{}\": expected pu, core, package (socket), die, "
                                        "l3 or numa (node)",
                                        option, type)));
}

// The logical indexes of the objects of a location term that `cpus` intersects,
// as hwloc-calc --intersect lists them.
std::vector<int> intersecting(const std::string& term, const CpuSet& cpus, const Topology& t) {
    std::vector<int> indexes;
    for (int i = 0;; ++i) {
        // As a node set, an object exists even without CPUs (a node of memory only).
        std::string object = fmt::format("{}:{}", term, i);
        if (!parse_node_set(object, t)) break;  // past the last one (or none on this host)
        auto members = parse_cpu_set(object, t);
        if (members && !(*members & cpus).empty()) indexes.push_back(i);
    }
    return indexes;
}

// hwloc's bitmap form: 32-bit groups of 8 hex digits, each with 0x, high first.
std::string hwloc_mask(const CpuSet& set) {
    std::string kernel = to_kernel_mask(set, 32);
    std::string out;
    std::size_t pos = 0;
    while (pos <= kernel.size()) {
        auto comma = kernel.find(',', pos);
        std::string_view group = std::string_view(kernel).substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        out += fmt::format("{}0x{}{}", out.empty() ? "" : ",", std::string(8 - std::min<std::size_t>(8, group.size()), '0'), group);
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return out;
}

}  // namespace

Command calc_command() {
    return {"calc", "resolve CPU/node sets against a host (like hwloc-calc)", [](CLI::App& sub, const CommandLine&) -> Action {
                struct Options {
                    std::vector<std::string> sets;
                    std::string host = "live";
                    std::string to = "list";
                    bool nodes = false;
                    std::string intersect;
                    std::string number_of;
                };
                auto opt = std::make_shared<Options>();
                set_usage(sub, "calc SET... [--to list|hex|kernel|json|hwloc] [--nodes] [--host SPEC]\n"
                               "calc SET... --intersect|-I TYPE [--host SPEC]\n"
                               "calc SET... --number-of|-N TYPE [--host SPEC]");
                sub.add_option("SET", opt->sets, "sets in the grammar (0-3,8, node:1, all,^0, 0xff); several are joined")
                    ->required();
                sub.add_option("--to", opt->to,
                               "output form: list (default), hex, kernel, json, or hwloc (hwloc-calc's 0x00000003)");
                sub.add_flag("--nodes", opt->nodes, "print the nodes the CPU set touches");
                sub.add_option("-I,--intersect", opt->intersect,
                               "print the logical indexes of the objects of TYPE the set touches (pu, core, package, "
                               "die, l3, numa), as hwloc-calc")
                    ->option_text("TYPE");
                sub.add_option("-N,--number-of", opt->number_of,
                               "print how many objects of TYPE the set touches, as hwloc-calc")
                    ->option_text("TYPE");
                add_host_option(sub, opt->host);
                return [opt] {
                    if (opt->to != "list" && opt->to != "hex" && opt->to != "kernel" && opt->to != "json" &&
                        opt->to != "hwloc")
                        throw_error(usage_error(fmt::format(
                            "calc --to: bad output form \"{}\": expected list, hex, kernel, json or hwloc", opt->to)));
                    const bool counting = !opt->intersect.empty() || !opt->number_of.empty();
                    if (counting && (opt->nodes || opt->to != "list" || (!opt->intersect.empty() && !opt->number_of.empty())))
                        throw_error(usage_error("calc: --intersect and --number-of take no --nodes, --to or each other"));
                    std::string term;
                    if (!opt->intersect.empty()) term = location_of_type(opt->intersect, "--intersect");
                    if (!opt->number_of.empty()) term = location_of_type(opt->number_of, "--number-of");
                    Topology t = load_host_or_throw(opt->host);
                    CpuSet cpus;
                    for (const auto& text : opt->sets) cpus |= value_or_throw(parse_cpu_set(text, t));
                    if (counting) {
                        auto indexes = intersecting(term, cpus, t);
                        if (!opt->number_of.empty()) fmt::print("{}\n", indexes.size());
                        else fmt::print("{}\n", fmt::join(indexes, ","));
                        return 0;
                    }
                    auto print = [&](const auto& set) {
                        if (opt->to == "hex") fmt::print("{}\n", to_hex(set));
                        else if (opt->to == "kernel") fmt::print("{}\n", to_kernel_mask(set));
                        else if (opt->to == "hwloc") fmt::print("{}\n", hwloc_mask(CpuSet::from_words(set.words())));
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
