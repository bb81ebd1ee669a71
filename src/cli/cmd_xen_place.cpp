// affine xen place: plan a domain's placement from the live state and apply it.
// Planning is the planner's (xen_placement.hpp), applying the library's
// (xen::apply_placement); here the request is parsed and the outcome printed.
#include <fmt/format.h>

#include "planner/placement_json.hpp"
#include "affine/placement.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "affine/xen_placement.hpp"
#include "plan_text.hpp"
#include "json_output.hpp"
#include "xen_cli.hpp"

namespace affine::cli {
namespace {

using detail::Json;
using namespace affine::xen;

struct PlaceRequest {
    std::string domain;
    std::string policy = "best-effort";
    bool follow_memory = false;
    std::string exclude;
    std::string memory;
    bool dry_run = false;
    bool json = false;
};

std::string memory_text(const std::map<int, std::uint64_t>& per_node) {
    std::string text;
    for (const auto& [node, bytes] : per_node)
        text += fmt::format("{}node {} {}", text.empty() ? "" : ", ", node, format_size(bytes));
    return text.empty() ? "none" : text;
}

int run_place(const XenOptions& xen, const PlaceRequest& req) {
    // Usage errors first: they do not need the hypervisor.
    const PlacementPolicy policy = value_or_throw(parse_placement_policy(req.policy));
    std::optional<std::uint64_t> memory_override;
    if (!req.memory.empty()) memory_override = memory_option_or_throw(req.memory, "xen place");
    auto hv_owner = open_or_throw(xen);
    Hypervisor& hv = *hv_owner;
    const int domid = parse_domid(hv, req.domain);
    const std::string what = fmt::format("xen place domain {}", domid);

    XenHost host = value_or_throw(snapshot(hv), what);
    const Domain& d = domain_or_throw(host, domid);
    DomainMemory memory = value_or_throw(hv.memory_per_node(), what + ": NUMA dump");
    const std::map<int, std::uint64_t> mem = memory[domid];
    CpuSet reserved;
    if (!req.exclude.empty()) reserved = value_or_throw(parse_cpu_set(req.exclude, host.topology), "--exclude");

    PlacementHost placement_host = xen_placement_host(host, reserved, domid, mem);
    PlacementRequest request =
        value_or_throw(xen_placement_request(d, mem, policy, req.follow_memory, memory_override), what);
    Plan plan = value_or_throw(plan_placement(placement_host, request), what);
    XenPlacementActions actions = xen_placement_actions(plan, d, host.topology.all_cpus());

    const std::uint64_t total = bytes_on(mem, every_node());
    const std::uint64_t on_plan = bytes_on(mem, plan.nodes);
    if (!req.json) {
        fmt::print("domain {}: {} vCPUs, memory {} ({})\n", domid, d.vcpus.size(), format_size(total),
                   memory_text(mem));
        print_plan(plan, request, &placement_host);
    }
    // Memory already allocated does not move: say when the plan leaves most of it
    // on other nodes.
    if (plan.outcome != PlanOutcome::refused && total > 0 && on_plan * 2 < total)
        fmt::print(stderr,
                   "affine: warning: domain {}: only {} of its {} memory is on the plan's nodes {}; memory already "
                   "allocated does not move in Xen{}\n",
                   domid, format_size(on_plan), format_size(total), to_list(plan.nodes),
                   req.follow_memory ? "" : " (--follow-memory plans towards the nodes that hold it)");

    Json applied = Json::array();
    std::optional<NodeSet> node_affinity_sent;
    int status = 0;
    if (!plan.fits()) {
        status = 1;
        if (!req.json)
            fmt::print("nothing applied: the domain could not be placed on a node set; it is left as it is\n");
    } else if (req.dry_run) {
        if (!req.json) fmt::print("dry run: nothing applied\n");
    } else if (actions.empty()) {
        if (!req.json) fmt::print("nothing to apply: policy {} sets no affinity\n", to_string(policy));
    } else {
        AppliedPlacement done = value_or_throw(apply_placement(hv, host, d, actions), what);
        applied = print_changed_vcpus(domid, done.vcpus, actions.soft, req.json);
        node_affinity_sent = done.node_affinity;
        if (node_affinity_sent && !req.json)
            fmt::print("node affinity set to {}\n",
                       *node_affinity_sent == every_node() ? std::string("auto (every node)")
                                                           : to_list(*node_affinity_sent));
    }

    // Read back what holds now.
    XenHost after = value_or_throw(snapshot(hv), what);
    const Domain& d_after = domain_or_throw(after, domid);
    const bool is_auto = d_after.node_affinity_mode == NodeAffinityMode::automatic;
    if (plan.fits() && !req.dry_run && plan.affinity != AffinityKind::none && is_auto &&
        d_after.node_affinity != plan.nodes)
        fmt::print(stderr, "affine: warning: domain {}: node affinity {} (auto) does not follow the plan's nodes {}\n",
                   domid, to_list(d_after.node_affinity), to_list(plan.nodes));
    if (req.json) {
        Json out{{"domid", domid},
                 {"dry_run", req.dry_run},
                 {"plan", detail::plan_json(plan)},
                 {"applied", applied},
                 {"node_affinity_sent", node_affinity_sent ? detail::ids_json(*node_affinity_sent) : Json(nullptr)}};
        add_node_affinity_json(out, d_after);
        out["memory_bytes_per_node"] = detail::per_node_json(mem);
        out["memory_on_plan_nodes_bytes"] = on_plan;
        print_json(out);
    } else {
        fmt::print("{}\n", node_affinity_line(d_after));
    }
    return status;
}

}  // namespace

XenSubcommand xen_place_subcommand() {
    return {"place",
            "plan a domain's placement from the live host state and apply it as xenopsd would (soft or hard "
            "affinity of every vCPU)",
            [](CLI::App& sub, std::shared_ptr<const XenOptions> xen) -> Action {
                auto req = std::make_shared<PlaceRequest>();
                sub.add_option("DOM", req->domain, "domid or name")->required();
                sub.add_option("--policy", req->policy,
                               "any | best-effort (soft affinity, default) | best-effort-hard | prio-mem-only");
                sub.add_flag("--follow-memory", req->follow_memory,
                             "prefer the nodes that already hold the domain's memory (it does not move)");
                sub.add_option("--exclude", req->exclude,
                               "CPUs reserved host-wide: never chosen, and kept out of hard affinity");
                sub.add_option("--memory", req->memory, "plan for this much memory instead of what the domain has now");
                sub.add_flag("--dry-run", req->dry_run, "print the plan, apply nothing");
                add_json_flag(sub, req->json, "JSON output: the plan, what was applied, the read-back");
                return [xen, req] { return run_place(*xen, *req); };
            }};
}

}  // namespace affine::cli
