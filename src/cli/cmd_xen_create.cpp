// affine xen create: plan a new domain on the live Xen state, then let xl build it
// with the plan as its vCPU affinity, so that its memory is allocated where planned.
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "xen/create.hpp"
#include "xen/domain_names.hpp"
#include "host/hypervisor_source.hpp"
#include "xen/hypervisor.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "affine/xen_create_plan.hpp"
#include "affine/xen_preferred_first.hpp"
#include "affine/xl_config.hpp"
#include "command.hpp"
#include "plan_text.hpp"
#include "xen_cli.hpp"

namespace affine::cli {
namespace {

using namespace affine::xen;


XlConfig read_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        int code = errno;
        throw_error(failure(fmt::format("xen create: cannot read {}: {}", path, std::strerror(code)), code)
                               .error());
    }
    std::ostringstream text;
    text << in.rdbuf();
    return value_or_throw(parse_xl_config(text.str(), path));
}

std::string memory_text(const std::map<int, std::uint64_t>& per_node) {
    std::string text;
    for (const auto& [node, bytes] : per_node)
        if (bytes > 0) text += fmt::format("{}node {} {}", text.empty() ? "" : ", ", node, format_size(bytes));
    return text.empty() ? "none" : text;
}

// What the domain reads after creation: its vCPU masks and where its memory went
// (the hypervisor's NUMA dump, as `xen numastat`), and whether that is the plan.
// Returns false when the memory is not where planned.
bool print_read_back(Hypervisor& hv, const std::string& name, const Plan* plan) {
    int domid = value_or_throw(resolve_domain(hv, name), fmt::format("xen create: reading back domain {}", name));
    XenHost host = value_or_throw(snapshot(hv), "xen create: reading back");
    const Domain* d = host.domain(domid);
    if (d == nullptr) throw_error(failure(fmt::format("xen create: domain {} ({}) is gone", name, domid), ESRCH));
    DomainMemory memory = value_or_throw(hv.memory_per_node(), "xen create: NUMA dump");
    const auto& mem = memory[domid];
    fmt::print("created domain {}: domid {}\n", name, domid);
    fmt::print("{:>5}  {:<12} {:<12}\n", "vcpu", "hard", "soft");
    for (const Vcpu& v : d->vcpus) fmt::print("{:>5}  {:<12} {:<12}\n", v.id, to_list(v.hard), to_list(v.soft));
    fmt::print("node affinity: {}\n", to_list(d->node_affinity));
    std::uint64_t total = 0, on_plan = 0;
    for (const auto& [node, bytes] : mem) {
        total += bytes;
        if (plan != nullptr && plan->nodes.contains(node)) on_plan += bytes;
    }
    fmt::print("memory: {}{}\n", memory_text(mem),
               plan == nullptr ? "" : fmt::format(" (planned: {})", memory_text(plan->memory_bytes_per_node)));
    if (plan == nullptr) return true;
    // Xen takes a few pages for itself; more than 1% elsewhere is not the plan.
    const std::uint64_t off_plan = total - on_plan;
    if (total > 0 && off_plan * 100 > total) {
        fmt::print(stderr,
                   "affine: warning: domain {}: {} of its {} memory is NOT on the planned nodes {} ({}); memory "
                   "already allocated does not move in Xen\n",
                   name, format_size(off_plan), format_size(total), to_list(plan->nodes), memory_text(mem));
        return false;
    }
    fmt::print("memory is where planned: {} of {} on nodes {}\n", format_size(on_plan), format_size(total),
               to_list(plan->nodes));
    return true;
}

// "512M": the address below which Xen keeps memory for last.
std::string dma_limit(const DomainFreeMemory& free) { return format_size(std::uint64_t{1} << free.dma_bits); }

// The free memory Xen gives a new domain first (`first`, the planner's host), when
// its DMA width keeps some of the hypervisor's free memory (`all`) for last.
void print_first_free(const Topology& all, const Topology& first, const DomainFreeMemory& free) {
    if (free.dma_bits == 0) return;
    std::string nodes;
    for (const Node& n : all.nodes) {
        const Node* f = first.node(n.id);
        std::uint64_t bytes = f != nullptr ? f->memory_free_bytes : n.memory_free_bytes;
        nodes += fmt::format("{}node {} {}", nodes.empty() ? "" : ", ", n.id, format_size(bytes));
        if (bytes < n.memory_free_bytes) nodes += fmt::format(" (+{} below)", format_size(n.memory_free_bytes - bytes));
    }
    fmt::print("free memory a new domain gets first (above {}, Xen's DMA width of {} bits, from {}): {}\n",
               dma_limit(free), free.dma_bits, free.dma_bits_source, nodes);
}

