// affine xen: the affinity of Xen domains, on this host's hypervisor (libxenctrl,
// loaded at run time) or on a simulated host (--host sim:FILE).
#include <fmt/format.h>

#include <cerrno>
#include <cctype>
#include <cstring>

#include "../core/integer.hpp"
#include "../core/json.hpp"
#include "../core/placement_json.hpp"
#include "../sim/sim_hypervisor.hpp"
#include "../xen/hypervisor.hpp"
#include "affine/host.hpp"
#include "affine/placement.hpp"
#include "affine/xen_placement.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "command.hpp"
#include "plan_text.hpp"

namespace affine::cli {
namespace {

using detail::Json;
using namespace affine::xen;

const char* errno_name(int code) {
    switch (code) {
    case EINVAL: return "EINVAL";
    case ESRCH: return "ESRCH";
    case EBUSY: return "EBUSY";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOMEM: return "ENOMEM";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    default: return "errno";
    }
}

// "Invalid argument (EINVAL)": the hypervisor's verdict, named as in Xen's sources.
std::string verdict(int code) { return fmt::format("{} ({})", std::strerror(code), errno_name(code)); }

std::unique_ptr<Hypervisor> open_or_throw(const std::string& spec) { return value_or_throw(open_hypervisor(spec)); }

template <typename T>
T or_throw(Result<T> r, const std::string& what) {
    if (!r) {
        Error e = r.error();
        e.message = fmt::format("{}: {}", what, e.message);
        throw CommandError{e};
    }
    return std::move(*r);
}

void or_throw(Result<void> r, const std::string& what) {
    if (!r) {
        Error e = r.error();
        e.message = fmt::format("{}: {}", what, e.message);
        throw CommandError{e};
    }
}

void throw_if_error(Result<void> r) {
    if (!r) throw CommandError{r.error()};
}

// A memory size where 0 is allowed (an empty domain): "0", "0M", ... or parse_size.
std::uint64_t memory_size(const std::string& text) {
    std::string_view digits = text;
    while (!digits.empty() && std::isalpha(static_cast<unsigned char>(digits.back()))) digits.remove_suffix(1);
    if (digits == "0") return 0;
    return value_or_throw(parse_size(text));
}

// DOMID_FIRST_RESERVED - 1 (xen/include/public/xen.h): the largest domid of a domain.
constexpr int max_domid = 0x7fef;

int parse_domid(const std::string& text) {
    return value_or_throw(detail::parse_integer_in<int>(text, "domain", 0, max_domid));
}

// The host against which node sets are parsed: every node id the hypervisor's node
// map can carry exists (offline ones without CPUs or memory), so that `all` sends
// every node (auto mode) and an offline node reaches the hypervisor, which says
// whether it accepts it.
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

std::string mode_name(NodeAffinityMode m) { return m == NodeAffinityMode::automatic ? "auto" : "explicit"; }

std::string nodes_text(const NodeSet& nodes) {
    return nodes == every_node() ? fmt::format("all ({})", to_list(nodes)) : to_list(nodes);
}

const Domain& domain_or_throw(const XenHost& host, int domid) {
    const Domain* d = host.domain(domid);
    if (d == nullptr) throw CommandError{failure(fmt::format("domain {} does not exist", domid), ESRCH).error()};
    return *d;
}

std::uint64_t sum_on(const std::map<int, std::uint64_t>& per_node, const NodeSet& nodes) {
    std::uint64_t total = 0;
    for (const auto& [node, bytes] : per_node)
        if (nodes.contains(node)) total += bytes;
    return total;
}
std::uint64_t sum_all(const std::map<int, std::uint64_t>& per_node) {
    std::uint64_t total = 0;
    for (const auto& [node, bytes] : per_node) total += bytes;
    return total;
}

// ---------------------------------------------------------------- topo, domains

int run_topo(Hypervisor& hv, bool json) {
    Topology t = or_throw(hv.topology(), "xen topo");
    if (json) {
        fmt::print("{}\n", topology_to_json(t));
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
    XenHost host = or_throw(snapshot(hv), "xen domains");
    auto infos = or_throw(hv.domains(), "xen domains");
    Json out = Json::array();
    if (!json) fmt::print("{:>6} {:>6} {:>10}  {:<14} {}\n", "domid", "vcpus", "memory", "node-affinity", "mode");
    for (const DomainInfo& info : infos) {
        const Domain* d = host.domain(info.domid);
        if (d == nullptr) continue;  // gone meanwhile
        if (json) {
            out.push_back({{"domid", info.domid},
                           {"vcpus", info.online_vcpus},
                           {"vcpus_allocated", d->vcpus.size()},
                           {"memory_bytes", info.memory_bytes},
                           {"node_affinity", detail::ids_json(d->node_affinity)},
                           {"node_affinity_auto", d->node_affinity_mode == NodeAffinityMode::automatic}});
        } else {
            fmt::print("{:>6} {:>6} {:>10}  {:<14} {}\n", info.domid, d->vcpus.size(), format_size(info.memory_bytes),
                       nodes_text(d->node_affinity), mode_name(d->node_affinity_mode));
        }
    }
    if (json) fmt::print("{}\n", Json{{"domains", out}}.dump(2));
    return 0;
}

// ---------------------------------------------------------------- show

int run_show(Hypervisor& hv, int domid, bool json) {
    XenHost host = or_throw(snapshot(hv), fmt::format("xen show {}", domid));
    const Domain& d = domain_or_throw(host, domid);
    auto memory = or_throw(hv.memory_per_node(), "xen show: NUMA dump");
    std::map<int, std::uint64_t> mem = memory[domid];
    if (json) {
        Json vcpus = Json::array();
        for (const Vcpu& v : d.vcpus)
            vcpus.push_back({{"id", v.id},
                             {"hard", detail::ids_json(v.hard)},
                             {"soft", detail::ids_json(v.soft)},
                             {"effective_hard", detail::ids_json(effective_hard(host, v))},
                             {"effective_soft", detail::ids_json(effective_soft(host, v))}});
        Json out{{"domid", domid},
                 {"vcpus", vcpus},
                 {"node_affinity", detail::ids_json(d.node_affinity)},
                 {"node_affinity_auto", d.node_affinity_mode == NodeAffinityMode::automatic},
                 {"memory_bytes_per_node", detail::per_node_json(mem)}};
        fmt::print("{}\n", out.dump(2));
        return 0;
    }
    fmt::print("domain {}: {} vCPUs allocated, cpupool CPUs {}\n", domid, d.vcpus.size(), to_list(host.pool_cpus));
    fmt::print("{:>5}  {:<12} {:<12} {:<14}\n", "vcpu", "hard", "soft", "effective-soft");
    for (const Vcpu& v : d.vcpus) {
        CpuSet es = effective_soft(host, v);
        fmt::print("{:>5}  {:<12} {:<12} {}\n", v.id, to_list(v.hard), to_list(v.soft),
                   es.empty() ? "(none: soft ignored)" : to_list(es));
    }
    fmt::print("node affinity: {} ({})\n", nodes_text(d.node_affinity), mode_name(d.node_affinity_mode));
    fmt::print("memory:");
    for (const auto& [node, bytes] : mem) fmt::print(" node {} {}", node, format_size(bytes));
    fmt::print("\n");
    return 0;
}

// ---------------------------------------------------------------- vcpu-pin

struct PinRequest {
    std::string domain;
    std::string vcpu;
    std::string hard;
    std::string soft = "-";
    bool force = false;
    bool json = false;
};

// Why the hypervisor refused a vCPU change, in the user's terms.
std::string pin_refusal(const XenHost& host, const Domain& d, int vcpu, const Error& e,
                        const std::optional<CpuSet>& hard) {
    std::string why;
    if (e.code == EINVAL && vcpu >= d.max_vcpus)
        why = fmt::format("domain {} has no vCPU {} (vCPUs: 0-{})", d.domid, vcpu, d.max_vcpus - 1);
    else if (e.code == ESRCH)
        why = fmt::format("vCPU {} of domain {} is not allocated", vcpu, d.domid);
    else if (e.code == EINVAL && hard && !hard->intersects(host.pool_cpus))
        why = fmt::format("hard mask {} has no online CPU of the domain's cpupool (its CPUs: {})", to_list(*hard),
                          to_list(host.pool_cpus));
    else if (e.code == EBUSY)
        why = "the hypervisor has pinned it temporarily (--force overrides)";
    return fmt::format("vCPU {}: {}{}", vcpu, verdict(e.code), why.empty() ? "" : ": " + why);
}

// What became of the vCPUs changed before one was refused ("" when none were).
std::string rollback_text(const VcpuBatch& batch) {
    std::string text;
    if (!batch.restored.empty()) text += fmt::format("; vCPUs {} restored to their previous masks", to_list(batch.restored));
    if (!batch.not_restored.empty())
        text += fmt::format("; vCPUs {} could NOT be restored and keep the new masks", to_list(batch.not_restored));
    return text;
}

int run_vcpu_pin(Hypervisor& hv, const PinRequest& req) {
    const int domid = parse_domid(req.domain);
    const std::string what = fmt::format("xen vcpu-pin domain {}", domid);
    Topology t = or_throw(hv.topology(), what);
    if (req.hard == "-" && req.soft == "-")
        throw CommandError{usage_error("xen vcpu-pin: nothing to change: HARD and SOFT are both \"-\"").error()};
    // The hypervisor's own (stored) state of the domain: the model of it answers why
    // a call was refused and what to restore.
    XenHost host = or_throw(snapshot(hv), what);
    const Domain& d = domain_or_throw(host, domid);

    std::optional<CpuSet> hard;
    std::optional<CpuSet> soft;
    if (req.hard != "-") hard = value_or_throw(parse_cpu_set(req.hard, t));
    if (req.soft != "-") soft = value_or_throw(parse_cpu_set(req.soft, t));
    AffinityFlags flags = AffinityFlags::none;
    if (hard) flags = flags | AffinityFlags::hard;
    if (soft) flags = flags | AffinityFlags::soft;
    if (req.force) flags = flags | AffinityFlags::force;

    std::vector<int> targets;
    if (req.vcpu == "all") {
        for (const Vcpu& v : d.vcpus) targets.push_back(v.id);
        if (targets.empty())
            throw CommandError{failure(fmt::format("{}: the domain has no allocated vCPU", what), ESRCH).error()};
    } else {
        auto v = detail::parse_integer<int>(req.vcpu);
        if (!v || *v < 0)
            throw_error(usage_error(fmt::format("xen vcpu-pin: bad vCPU \"{}\": expected a vCPU number or all", req.vcpu)));
        targets.push_back(*v);
    }

    VcpuBatch batch = set_vcpus_affinity(hv, d, targets, hard.value_or(CpuSet{}), soft.value_or(CpuSet{}), flags);
    if (!batch.ok()) {
        (void)hv.commit();
        throw CommandError{failure(fmt::format("{}: {}{}", what, pin_refusal(host, d, *batch.refused_vcpu, batch.error, hard),
                                               rollback_text(batch)),
                                   batch.error.code)
                               .error()};
    }
    or_throw(hv.commit(), what);

    NodeSet nodes = or_throw(hv.node_affinity(domid), what);
    XenHost after = or_throw(snapshot(hv), what);
    const Domain& d_after = domain_or_throw(after, domid);
    Json vcpus = Json::array();
    for (const VcpuBatch::Changed& x : batch.changed) {
        std::string line = fmt::format("domain {} vCPU {}:", domid, x.vcpu);
        Json j{{"id", x.vcpu}};
        if (x.effective.hard) {
            line += fmt::format(" hard {}", to_list(*x.effective.hard));
            j["effective_hard"] = detail::ids_json(*x.effective.hard);
        }
        if (x.effective.soft) {
            line += fmt::format(" effective soft {}", x.effective.soft->empty() ? "(none)" : to_list(*x.effective.soft));
            j["effective_soft"] = detail::ids_json(*x.effective.soft);
            if (x.effective.soft->empty())
                fmt::print(stderr,
                           "affine: warning: domain {} vCPU {}: soft affinity {} has no CPU in its hard affinity "
                           "and cpupool: the scheduler ignores it\n",
                           domid, x.vcpu, to_list(*soft));
        }
        vcpus.push_back(j);
        if (!req.json) fmt::print("{}\n", line);
    }
    if (req.json) {
        Json out{{"domid", domid},
                 {"vcpus", vcpus},
                 {"node_affinity", detail::ids_json(nodes)},
                 {"node_affinity_auto", d_after.node_affinity_mode == NodeAffinityMode::automatic}};
        fmt::print("{}\n", out.dump(2));
    } else {
        fmt::print("node affinity: {} ({})\n", nodes_text(nodes), mode_name(d_after.node_affinity_mode));
    }
    return 0;
}

// ---------------------------------------------------------------- place

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

int run_place(const std::string& host_spec, const PlaceRequest& req) {
    // Usage errors first: they do not need the hypervisor.
    const int domid = parse_domid(req.domain);
    const PlacementPolicy policy = value_or_throw(parse_placement_policy(req.policy));
    std::optional<std::uint64_t> memory_override;
    if (!req.memory.empty()) {
        auto size = parse_size(req.memory);
        if (!size) {
            size.error().message = "--memory: " + size.error().message;
            throw CommandError{size.error()};
        }
        memory_override = *size;
    }
    const std::string what = fmt::format("xen place domain {}", domid);
    auto hv_owner = open_or_throw(host_spec);
    Hypervisor& hv = *hv_owner;

    XenHost host = or_throw(snapshot(hv), what);
    const Domain& d = domain_or_throw(host, domid);
    DomainMemory memory = or_throw(hv.memory_per_node(), what + ": NUMA dump");
    const std::map<int, std::uint64_t> mem = memory[domid];
    CpuSet reserved;
    if (!req.exclude.empty()) {
        auto excluded = parse_cpu_set(req.exclude, host.topology);
        if (!excluded) {
            excluded.error().message = "--exclude: " + excluded.error().message;
            throw CommandError{excluded.error()};
        }
        reserved = *excluded;
    }

    PlacementHost placement_host = xen_placement_host(host, reserved, domid, mem);
    PlacementRequest request =
        or_throw(xen_placement_request(d, mem, policy, req.follow_memory, memory_override), what);
    Plan plan = or_throw(plan_placement(placement_host, request), what);
    XenPlacementActions actions = xen_placement_actions(plan, d, host.topology.all_cpus());

    const std::uint64_t total = sum_all(mem);
    const std::uint64_t on_plan = sum_on(mem, plan.nodes);
    if (!req.json) {
        fmt::print("domain {}: {} vCPUs, memory {} ({})\n", domid, d.vcpus.size(), format_size(total),
                   memory_text(mem));
        print_plan(plan, request);
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
        VcpuBatch batch;
        if (actions.set_vcpus) {
            std::vector<int> targets;
            for (const Vcpu& v : d.vcpus) targets.push_back(v.id);
            batch = set_vcpus_affinity(hv, d, targets, actions.hard, actions.soft,
                                       AffinityFlags::hard | AffinityFlags::soft);
            if (!batch.ok()) {
                (void)hv.commit();
                throw CommandError{
                    failure(fmt::format("{}: {}{}", what,
                                        pin_refusal(host, d, *batch.refused_vcpu, batch.error, actions.hard),
                                        rollback_text(batch)),
                            batch.error.code)
                        .error()};
            }
        }
        if (actions.node_affinity) {
            auto set = hv.set_node_affinity(domid, *actions.node_affinity);
            if (!set) {
                CpuSet changed;
                for (const VcpuBatch::Changed& c : batch.changed) changed.insert(c.vcpu);
                restore_vcpus(hv, d, changed, batch);
                (void)hv.commit();
                throw CommandError{failure(fmt::format("{}: node affinity {}: {}{}", what,
                                                       nodes_text(*actions.node_affinity), verdict(set.error().code),
                                                       rollback_text(batch)),
                                           set.error().code)
                                       .error()};
            }
            node_affinity_sent = actions.node_affinity;
        }
        or_throw(hv.commit(), what);
        for (const VcpuBatch::Changed& c : batch.changed) {
            Json j{{"id", c.vcpu}};
            std::string line = fmt::format("domain {} vCPU {}:", domid, c.vcpu);
            if (c.effective.hard) {
                j["effective_hard"] = detail::ids_json(*c.effective.hard);
                line += fmt::format(" hard {}", to_list(*c.effective.hard));
            }
            if (c.effective.soft) {
                j["effective_soft"] = detail::ids_json(*c.effective.soft);
                line += fmt::format(" effective soft {}",
                                    c.effective.soft->empty() ? "(none)" : to_list(*c.effective.soft));
                if (c.effective.soft->empty())
                    fmt::print(stderr,
                               "affine: warning: domain {} vCPU {}: soft affinity {} has no CPU in its hard affinity "
                               "and cpupool: the scheduler ignores it\n",
                               domid, c.vcpu, to_list(actions.soft));
            }
            applied.push_back(j);
            if (!req.json) fmt::print("{}\n", line);
        }
        if (node_affinity_sent && !req.json)
            fmt::print("node affinity set to {}\n",
                       *node_affinity_sent == every_node() ? std::string("auto (every node)")
                                                           : to_list(*node_affinity_sent));
    }

    // Read back what holds now.
    XenHost after = or_throw(snapshot(hv), what);
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
                 {"node_affinity_sent", node_affinity_sent ? detail::ids_json(*node_affinity_sent) : Json(nullptr)},
                 {"node_affinity", detail::ids_json(d_after.node_affinity)},
                 {"node_affinity_auto", is_auto},
                 {"memory_bytes_per_node", detail::per_node_json(mem)},
                 {"memory_on_plan_nodes_bytes", on_plan}};
        fmt::print("{}\n", out.dump(2));
    } else {
        fmt::print("node affinity: {} ({})\n", nodes_text(d_after.node_affinity), mode_name(d_after.node_affinity_mode));
    }
    return status;
}

// ---------------------------------------------------------------- node-affinity

int run_node_affinity(Hypervisor& hv, const std::string& domain, const std::string& nodes_text_arg, bool json) {
    const int domid = parse_domid(domain);
    const std::string what = fmt::format("xen node-affinity domain {}", domid);
    if (!nodes_text_arg.empty()) {
        Topology t = or_throw(hv.topology(), what);
        int limit = or_throw(hv.node_id_limit(), what);
        NodeSet wanted = value_or_throw(parse_node_set(nodes_text_arg, node_grammar_host(t, limit)));
        auto set = hv.set_node_affinity(domid, wanted);
        if (!set) {
            std::string why;
            int code = set.error().code;
            if (code == EINVAL && !wanted.intersects(t.all_nodes()))
                why = fmt::format(": nodes {} are not online (online nodes: {})", to_list(wanted), to_list(t.all_nodes()));
            else if (code == ESRCH)
                why = fmt::format(": domain {} does not exist", domid);
            throw CommandError{failure(fmt::format("{}: {}{}", what, verdict(code), why), code).error()};
        }
        or_throw(hv.commit(), what);
        if (wanted == every_node()) {
            // Read back: "all" must have put the domain back in auto mode.
            XenHost host = or_throw(snapshot(hv), what);
            if (domain_or_throw(host, domid).node_affinity_mode != NodeAffinityMode::automatic)
                throw CommandError{
                    failure(fmt::format("{}: all nodes were sent but the node affinity read back ({}) is not what "
                                        "auto mode gives",
                                        what, to_list(domain_or_throw(host, domid).node_affinity)))
                        .error()};
        }
    }
    XenHost host = or_throw(snapshot(hv), what);
    const Domain& d = domain_or_throw(host, domid);
    if (json) {
        Json out{{"domid", domid},
                 {"node_affinity", detail::ids_json(d.node_affinity)},
                 {"node_affinity_auto", d.node_affinity_mode == NodeAffinityMode::automatic}};
        fmt::print("{}\n", out.dump(2));
    } else {
        fmt::print("domain {} node affinity: {} ({})\n", domid, nodes_text(d.node_affinity),
                   mode_name(d.node_affinity_mode));
    }
    return 0;
}

// ---------------------------------------------------------------- numastat

int run_numastat(Hypervisor& hv, const std::string& domain, bool json) {
    std::optional<int> only;
    if (!domain.empty()) only = parse_domid(domain);
    XenHost host = or_throw(snapshot(hv), "xen numastat");
    if (only) (void)domain_or_throw(host, *only);
    DomainMemory memory = or_throw(hv.memory_per_node(), "xen numastat: NUMA dump");
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
        std::uint64_t total = sum_all(mem);
        std::uint64_t local = sum_on(mem, d.node_affinity);
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
    if (json) fmt::print("{}\n", Json{{"nodes", nodes}, {"domains", domains}}.dump(2));
    return 0;
}

// ---------------------------------------------------------------- simulation

[[noreturn]] void refuse_not_simulated(std::string_view command) {
    throw_error(usage_error(fmt::format("xen {} is a simulation command: it changes a simulated host only "
                                            "(give --host sim:STATEFILE; make one with affine xen sim-init)",
                                            command)));
}

SimHypervisor& sim_or_throw(Hypervisor& hv, std::string_view command) {
    auto* sim = dynamic_cast<SimHypervisor*>(&hv);
    if (sim == nullptr) refuse_not_simulated(command);
    return *sim;
}

}  // namespace

