// affine topo: the host at a glance, or its JSON.
#include <fmt/format.h>

#include "core/json.hpp"
#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "command.hpp"
#include "json_output.hpp"
#include "topo_tiers.hpp"

namespace affine::cli {
namespace {

std::string node_notes(const Node& n) {
    std::string notes;
    if (!n.has_cpus()) notes += " (no CPUs)";
    if (!n.has_memory()) notes += " (no memory)";
    return notes;
}

// The groups the set grammar's location terms name, each as "N: cpus", wrapped.
void print_groups(const Topology& t) {
    fmt::print("\n");
    auto line = [](std::string_view label, const std::vector<CpuSet>& groups, std::string_view note) {
        std::string text = fmt::format("{:<8}", label);
        std::size_t width = text.size();
        for (std::size_t i = 0; i < groups.size(); ++i) {
            std::string item = fmt::format("{}: {}", i, to_list(groups[i]));
            if (width + item.size() + 2 > 80 && width > 8) {
                text += "\n        ";
                width = 8;
            }
            text += (width > 8 ? "  " : "") + item;
            width += item.size() + 2;
        }
        fmt::print("{}{}\n", groups.empty() ? fmt::format("{:<8}none", label) : text, note);
    };
    auto cores = t.groups(Level::core);
    std::size_t widest = 0;
    for (const CpuSet& core : cores) widest = std::max(widest, static_cast<std::size_t>(core.count()));
    line("sockets", t.groups(Level::package), "");
    line("dies", t.groups(Level::die), "");
    line("L3", t.groups(Level::l3), "");
    line("cores", cores, widest > 1 ? fmt::format("  ({} threads per core: SMT siblings)", widest) : "");
}

// One row per CPU, as `lscpu -e`; the columns are the indexes the location terms use.
void print_cpus(const Topology& t) {
    auto cell = [](const std::optional<int>& v) { return v ? fmt::format("{}", *v) : std::string("-"); };
    fmt::print("{:>5} {:>6} {:>4} {:>6} {:>4} {:>5} {:>4}\n", "cpu", "online", "node", "socket", "die", "core", "l3");
    for (const CpuPlace& p : cpu_places(t))
        fmt::print("{:>5} {:>6} {:>4} {:>6} {:>4} {:>5} {:>4}\n", p.cpu, p.online ? "yes" : "no",
                   p.node >= 0 ? fmt::format("{}", p.node) : "-", cell(p.socket), cell(p.die), cell(p.core),
                   cell(p.l3));
}

detail::Json cpus_json(const Topology& t) {
    auto value = [](const std::optional<int>& v) { return v ? detail::Json(*v) : detail::Json(nullptr); };
    detail::Json rows = detail::Json::array();
    for (const CpuPlace& p : cpu_places(t))
        rows.push_back({{"cpu", p.cpu}, {"online", p.online}, {"node", p.node >= 0 ? detail::Json(p.node) : nullptr},
                        {"package", value(p.socket)}, {"die", value(p.die)}, {"core", value(p.core)},
                        {"l3", value(p.l3)}});
    return rows;
}

void print_topology(const Topology& t) {
    CpuSet offline = t.all_cpus() - t.online_cpus();
    int packages = 0;
    {
        std::set<int> seen;
        for (const Cpu& c : t.cpus)
            if (c.package >= 0) seen.insert(c.package);
        packages = static_cast<int>(seen.size());
    }
    fmt::print("host {}: {} CPU{} ({} online), {} package{}, {} NUMA node{}\n", t.source, t.cpus.size(),
               t.cpus.size() == 1 ? "" : "s", t.online_cpus().count(), packages, packages == 1 ? "" : "s",
               t.nodes.size(), t.nodes.size() == 1 ? "" : "s");
    if (!offline.empty()) fmt::print("offline CPUs: {}\n", to_list(offline));
    fmt::print("\n{:>4}  {:<16} {:>5}  {:>10}  {:>10}\n", "node", "cpus", "cores", "memory", "free");
    for (const Node& n : t.nodes) {
        std::string cpus = n.has_cpus() ? to_list(n.cpus) : "-";
        fmt::print("{:>4}  {:<16} {:>5}  {:>10}  {:>10}{}\n", n.id, cpus, t.cores_of(n.id).size(),
                   n.has_memory() ? format_size(n.memory_total_bytes) : "0",
                   n.has_memory() ? format_size(n.memory_free_bytes) : "0", node_notes(n));
    }
    print_groups(t);
    fmt::print("\ndistances:\n{:>4} ", "");
    for (const Node& to : t.nodes) fmt::print(" {:>4}", to.id);
    fmt::print("\n");
    for (const Node& from : t.nodes) {
        fmt::print("{:>4} ", from.id);
        for (const Node& to : t.nodes) fmt::print(" {:>4}", t.distance(from.id, to.id));
        fmt::print("\n");
    }
    print_memory_tiers(t);
    fmt::print("\nallowed here: CPUs {}, nodes {}\n", to_list(t.allowed_cpus), to_list(t.allowed_nodes));
    fmt::print("automatic NUMA balancing: {}\n",
               t.numa_balancing ? (*t.numa_balancing ? "on" : "off") : "unknown");
}

}  // namespace

Command topo_command() {
    return {"topo", "show the host: nodes, CPUs, sockets, dies, L3 caches, cores, memory, distances", [](CLI::App& sub, const CommandLine&) -> Action {
                struct Options {
                    bool json = false;
                    bool cpus = false;
                    std::string host = "live";
                };
                auto opt = std::make_shared<Options>();
                add_json_flag(sub, opt->json, "print the JSON host description (with --cpus: the rows)");
                sub.add_flag("--cpus", opt->cpus,
                             "one row per CPU: online, node, and the socket:N, die:N, core:N, l3:N it is in");
                add_host_option(sub, opt->host);
                return [opt] {
                    Topology t = load_host_or_throw(opt->host);
                    if (opt->cpus && opt->json)
                        print_json(cpus_json(t));
                    else if (opt->cpus)
                        print_cpus(t);
                    else if (opt->json)
                        print_json(detail::topology_json(t));
                    else
                        print_topology(t);
                    return 0;
                };
            }};
}

}  // namespace affine::cli