// Builds the domain: xl on the real host, the model's stand-in on a simulated one.
// Returns the exit status to give (xl's own when it fails).
int build(Hypervisor& hv, const XlConfig& config, const std::vector<std::string>& argv) {
    if (hv.simulation() == nullptr) {
        int status = value_or_throw(run_program(argv));
        if (status != 0) fmt::print(stderr, "affine: xen create: {} exited with status {}\n", argv[0], status);
        return status;
    }
    // The simulated host: the configuration with every override, as xl would read it.
    XlConfig final_config = config;
    std::vector<std::string> overrides(argv.begin() + 3, argv.end());
    value_or_throw(apply_xl_overrides(final_config, overrides));
    XlDomain domain = value_or_throw(xl_domain_from_config(final_config));
    value_or_throw(sim_xl_create(hv, domain), "xen create (simulated xl create)");
    value_or_throw(hv.commit());
    return 0;
}

struct XenCreateRequest {
    std::string config;                  // the xl configuration file
    std::vector<std::string> overrides;  // KEY=VALUE, as xl takes them
    std::string policy = "best-effort";
    std::string exclude;
    bool striped = false;
    int populate_timeout_s = 60;
    bool dry_run = false;
};

// The preferred-first split and the steps that carry it out, as `--dry-run` shows
// them and before they run.
void print_preferred_first(const PreferredFirstSplit& split, const PreferredFirstSteps& steps, const Plan& striped,
                           const Topology& topology, const std::vector<std::string>& argv) {
    fmt::print("preferred node first: node {}, then the nearest nodes, each only to the extent necessary\n",
               split.preferred);
    for (const NodeShare& s : split.shares)
        fmt::print("  node {:<3} {:>8}  distance {}{}\n", s.node, format_size(s.bytes), s.distance,
                   s.node == split.preferred ? " (the vCPUs' node)" : "");
    fmt::print("  mean distance from node {}, weighted by memory: {:.2f} (striped over nodes {}: {:.2f})\n",
               split.preferred, split.mean_distance, to_list(striped.nodes),
               mean_distance(topology, split.preferred, striped.memory_bytes_per_node));
    fmt::print("steps:\n");
    fmt::print("  1. {}   (memory {} on node {}: its node affinity follows the soft affinity)\n",
               shell_command_line(argv), format_size(steps.create_memory_bytes), split.preferred);
    int n = 2;
    for (const PopulateStep& step : steps.populate)
        fmt::print("  {}. node affinity {}; target {}M (+{}); wait until the guest has populated it\n", n++, step.node,
                   step.target_bytes >> 20, format_size(step.share_bytes));
    fmt::print("  {}. node affinity {} (the nodes used)\n", n, to_list(steps.final_node_affinity));
}

void add_xen_create_options(CLI::App& sub, XenCreateRequest& r) {
    sub.add_option("CONFIG", r.config, "the domain's xl configuration file")->required();
    sub.add_option("KEY=VALUE", r.overrides, "settings that override the file's, as xl create takes them");
    sub.add_option("--policy", r.policy,
                   "best-effort (soft affinity, default) | best-effort-hard (hard affinity) | any (no placement)");
    sub.add_option("--exclude", r.exclude, "CPUs reserved host-wide: never chosen, and kept out of hard affinity");
    sub.add_flag("--striped", r.striped,
                 "a domain larger than any node: stripe its memory over the plan's nodes instead of filling its "
                 "preferred node first");
    sub.add_option("--populate-timeout", r.populate_timeout_s,
                   "seconds each node's share may take to be ballooned in (default 60)");
    sub.add_flag("--dry-run", r.dry_run, "print the plan, the xl create command line and the steps, create nothing");
}

struct PreferredFirst {
    PreferredFirstSplit split;
    PreferredFirstSteps steps;
};