Command xen_command() {
    return {"xen", "Xen domains: topo, domains, show, vcpu-pin, place, node-affinity, numastat", [](CLI::App& xen) -> Action {
                struct Options {
                    std::string host = "xen";
                    bool json = false;
                    std::string domain;
                    std::string nodes;
                    PinRequest pin;
                    PlaceRequest place;
                    std::string state;
                    std::string from;
                    int vcpus = 0;
                    int allocated = 0;
                    std::string memory = "0";
                    std::string cpus;
                    std::string on;
                    Action action;
                };
                auto opt = std::make_shared<Options>();
                xen.fallthrough();
                xen.add_option("--host", opt->host,
                               "the hypervisor: xen (this host's, the default) or sim:STATEFILE (a simulated host)");
                auto with_hv = [opt](auto body) {
                    return [opt, body] {
                        auto hv = open_or_throw(opt->host);
                        return body(*hv);
                    };
                };
                // The simulation commands say so before trying this host's hypervisor.
                auto with_sim = [opt, with_hv](const char* name, auto body) {
                    return [opt, name, run = with_hv(body)] {
                        if (!opt->host.starts_with("sim:")) refuse_not_simulated(name);
                        return run();
                    };
                };
                auto leaf = [&xen, opt](const char* name, const char* help, Action action) {
                    CLI::App* sub = xen.add_subcommand(name, help);
                    sub->set_help_flag("-h,--help", "print this command's options");
                    sub->callback([opt, action] { opt->action = action; });
                    return sub;
                };

                auto* topo = leaf("topo", "the host as Xen sees it (xc_physinfo, xc_cputopoinfo, xc_numainfo)",
                                  with_hv([opt](Hypervisor& hv) { return run_topo(hv, opt->json); }));
                topo->add_flag("--json", opt->json, "the JSON of `affine topo --json`");

                auto* domains = leaf("domains", "domains: vCPUs, memory, node affinity (auto or explicit)",
                                     with_hv([opt](Hypervisor& hv) { return run_domains(hv, opt->json); }));
                domains->add_flag("--json", opt->json, "JSON output");

                auto* show = leaf("show", "a domain's vCPU hard/soft masks, node affinity, memory per node",
                                  with_hv([opt](Hypervisor& hv) {
                                      return run_show(hv, parse_domid(opt->domain), opt->json);
                                  }));
                show->add_option("DOM", opt->domain, "domid")->required();
                show->add_flag("--json", opt->json, "JSON output");

                auto* pin = leaf("vcpu-pin", "set vCPU hard and soft affinity (xl syntax; - keeps a mask)",
                                 with_hv([opt](Hypervisor& hv) { return run_vcpu_pin(hv, opt->pin); }));
                pin->add_option("DOM", opt->pin.domain, "domid")->required();
                pin->add_option("VCPU", opt->pin.vcpu, "a vCPU number or all")->required();
                pin->add_option("HARD", opt->pin.hard, "hard affinity (CPU set grammar) or - to keep it")->required();
                pin->add_option("SOFT", opt->pin.soft, "soft affinity or - to keep it (default -)");
                pin->add_flag("--force", opt->pin.force, "override a temporary pinning by the hypervisor");
                pin->add_flag("--json", opt->pin.json, "JSON output: the effective masks returned");

                auto* place = leaf("place",
                                   "plan a domain's placement from the live host state and apply it as xenopsd "
                                   "would (soft or hard affinity of every vCPU)",
                                   [opt] { return run_place(opt->host, opt->place); });
                place->add_option("DOM", opt->place.domain, "domid")->required();
                place->add_option("--policy", opt->place.policy,
                                  "any | best-effort (soft affinity, default) | best-effort-hard | prio-mem-only");
                place->add_flag("--follow-memory", opt->place.follow_memory,
                                "prefer the nodes that already hold the domain's memory (it does not move)");
                place->add_option("--exclude", opt->place.exclude,
                                  "CPUs reserved host-wide: never chosen, and kept out of hard affinity");
                place->add_option("--memory", opt->place.memory,
                                  "plan for this much memory instead of what the domain has now");
                place->add_flag("--dry-run", opt->place.dry_run, "print the plan, apply nothing");
                place->add_flag("--json", opt->place.json, "JSON output: the plan, what was applied, the read-back");

                auto* node = leaf("node-affinity", "read or set a domain's node affinity; all returns to auto",
                                  with_hv([opt](Hypervisor& hv) {
                                      return run_node_affinity(hv, opt->domain, opt->nodes, opt->json);
                                  }));
                node->add_option("DOM", opt->domain, "domid")->required();
                node->add_option("NODES", opt->nodes, "node set (grammar), or all for auto mode");
                node->add_flag("--json", opt->json, "JSON output");

                auto* numastat = leaf("numastat", "memory per node per domain, free memory per node",
                                      with_hv([opt](Hypervisor& hv) {
                                          return run_numastat(hv, opt->domain, opt->json);
                                      }));
                numastat->add_option("DOM", opt->domain, "only this domid");
                numastat->add_flag("--json", opt->json, "JSON output");

                // Simulation only: make and change a simulated host.
                auto* init = leaf("sim-init", "simulation: make a simulated Xen host state file", [opt] {
                    Topology t = value_or_throw(load_host(opt->from));
                    int vcpus = opt->vcpus > 0 ? opt->vcpus : static_cast<int>(t.online_cpus().count());
                    std::uint64_t memory = memory_size(opt->memory);
                    XenHost host = value_or_throw(initial_sim_host(std::move(t), vcpus, memory));
                    throw_if_error(write_sim_state(host, opt->state));
                    fmt::print("simulated Xen host {}: {} CPUs, {} nodes; dom0 with {} vCPUs\n", opt->state,
                               host.topology.cpus.size(), host.topology.nodes.size(), vcpus);
                    return 0;
                });
                init->add_option("STATEFILE", opt->state, "the state file to write")->required();
                init->add_option("--from", opt->from, "the host: a host JSON file or a spec, as for `affine topo --host`")
                    ->required();
                add_number_option(*init, "--dom0-vcpus", opt->vcpus, "dom0's vCPUs (default: one per online CPU)", 1,
                                  max_vcpus_argument);
                init->add_option("--dom0-memory", opt->memory, "dom0's memory, placed by the allocator (default 0)");

                auto* create = leaf("sim-create-domain",
                                    "simulation: create a domain (vCPUs not allocated, as xc_domain_create), set its "
                                    "node affinity, populate its memory; prints the domid",
                                    with_sim("sim-create-domain", [opt](Hypervisor& hv) {
                                        XenHost& host = sim_or_throw(hv, "sim-create-domain").state();
                                        int domid = value_or_throw(create_domain(host, opt->vcpus, opt->allocated));
                                        if (!opt->nodes.empty()) {
                                            NodeSet nodes = value_or_throw(parse_node_set(
                                                opt->nodes, node_grammar_host(host.topology, max_numnodes)));
                                            value_or_throw(set_node_affinity(host, domid, nodes));
                                        }
                                        std::uint64_t bytes = memory_size(opt->memory);
                                        value_or_throw(allocate_pages(host, domid, bytes / page_bytes));
                                        throw_if_error(hv.commit());
                                        fmt::print("{}\n", domid);
                                        return 0;
                                    }));
                add_number_option(*create, "--vcpus", opt->vcpus, "max_vcpus", 1, max_vcpus_argument)->required();
                add_number_option(*create, "--allocated", opt->allocated, "vCPUs allocated now (default 0)", 0,
                                  max_vcpus_argument);
                create->add_option("--memory", opt->memory, "memory to populate (default 0)");
                create->add_option("--node-affinity", opt->nodes, "explicit node affinity, set before the memory");

                auto* destroy = leaf("sim-destroy-domain", "simulation: destroy a domain, freeing its memory",
                                     with_sim("sim-destroy-domain", [opt](Hypervisor& hv) {
                                         XenHost& host = sim_or_throw(hv, "sim-destroy-domain").state();
                                         throw_if_error(destroy_domain(host, parse_domid(opt->domain)));
                                         throw_if_error(hv.commit());
                                         return 0;
                                     }));
                destroy->add_option("DOM", opt->domain, "domid")->required();

                auto* pool = leaf("sim-pool-cpus", "simulation: set the CPUs of cpupool 0",
                                  with_sim("sim-pool-cpus", [opt](Hypervisor& hv) {
                                      XenHost& host = sim_or_throw(hv, "sim-pool-cpus").state();
                                      CpuSet cpus = value_or_throw(parse_cpu_set(opt->cpus, host.topology));
                                      host.pool_cpus = cpus & host.topology.online_cpus();
                                      for (Domain& d : host.domains)
                                          if (d.node_affinity_mode == NodeAffinityMode::automatic)
                                              d.node_affinity = auto_node_affinity(host, d, d.node_affinity);
                                      throw_if_error(hv.commit());
                                      return 0;
                                  }));
                pool->add_option("CPUS", opt->cpus, "CPU set")->required();

                auto* tpin = leaf("sim-temporary-pin", "simulation: mark a vCPU pinned by the hypervisor (EBUSY)",
                                  with_sim("sim-temporary-pin", [opt](Hypervisor& hv) {
                                      XenHost& host = sim_or_throw(hv, "sim-temporary-pin").state();
                                      int domid = parse_domid(opt->domain);
                                      Domain& d = const_cast<Domain&>(domain_or_throw(host, domid));
                                      Vcpu* v = d.vcpu(opt->vcpus);
                                      if (v == nullptr)
                                          throw CommandError{failure(fmt::format("domain {} has no vCPU {}", domid,
                                                                                 opt->vcpus), ESRCH)
                                                                 .error()};
                                      if (opt->on != "on" && opt->on != "off")
                                          throw_error(usage_error(fmt::format(
                                              "xen sim-temporary-pin: bad STATE \"{}\": expected on or off", opt->on)));
                                      v->temporarily_pinned = opt->on == "on";
                                      throw_if_error(hv.commit());
                                      return 0;
                                  }));
                tpin->add_option("DOM", opt->domain, "domid")->required();
                add_number_option(*tpin, "VCPU", opt->vcpus, "vCPU", 0, max_vcpus_argument)->required();
                tpin->add_option("STATE", opt->on, "on or off")->required();

                return [opt] { return opt->action(); };
            }};
}

}  // namespace affine::cli
