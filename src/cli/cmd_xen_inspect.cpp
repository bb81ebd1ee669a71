// affine xen topo, domains, show, numastat: reading the hypervisor's state.
#include <fmt/format.h>

#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "json_output.hpp"
#include "xen_cli.hpp"

namespace affine::cli {
namespace {

using detail::Json;
using namespace affine::xen;

int run_topo(Hypervisor& hv, bool json) {
    Topology t = value_or_throw(hv.topology(), "xen topo");
    if (json) {
        print_json(detail::topology_json(t));
        return 0;
    }
    fmt::print("host {}: {} CPUs ({} online), {} NUMA nodes\n", hv.name(), t.cpus.size(), t.online_cpus().count(),
               t.nodes.size());
    fmt::print("{:>4}  {:<16} {:>10}  {:>10}\n", "node", "cpus", "memory", "free");
    for (const Node& n : t.nodes)
        fmt::print("{:>4}  {:<16} {:>10}  {:>10}\n", n.id, n.has_cpus() ? to_list(n.cpus) : "-",
                   format_size(n.memory_total_bytes), format_size(n.memory_free_bytes));
    fmt::print("distances:\n");
    for (const Node& from : t.nodes) {
        fmt::print("{:>4}:", from.id);
        for (const Node& to : t.nodes) fmt::print(" {:>3}", t.distance(from.id, to.id));
        fmt::print("\n");
    }
    return 0;
}

int run_domains(Hypervisor& hv, bool json) {
    XenHost host = value_or_throw(snapshot(hv), "xen domains");
    auto infos = value_or_throw(hv.domains(), "xen domains");
    Json out = Json::array();
    if (!json) fmt::print("{:>6} {:>6} {:>10}  {:<14} {}\n", "domid", "vcpus", "memory", "node-affinity", "mode");
    for (const DomainInfo& info : infos) {
        const Domain* d = host.domain(info.domid);
        if (d == nullptr) continue;  // gone meanwhile
        if (json) {
            Json j{{"domid", info.domid},
                   {"vcpus", info.online_vcpus},
                   {"vcpus_allocated", d->vcpus.size()},
                   {"memory_bytes", info.memory_bytes}};
            add_node_affinity_json(j, *d);
            out.push_back(j);
        } else {
            fmt::print("{:>6} {:>6} {:>10}  {:<14} {}\n", info.domid, d->vcpus.size(), format_size(info.memory_bytes),
                       nodes_text(d->node_affinity), mode_text(*d));
        }
    }
    if (json) print_json(Json{{"domains", out}});
    return 0;
}

int run_show(Hypervisor& hv, int domid, bool json) {
    XenHost host = value_or_throw(snapshot(hv), fmt::format("xen show {}", domid));
    const Domain& d = domain_or_throw(host, domid);
    auto memory = value_or_throw(hv.memory_per_node(), "xen show: NUMA dump");
    std::map<int, std::uint64_t> mem = memory[domid];
    if (json) {
        Json vcpus = Json::array();
        for (const Vcpu& v : d.vcpus)
            vcpus.push_back({{"id", v.id},
                             {"hard", detail::ids_json(v.hard)},
                             {"soft", detail::ids_json(v.soft)},
                             {"effective_hard", detail::ids_json(effective_hard(host, v))},
                             {"effective_soft", detail::ids_json(effective_soft(host, v))}});
        Json out{{"domid", domid}, {"vcpus", vcpus}};
        add_node_affinity_json(out, d);
        out["memory_bytes_per_node"] = detail::per_node_json(mem);
        print_json(out);
        return 0;
    }
    fmt::print("domain {}: {} vCPUs allocated, cpupool CPUs {}\n", domid, d.vcpus.size(), to_list(host.pool_cpus));
    fmt::print("{:>5}  {:<12} {:<12} {:<14}\n", "vcpu", "hard", "soft", "effective-soft");
    for (const Vcpu& v : d.vcpus) {
        CpuSet es = effective_soft(host, v);
        fmt::print("{:>5}  {:<12} {:<12} {}\n", v.id, to_list(v.hard), to_list(v.soft),
                   es.empty() ? "(none: soft ignored)" : to_list(es));
    }
    fmt::print("{}\n", node_affinity_line(d));
    fmt::print("memory:");
    for (const auto& [node, bytes] : mem) fmt::print(" node {} {}", node, format_size(bytes));
    fmt::print("\n");
    return 0;
}

int run_numastat(Hypervisor& hv, const std::string& domain, bool json) {
    std::optional<int> only;
    if (!domain.empty()) only = parse_domid(hv, domain);
    XenHost host = value_or_throw(snapshot(hv), "xen numastat");
    if (only) (void)domain_or_throw(host, *only);
    DomainMemory memory = value_or_throw(hv.memory_per_node(), "xen numastat: NUMA dump");
    Json nodes = Json::array();
    for (const Node& n : host.topology.nodes)
        nodes.push_back({{"id", n.id}, {"memory_free_bytes", n.memory_free_bytes}});
    Json domains = Json::array();
    if (!json) {
        fmt::print("free memory:");
        for (const Node& n : host.topology.nodes) fmt::print(" node {} {}", n.id, format_size(n.memory_free_bytes));
        fmt::print("\n{:>6}  {:<30} {:<14} {}\n", "domid", "memory per node", "node-affinity", "on affinity");
    }
    for (const Domain& d : host.domains) {
        if (only && d.domid != *only) continue;
        const auto& mem = memory[d.domid];
        std::uint64_t total = bytes_on(mem, every_node());
        std::uint64_t local = bytes_on(mem, d.node_affinity);
        double share = total == 0 ? 1.0 : static_cast<double>(local) / static_cast<double>(total);
        if (json) {
            domains.push_back({{"domid", d.domid},
                               {"memory_bytes_per_node", detail::per_node_json(mem)},
                               {"node_affinity", detail::ids_json(d.node_affinity)},
                               {"memory_share_on_node_affinity", share}});
        } else {
            std::string per;
            for (const auto& [node, bytes] : mem) per += fmt::format("{}{}:{}", per.empty() ? "" : " ", node, format_size(bytes));
            fmt::print("{:>6}  {:<30} {:<14} {:.1f}%\n", d.domid, per, to_list(d.node_affinity), share * 100);
        }
    }
    if (json) print_json(Json{{"nodes", nodes}, {"domains", domains}});
    return 0;
}

}  // namespace

std::vector<XenSubcommand> xen_inspect_subcommands() {
    return {
        {"topo", "the host as Xen sees it (xc_physinfo, xc_cputopoinfo, xc_numainfo)",
         [](CLI::App& sub, std::shared_ptr<const XenOptions> xen) -> Action {
             auto json = std::make_shared<bool>(false);
             add_json_flag(sub, *json, "the JSON of `affine topo --json`");
             return [xen, json] { return run_topo(*open_or_throw(*xen), *json); };
         }},
        {"domains", "domains: vCPUs, memory, node affinity (auto or explicit)",
         [](CLI::App& sub, std::shared_ptr<const XenOptions> xen) -> Action {
             auto json = std::make_shared<bool>(false);
             add_json_flag(sub, *json, "JSON output");
             return [xen, json] { return run_domains(*open_or_throw(*xen), *json); };
         }},
        {"show", "a domain's vCPU hard/soft masks, node affinity, memory per node",
         [](CLI::App& sub, std::shared_ptr<const XenOptions> xen) -> Action {
             struct Options {
                 std::string domain;
                 bool json = false;
             };
             auto opt = std::make_shared<Options>();
             sub.add_option("DOM", opt->domain, "domid or name")->required();
             add_json_flag(sub, opt->json, "JSON output");
             return [xen, opt] {
                 auto hv = open_or_throw(*xen);
                 return run_show(*hv, parse_domid(*hv, opt->domain), opt->json);
             };
         }},
        {"numastat", "memory per node per domain, free memory per node",
         [](CLI::App& sub, std::shared_ptr<const XenOptions> xen) -> Action {
             struct Options {
                 std::string domain;
                 bool json = false;
             };
             auto opt = std::make_shared<Options>();
             sub.add_option("DOM", opt->domain, "only this domain (domid or name)");
             add_json_flag(sub, opt->json, "JSON output");
             return [xen, opt] { return run_numastat(*open_or_throw(*xen), opt->domain, opt->json); };
         }},
    };
}

}  // namespace affine::cli