// The preferred-first build of a domain the planner put on several nodes, or
// nullopt (said when it would have applied) to build it striped as planned.
std::optional<PreferredFirst> plan_preferred_first(const Plan& plan, const PlacementHost& host,
                                                   const XlDomain& domain, bool striped, const std::string& what) {
    const std::optional<int> preferred = preferred_node(host, plan);
    if (std::string why_not = why_not_preferred_first(plan, domain, host.topology, preferred); !why_not.empty()) {
        if (plan.nodes.count() > 1 && plan.affinity != AffinityKind::none)
            fmt::print("memory striped over nodes {}: {}\n", to_list(plan.nodes), why_not);
        return std::nullopt;
    }
    if (striped) {
        fmt::print("memory striped over nodes {} (--striped)\n", to_list(plan.nodes));
        return std::nullopt;
    }
    auto split = split_preferred_first(host, *preferred, domain.memory_mib << 20);
    if (!split) {
        fmt::print(stderr, "affine: warning: {}: memory striped over nodes {}: preferred node first: {}\n", what,
                   to_list(plan.nodes), split.error().message);
        return std::nullopt;
    }
    PreferredFirst out{.split = std::move(*split), .steps = {}};
    out.steps = value_or_throw(preferred_first_steps(plan, out.split, domain, host.topology));
    return out;
}

