#include "xen_cli.hpp"

#include "xen/domain_names.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>

#include "core/json.hpp"
#include "host/hypervisor_source.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"

namespace affine::cli {

using namespace affine::xen;

std::unique_ptr<Hypervisor> open_or_throw(const XenOptions& xen) { return value_or_throw(open_hypervisor(xen.host)); }

int parse_domid(Hypervisor& hv, const std::string& text) { return value_or_throw(resolve_domain(hv, text)); }

std::uint64_t memory_size(const std::string& text) {
    std::string_view digits = text;
    while (!digits.empty() && std::isalpha(static_cast<unsigned char>(digits.back()))) digits.remove_suffix(1);
    if (digits == "0") return 0;
    return value_or_throw(parse_size(text));
}

Topology node_grammar_host(const Topology& t, int node_id_limit) {
    Topology g = t;
    for (int n = 0; n < node_id_limit; ++n)
        if (g.node(n) == nullptr) {
            Node offline;
            offline.id = n;
            g.nodes.push_back(std::move(offline));
        }
    std::ranges::sort(g.nodes, {}, &Node::id);
    return g;
}

std::uint64_t bytes_on(const std::map<int, std::uint64_t>& per_node, const NodeSet& nodes) {
    std::uint64_t total = 0;
    for (const auto& [node, bytes] : per_node)
        if (nodes.contains(node)) total += bytes;
    return total;
}

const Domain& domain_or_throw(const XenHost& host, int domid) {
    const Domain* d = host.domain(domid);
    if (d == nullptr) throw_error(failure(fmt::format("domain {} does not exist", domid), ESRCH));
    return *d;
}

std::string nodes_text(const NodeSet& nodes) {
    return nodes == every_node() ? fmt::format("all ({})", to_list(nodes)) : to_list(nodes);
}

std::string mode_text(const Domain& d) {
    std::string mode = d.node_affinity_mode == NodeAffinityMode::automatic ? "auto" : "explicit";
    return d.node_affinity_mode_source == ModeSource::inferred ? mode + ", inferred" : mode;
}

std::string node_affinity_line(const Domain& d) {
    return fmt::format("node affinity: {} ({})", nodes_text(d.node_affinity), mode_text(d));
}

void add_node_affinity_json(detail::Json& out, const Domain& d) {
    out["node_affinity"] = detail::ids_json(d.node_affinity);
    out["node_affinity_auto"] = d.node_affinity_mode == NodeAffinityMode::automatic;
    out["node_affinity_auto_source"] = d.node_affinity_mode_source == ModeSource::inferred ? "inferred" : "hypervisor";
}

detail::Json print_changed_vcpus(int domid, const ChangedVcpus& changed, const CpuSet& soft_sent, bool json) {
    detail::Json vcpus = detail::Json::array();
    for (const VcpuBatch::Changed& c : changed) {
        std::string line = fmt::format("domain {} vCPU {}:", domid, c.vcpu);
        detail::Json j{{"id", c.vcpu}};
        if (c.effective.hard) {
            line += fmt::format(" hard {}", to_list(*c.effective.hard));
            j["effective_hard"] = detail::ids_json(*c.effective.hard);
        }
        if (c.effective.soft) {
            line += fmt::format(" effective soft {}", c.effective.soft->empty() ? "(none)" : to_list(*c.effective.soft));
            j["effective_soft"] = detail::ids_json(*c.effective.soft);
            if (c.effective.soft->empty())
                fmt::print(stderr,
                           "affine: warning: domain {} vCPU {}: soft affinity {} has no CPU in its hard affinity "
                           "and cpupool: the scheduler ignores it\n",
                           domid, c.vcpu, to_list(soft_sent));
        }
        vcpus.push_back(j);
        if (!json) fmt::print("{}\n", line);
    }
    return vcpus;
}

}  // namespace affine::cli
