// affine place: plan where a VM or process should go (nodes, CPUs, memory, affinity).
#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "../core/placement_json.hpp"
#include "affine/placement.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "command.hpp"

namespace affine::cli {
namespace {

constexpr int exit_done = 0;
constexpr int exit_not_placed = 1;

struct Options {
    int vcpus = 1;
    std::string memory;
    bool cores = false;
    std::string policy = "best-effort";
    std::string exclude;
    std::string host = "live";
    std::string requests;
    bool json = false;
};

std::string per_node_text(const auto& values, auto format_value) {
    std::string text;
    for (const auto& [node, value] : values)
        text += fmt::format("{}node {}: {}", text.empty() ? "" : ", ", node, format_value(value));
    return text.empty() ? "-" : text;
}

std::string score_text(const PlanScore& s) {
    std::string load = s.node_load_den == 0
                           ? "infinite"
                           : fmt::format("{:.2f} on the busiest node, {:.2f} mean", s.projected_load(), s.mean_load());
    std::string text = fmt::format("{} node{}, worst distance {}, projected load {} vCPUs/CPU, {} left free on them "
                                   "(least free node {:.1f}%)",
                                   s.node_count, s.node_count == 1 ? "" : "s", s.worst_distance, load,
                                   format_size(s.free_memory_left_bytes), 100 * s.least_free_fraction());
    if (s.resident_bytes > 0) text += fmt::format(", {} of its memory already there", format_size(s.resident_bytes));
    return text;
}

void print_plan(const Plan& plan, const PlacementRequest& request) {
    fmt::print("plan{}: {} vCPU{}{}, {}, policy {}\n", plan.name.empty() ? "" : " for " + plan.name, request.vcpus,
               request.vcpus == 1 ? "" : "s", request.unit == VcpuUnit::core ? " (whole cores)" : "",
               format_size(request.memory_bytes), to_string(plan.policy));
    if (plan.outcome == PlanOutcome::refused) {
        fmt::print("  NOT PLACED  {}\n", plan.fallback);
        return;
    }
    if (plan.outcome == PlanOutcome::fallback) fmt::print("  FALLBACK    {}\n", plan.fallback);
    fmt::print("  nodes       {}\n", to_list(plan.nodes));
    fmt::print("  cpus        {}\n", to_list(plan.cpus));
    switch (plan.affinity) {
        case AffinityKind::soft: fmt::print("  affinity    soft, every vCPU prefers CPUs {}\n", to_list(plan.soft_cpus)); break;
        case AffinityKind::hard: fmt::print("  affinity    hard, every vCPU pinned to CPUs {}\n", to_list(plan.hard_cpus)); break;
        case AffinityKind::none: fmt::print("  affinity    none\n"); break;
    }
    if (!plan.hard_cpus.empty() && plan.affinity != AffinityKind::hard)
        fmt::print("  hard        CPUs {} (keeps off the reserved CPUs)\n", to_list(plan.hard_cpus));
    fmt::print("  memory      {}\n",
               per_node_text(plan.memory_bytes_per_node, [](std::uint64_t b) { return format_size(b); }));
    fmt::print("  vcpus       {}\n", per_node_text(plan.vcpus_per_node, [](int v) { return std::to_string(v); }));
    if (plan.outcome == PlanOutcome::placed && plan.policy != PlacementPolicy::any) {
        fmt::print("  score       {}\n", score_text(plan.score));
        fmt::print("  search      {}\n", to_string(plan.search));
        if (!plan.why_not_fewer_nodes.empty()) fmt::print("  why {} nodes  {}\n", plan.score.node_count, plan.why_not_fewer_nodes);
        if (!plan.runners_up.empty()) fmt::print("  runners-up:\n");
        for (const RunnerUp& r : plan.runners_up) {
            std::string rule(to_string(r.lost_on));
            std::ranges::replace(rule, '_', ' ');
            fmt::print("    nodes {:<10} lost on {}: {}\n", to_list(r.nodes), rule, r.reason);
        }
    }
}

void print_host_state(const PlacementHost& host) {
    const Topology& t = host.topology;
    CpuSet usable = (t.online_cpus() & t.allowed_cpus) - host.reserved;
    fmt::print("host state after placement{}:\n",
               host.reserved.empty() ? "" : fmt::format(" (reserved CPUs {})", to_list(host.reserved)));
    fmt::print("{:>4}  {:<16} {:>10} {:>10} {:>6} {:>6}\n", "node", "usable cpus", "memory", "free", "vcpus", "load");
    for (const Node& n : t.nodes) {
        CpuSet cpus = n.cpus & usable;
        int vcpus = host.vcpus_per_node.contains(n.id) ? host.vcpus_per_node.at(n.id) : 0;
        std::string load = cpus.empty() ? "-" : fmt::format("{:.2f}", static_cast<double>(vcpus) / cpus.count());
        fmt::print("{:>4}  {:<16} {:>10} {:>10} {:>6} {:>6}\n", n.id, cpus.empty() ? "-" : to_list(cpus),
                   format_size(n.memory_total_bytes), format_size(n.memory_free_bytes), vcpus, load);
    }
}

std::vector<PlacementRequest> read_requests(const std::string& path, PlacementPolicy default_policy) {
    std::ifstream in(path);
    if (!in) throw CommandError{Error{ErrorKind::usage, fmt::format("--requests {}: cannot open the file", path), 0}};
    std::vector<PlacementRequest> requests;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        auto parsed = placement_request_from_json(line, default_policy);
        if (!parsed) {
            parsed.error().message = fmt::format("{} line {}: {}", path, number, parsed.error().message);
            throw CommandError{parsed.error()};
        }
        if (parsed->name.empty()) parsed->name = fmt::format("request {}", number);
        requests.push_back(std::move(*parsed));
    }
    if (requests.empty())
        throw CommandError{Error{ErrorKind::usage, fmt::format("--requests {}: no request in the file", path), 0}};
    return requests;
}

int place(const Options& opt, const CLI::App& sub) {
    PlacementHost host;
    host.topology = load_host_or_throw(opt.host);
    if (!opt.exclude.empty()) {
        auto excluded = parse_cpu_set(opt.exclude, host.topology);
        if (!excluded) {
            excluded.error().message = "--exclude: " + excluded.error().message;
            throw CommandError{excluded.error()};
        }
        host.reserved = *excluded;
    }
    PlacementPolicy policy = value_or_throw(parse_placement_policy(opt.policy));

    std::vector<PlacementRequest> requests;
    bool batch = !opt.requests.empty();
    if (batch) {
        for (const char* single : {"--vcpus", "--memory", "--cores"})
            if (sub.count(single) > 0)
                throw CommandError{Error{ErrorKind::usage,
                                         fmt::format("{} cannot be combined with --requests (give it per line)", single), 0}};
        requests = read_requests(opt.requests, policy);
    } else {
        if (opt.memory.empty())
            throw CommandError{Error{ErrorKind::usage, "--memory SIZE is required (or --requests FILE)", 0}};
        PlacementRequest r;
        r.vcpus = opt.vcpus;
        auto memory = parse_size(opt.memory);
        if (!memory) {
            memory.error().message = "--memory: " + memory.error().message;
            throw CommandError{memory.error()};
        }
        r.memory_bytes = *memory;
        r.unit = opt.cores ? VcpuUnit::core : VcpuUnit::cpu;
        r.policy = policy;
        requests.push_back(std::move(r));
    }

    int status = exit_done;
    detail::Json plans = detail::Json::array();
    for (const PlacementRequest& request : requests) {
        Plan plan = value_or_throw(plan_placement(host, request));
        apply_to_host_state(host, plan);
        if (!plan.fits()) status = exit_not_placed;
        if (opt.json) {
            plans.push_back(detail::plan_json(plan));
        } else {
            print_plan(plan, request);
            fmt::print("\n");
        }
    }
    if (opt.json) {
        if (batch)
            fmt::print("{}\n", detail::Json{{"plans", plans}, {"host", detail::placement_host_json(host)}}.dump());
        else
            fmt::print("{}\n", plans[0].dump());
    } else if (batch) {
        print_host_state(host);
    }
    return status;
}

}  // namespace

