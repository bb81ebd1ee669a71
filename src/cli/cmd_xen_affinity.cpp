// affine xen vcpu-pin, node-affinity: setting a domain's affinity by hand. The
// transaction (batch, rollback, explanation of a refusal) is the library's
// (src/xen/apply.hpp); here the arguments are parsed and the result printed.
#include <fmt/format.h>

#include <cerrno>

#include "core/integer.hpp"
#include "affine/set_grammar.hpp"
#include "json_output.hpp"
#include "xen_cli.hpp"

namespace affine::cli {
namespace {

using detail::Json;
using namespace affine::xen;

struct PinRequest {
    std::string domain;
    std::string vcpu;
    std::string hard;
    std::string soft = "-";
    bool force = false;
    bool json = false;
};

int run_vcpu_pin(Hypervisor& hv, const PinRequest& req) {
    const int domid = parse_domid(hv, req.domain);
    const std::string what = fmt::format("xen vcpu-pin domain {}", domid);
    Topology t = value_or_throw(hv.topology(), what);
    if (req.hard == "-" && req.soft == "-")
        throw_error(usage_error("xen vcpu-pin: nothing to change: HARD and SOFT are both \"-\""));
    // The hypervisor's own (stored) state of the domain: the library's model of it
    // answers why a call was refused and what to restore.
    XenHost host = value_or_throw(snapshot(hv), what);
    const Domain& d = domain_or_throw(host, domid);

    std::optional<CpuSet> hard;
    std::optional<CpuSet> soft;
    if (req.hard != "-") hard = value_or_throw(parse_cpu_set(req.hard, t));
    if (req.soft != "-") soft = value_or_throw(parse_cpu_set(req.soft, t));

    std::vector<int> targets;
    if (req.vcpu == "all") {
        for (const Vcpu& v : d.vcpus) targets.push_back(v.id);
        if (targets.empty())
            throw_error(failure(fmt::format("{}: the domain has no allocated vCPU", what), ESRCH));
    } else {
        auto v = detail::parse_integer<int>(req.vcpu);
        if (!v || *v < 0)
            throw_error(usage_error(fmt::format("xen vcpu-pin: bad vCPU \"{}\": expected a vCPU number or all", req.vcpu)));
        targets.push_back(*v);
    }

    ChangedVcpus changed = value_or_throw(apply_vcpu_affinity(hv, host, d, targets, hard, soft, req.force), what);
    XenHost after = value_or_throw(snapshot(hv), what);
    const Domain& d_after = domain_or_throw(after, domid);
    Json vcpus = print_changed_vcpus(domid, changed, soft.value_or(CpuSet{}), req.json);
    if (req.json) {
        Json out{{"domid", domid}, {"vcpus", vcpus}};
        add_node_affinity_json(out, d_after);
        print_json(out);
    } else {
        fmt::print("{}\n", node_affinity_line(d_after));
    }
    return 0;
}

int run_node_affinity(Hypervisor& hv, int domid, const std::string& nodes, bool json) {
    const std::string what = fmt::format("xen node-affinity domain {}", domid);
    if (!nodes.empty()) {
        Topology t = value_or_throw(hv.topology(), what);
        int limit = value_or_throw(hv.node_id_limit(), what);
        NodeSet wanted = value_or_throw(parse_node_set(nodes, node_grammar_host(t, limit)));
        value_or_throw(apply_node_affinity(hv, domid, wanted), what);
    }
    XenHost host = value_or_throw(snapshot(hv), what);
    const Domain& d = domain_or_throw(host, domid);
    if (json) {
        Json out{{"domid", domid}};
        add_node_affinity_json(out, d);
        print_json(out);
    } else {
        fmt::print("domain {} {}\n", domid, node_affinity_line(d));
    }
    return 0;
}

}  // namespace

std::vector<XenSubcommand> xen_affinity_subcommands() {
    return {
        {"vcpu-pin", "set vCPU hard and soft affinity (xl syntax; - keeps a mask)",
         [](CLI::App& sub, std::shared_ptr<const XenOptions> xen) -> Action {
             auto req = std::make_shared<PinRequest>();
             sub.add_option("DOM", req->domain, "domid or name")->required();
             sub.add_option("VCPU", req->vcpu, "a vCPU number or all")->required();
             sub.add_option("HARD", req->hard, "hard affinity (CPU set grammar) or - to keep it")->required();
             sub.add_option("SOFT", req->soft, "soft affinity or - to keep it (default -)");
             sub.add_flag("--force", req->force, "override a temporary pinning by the hypervisor");
             add_json_flag(sub, req->json, "JSON output: the effective masks returned");
             return [xen, req] { return run_vcpu_pin(*open_or_throw(*xen), *req); };
         }},
        {"node-affinity", "read or set a domain's node affinity; all returns to auto",
         [](CLI::App& sub, std::shared_ptr<const XenOptions> xen) -> Action {
             struct Options {
                 std::string domain;
                 std::string nodes;
                 bool json = false;
             };
             auto opt = std::make_shared<Options>();
             sub.add_option("DOM", opt->domain, "domid or name")->required();
             sub.add_option("NODES", opt->nodes, "node set (grammar), or all for auto mode");
             add_json_flag(sub, opt->json, "JSON output");
             return [xen, opt] {
                 auto hv = open_or_throw(*xen);
                 return run_node_affinity(*hv, parse_domid(*hv, opt->domain), opt->nodes, opt->json);
             };
         }},
    };
}

}  // namespace affine::cli
