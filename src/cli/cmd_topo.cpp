// affine topo: the host at a glance, or its JSON.
#include <fmt/format.h>

#include "../core/json.hpp"
#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "command.hpp"
#include "json_output.hpp"

namespace affine::cli {
namespace {

std::string node_notes(const Node& n) {
    std::string notes;
    if (!n.has_cpus()) notes += " (no CPUs)";
    if (!n.has_memory()) notes += " (no memory)";
    return notes;
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
    fmt::print("host {}: {} CPUs ({} online), {} packages, {} NUMA nodes\n", t.source, t.cpus.size(),
               t.online_cpus().count(), packages, t.nodes.size());
    if (!offline.empty()) fmt::print("offline CPUs: {}\n", to_list(offline));
    fmt::print("\n{:>4}  {:<16} {:>5}  {:>10}  {:>10}\n", "node", "cpus", "cores", "memory", "free");
    for (const Node& n : t.nodes) {
        std::string cpus = n.has_cpus() ? to_list(n.cpus) : "-";
        fmt::print("{:>4}  {:<16} {:>5}  {:>10}  {:>10}{}\n", n.id, cpus, t.cores_of(n.id).size(),
                   n.has_memory() ? format_size(n.memory_total_bytes) : "0",
                   n.has_memory() ? format_size(n.memory_free_bytes) : "0", node_notes(n));
    }
    fmt::print("\ndistances:\n{:>4} ", "");
    for (const Node& to : t.nodes) fmt::print(" {:>4}", to.id);
    fmt::print("\n");
    for (const Node& from : t.nodes) {
        fmt::print("{:>4} ", from.id);
        for (const Node& to : t.nodes) fmt::print(" {:>4}", t.distance(from.id, to.id));
        fmt::print("\n");
    }
    fmt::print("\nallowed here: CPUs {}, nodes {}\n", to_list(t.allowed_cpus), to_list(t.allowed_nodes));
    fmt::print("automatic NUMA balancing: {}\n",
               t.numa_balancing ? (*t.numa_balancing ? "on" : "off") : "unknown");
}

}  // namespace

Command topo_command() {
    return {"topo", "show the host: nodes, CPUs, cores, memory, distances", [](CLI::App& sub) -> Action {
                struct Options {
                    bool json = false;
                    std::string host = "live";
                };
                auto opt = std::make_shared<Options>();
                add_json_flag(sub, opt->json, "print the JSON host description");
                add_host_option(sub, opt->host);
                return [opt] {
                    Topology t = load_host_or_throw(opt->host);
                    if (opt->json)
                        print_json(detail::topology_json(t));
                    else
                        print_topology(t);
                    return 0;
                };
            }};
}

}  // namespace affine::cli