Command place_command() {
    return {"place", "plan the nodes, CPUs and memory of a VM or process (NUMA placement)",
            [](CLI::App& sub) -> Action {
                auto opt = std::make_shared<Options>();
                sub.add_option("--vcpus", opt->vcpus, "vCPUs (or threads) to place (default 1)");
                sub.add_option("--memory", opt->memory, "memory to place: 4G, 512M, or bytes");
                sub.add_flag("--cores", opt->cores, "every vCPU needs a whole physical core");
                sub.add_option("--policy", opt->policy,
                               "any | best-effort (soft affinity, default) | best-effort-hard | prio-mem-only "
                               "(memory only); with --requests, for lines without one");
                sub.add_option("--exclude", opt->exclude,
                               "CPUs reserved for the system or other guests: never chosen (set grammar)");
                sub.add_option("--requests", opt->requests,
                               "place the requests of FILE in order, one JSON object a line: "
                               "{\"name\": \"vm1\", \"vcpus\": 2, \"memory\": \"2G\", \"cores\": false, "
                               "\"policy\": \"best-effort\"}");
                sub.add_flag("--json", opt->json, "print the plan (or {\"plans\": [...], \"host\": {...}}) as JSON");
                add_host_option(sub, opt->host);
                const CLI::App* self = &sub;
                return [opt, self] { return place(*opt, *self); };
            }};
}

}  // namespace affine::cli