int run_xen_create(const std::string& host_spec, const XenCreateRequest& r) {
    // Usage errors first: they need no hypervisor.
    const PlacementPolicy policy = value_or_throw(parse_placement_policy(r.policy));
    if (r.populate_timeout_s < 1)
        throw_error(usage_error(fmt::format("--populate-timeout: {} is not a number of seconds of at least 1",
                                                   r.populate_timeout_s))
                               .error());
    XlConfig config = read_config(r.config);
    value_or_throw(apply_xl_overrides(config, r.overrides));
    const XlDomain domain = value_or_throw(xl_domain_from_config(config));
    if (!domain.cpupool.empty() && domain.cpupool != "Pool-0")
        throw_error(usage_error(fmt::format("xen create: cpupool \"{}\": affine plans in cpupool 0 (Pool-0) "
                                                   "only",
                                                   domain.cpupool))
                               .error());

    const std::string what = fmt::format("xen create {}", domain.name);
    // From planning until the domain's memory is populated, no other creation plans
    // (taken before the host is read: a simulated host is read when opened).
    std::optional<CreateLock> lock;
    if (!r.dry_run) lock.emplace(value_or_throw(CreateLock::acquire(create_lock_path(host_spec)), what));
    auto hv_owner = value_or_throw(open_hypervisor(host_spec));
    Hypervisor& hv = *hv_owner;
    Topology topology = value_or_throw(hv.topology(), what);
    CpuSet reserved;
    if (!r.exclude.empty()) {
        auto excluded = parse_cpu_set(r.exclude, topology);
        if (!excluded) {
            excluded.error().message = "--exclude: " + excluded.error().message;
            throw_error(excluded.error());
        }
        reserved = *excluded;
    }
    std::optional<CpuSet> hard_limit;
    if (domain.cpus) {
        CpuSet all;
        for (const CpuSet& m : value_or_throw(resolve_xl_cpus(*domain.cpus, domain.max_vcpus, topology, "cpus")))
            all |= m;
        hard_limit = all;
    }
    if (domain.cpus_soft) (void)value_or_throw(resolve_xl_cpus(*domain.cpus_soft, domain.max_vcpus, topology, "cpus_soft"));
    // A name already taken: xl would refuse it after planning; say so first.
    if (auto names = hv.domain_names())
        for (const auto& [domid, name] : *names)
            if (name == domain.name)
                throw_error(failure(fmt::format("{}: domain {} already has that name", what, domid), EEXIST)
                                       .error());

    std::vector<std::string> argv{xl_binary(), "create", r.config};
    argv.insert(argv.end(), r.overrides.begin(), r.overrides.end());
    fmt::print("domain {} ({}): {} vCPU{} (max {}), memory {} (maxmem {}){}\n", domain.name, r.config, domain.vcpus,
               domain.vcpus == 1 ? "" : "s", domain.max_vcpus, format_size(domain.memory_mib << 20),
               format_size(domain.maxmem_mib << 20), domain.type.empty() ? "" : ", type " + domain.type);

    std::optional<Plan> plan;
    std::optional<PreferredFirst> preferred_first;
    if (domain.cpus_soft) {
        fmt::print("cpus_soft is given: no placement (xl places nothing either); the domain is created as "
                   "configured{}\n",
                   reserved.empty() ? "" : " (--exclude is not applied)");
    } else {
        XenHost host = value_or_throw(snapshot(hv), what);
        DomainFreeMemory free = value_or_throw(hv.domain_free_memory(host.topology), what);
        PlacementHost first_host = xen_create_placement_host(host, reserved, hard_limit, free.first);
        print_first_free(host.topology, first_host.topology, free);
        PlacementRequest request = xen_create_request(domain, policy);
        plan = value_or_throw(plan_placement(first_host, request), what);
        if (!plan->fits() && free.dma_bits > 0) {
            // Xen takes the rest from other nodes and from below its DMA width: plan on
            // all free memory, and say the domain's memory will not all be local.
            Plan whole = value_or_throw(plan_placement(xen_create_placement_host(host, reserved, hard_limit), request), what);
            if (whole.fits()) {
                fmt::print(stderr,
                           "affine: warning: {}: {} does not fit in the memory Xen gives first on any nodes; "
                           "planned on all free memory: part of it will come from other nodes or from below {}\n",
                           what, format_size(request.memory_bytes), dma_limit(free));
                plan = std::move(whole);
            }
        }
        if (!plan->fits()) {
            print_plan(*plan, request);
            throw_error(failure(fmt::format("{}: not created: {}{}", what,
                                                   plan->outcome == PlanOutcome::refused
                                                       ? "the host has not the free memory"
                                                       : "no node set fits",
                                                   plan->fallback.empty() ? "" : " (" + plan->fallback + ")"))
                                   .error());
        }
        preferred_first = plan_preferred_first(*plan, first_host, domain, r.striped, what);
        if (preferred_first) {
            const Plan striped = *plan;
            plan = preferred_node_plan(striped, preferred_first->split, first_host.topology);
            print_plan(*plan, request);
            argv.insert(argv.end(), preferred_first->steps.xl_overrides.begin(),
                        preferred_first->steps.xl_overrides.end());
            print_preferred_first(preferred_first->split, preferred_first->steps, striped, first_host.topology, argv);
        } else {
            print_plan(*plan, request);
            auto overrides = value_or_throw(xl_placement_overrides(*plan, domain));
            argv.insert(argv.end(), overrides.begin(), overrides.end());
        }
    }
    fmt::print("xl command: {}\n", shell_command_line(argv));
    if (r.dry_run) {
        fmt::print("dry run: nothing created\n");
        return 0;
    }
    std::fflush(stdout);
    int status = build(hv, config, argv);
    if (status != 0) {
        // xl can fail after the domain is built (a crash on its way out): then the
        // domain runs, and is read back (and populated) as any other.
        auto domid = resolve_domain(hv, domain.name);
        if (!domid) return status;
        fmt::print(stderr, "affine: xen create: domain {} exists (domid {}) although xl failed\n", domain.name,
                   *domid);
        if (!preferred_first) {
            lock.reset();
            print_read_back(hv, domain.name, plan ? &*plan : nullptr);
            return status;
        }
    }
    if (preferred_first) {
        // Under the creation lock until the last node's share is in: a creation
        // planned meanwhile would count memory this domain is about to take.
        int domid = value_or_throw(resolve_domain(hv, domain.name), what);
        PopulateOutcome outcome = populate_preferred_first(
            hv, domid, preferred_first->steps, std::chrono::seconds(r.populate_timeout_s),
            [](const std::string& line) { fmt::print("{}\n", line); std::fflush(stdout); });
        value_or_throw(hv.commit());
        lock.reset();
        print_read_back(hv, domain.name, &*plan);
        if (!outcome.completed) {
            fmt::print(stderr,
                       "affine: {}: not populated: {}. Domain {} (domid {}) is left as it is, with {} of its {}: "
                       "a guest without a balloon driver, or paused, does not take up memory. When it can, it "
                       "takes the rest under its present node affinity (xl mem-set {} {}m then affine xen "
                       "node-affinity {} {}); or xl destroy {}\n",
                       what, outcome.error, domain.name, domid, format_size(outcome.memory_bytes),
                       format_size(preferred_first->split.memory_bytes), domid,
                       preferred_first->split.memory_bytes >> 20, domid,
                       to_list(preferred_first->steps.final_node_affinity), domid);
            return 1;
        }
        return status;
    }
    lock.reset();  // the memory is populated: xl create returns after building
    bool where_planned = print_read_back(hv, domain.name, plan ? &*plan : nullptr);
    (void)where_planned;  // said on stderr; the domain exists and runs either way
    return 0;
}

}  // namespace

XenSubcommand xen_create_subcommand() {
    return {"create", "create a domain with xl, placed by the planner before its memory is allocated",
            [](CLI::App& sub, std::shared_ptr<const XenOptions> xen) -> Action {
                auto request = std::make_shared<XenCreateRequest>();
                add_xen_create_options(sub, *request);
                return [xen, request] { return run_xen_create(xen->host, *request); };
            }};
}

}  // namespace affine::cli
