// affine place: plan where a VM or process should go (nodes, CPUs, memory, affinity).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "planner/placement_json.hpp"
#include "affine/placement.hpp"
#include "affine/tiered_placement.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "command.hpp"
#include "json_output.hpp"
#include "plan_text.hpp"

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
    std::string memory_tier = "any";
    bool json = false;
};

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
    if (!in) throw_error(usage_error(fmt::format("--requests {}: cannot open the file", path)));
    std::vector<PlacementRequest> requests;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        PlacementRequest parsed = value_or_throw(placement_request_from_json(line, default_policy),
                                                 fmt::format("{} line {}", path, number));
        if (parsed.name.empty()) parsed.name = fmt::format("request {}", number);
        requests.push_back(std::move(parsed));
    }
    if (requests.empty())
        throw_error(usage_error(fmt::format("--requests {}: no request in the file", path)));
    return requests;
}

int place(const Options& opt, const CLI::App& sub) {
    PlacementHost host = placement_host_or_throw(load_host_or_throw(opt.host), opt.exclude);
    PlacementPolicy policy = value_or_throw(parse_placement_policy(opt.policy));
    MemoryTierUse tiers = value_or_throw(parse_memory_tier_use(opt.memory_tier), "--memory-tier");

    std::vector<PlacementRequest> requests;
    bool batch = !opt.requests.empty();
    if (batch) {
        for (const char* single : {"--vcpus", "--memory", "--cores"})
            if (sub.count(single) > 0)
                throw_error(usage_error(fmt::format("{} cannot be combined with --requests (give it per line)", single)));
        requests = read_requests(opt.requests, policy);
    } else {
        requests.push_back(single_placement_request("place", opt.vcpus, opt.memory, opt.cores, policy));
    }

    int status = exit_done;
    detail::Json plans = detail::Json::array();
    for (const PlacementRequest& request : requests) {
        Plan plan = value_or_throw(plan_tiered_placement(host, request, tiers));
        if (!plan.fits()) status = exit_not_placed;
        if (opt.json) {
            plans.push_back(detail::plan_json(plan));
        } else {
            print_plan(plan, request, &host);
            fmt::print("\n");
        }
        apply_to_host_state(host, plan);
    }
    if (opt.json) {
        if (batch)
            print_json(detail::Json{{"plans", plans}, {"host", detail::placement_host_json(host)}});
        else
            print_json(plans[0]);
    } else if (batch) {
        print_host_state(host);
    }
    return status;
}

}  // namespace

std::uint64_t memory_option_or_throw(const std::string& text, std::string_view command) {
    std::uint64_t bytes = value_or_throw(parse_size(text), fmt::format("{} --memory", command));
    // Less than a page is never meant: `--memory 4` lacks its unit.
    auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    if (bytes < page)
        throw_error(usage_error(fmt::format("{} --memory {}: {} bytes is less than a page ({} bytes); a unit is "
                                            "missing? (4G, 512M, 64GB)",
                                            command, text, bytes, page)));
    return bytes;
}

PlacementRequest single_placement_request(std::string_view command, int vcpus, const std::string& memory, bool cores,
                                          PlacementPolicy policy) {
    if (memory.empty())
        throw_error(usage_error(fmt::format("{}: missing --memory SIZE (memory to place: 4G, 512M; affine {} --help)",
                                            command, command.substr(0, command.find(' ')))));
    PlacementRequest r;
    r.vcpus = vcpus;
    r.memory_bytes = memory_option_or_throw(memory, command);
    r.unit = cores ? VcpuUnit::core : VcpuUnit::cpu;
    r.policy = policy;
    return r;
}

PlacementHost placement_host_or_throw(Topology topology, const std::string& exclude) {
    CpuSet reserved;
    if (!exclude.empty()) reserved = value_or_throw(parse_cpu_set(exclude, topology), "--exclude");
    return make_placement_host(std::move(topology), reserved);
}

void add_memory_tier_option(CLI::App& sub, std::string& value) {
    sub.add_option("--memory-tier", value,
                   "top: memory from the fastest memory tier only | any: the fastest first, lower tiers when it "
                   "is full (default)");
}

Command place_command() {
    return {"place", "plan the nodes, CPUs and memory of a VM or process (NUMA placement)",
            [](CLI::App& sub, const CommandLine&) -> Action {
                auto opt = std::make_shared<Options>();
                add_number_option(sub, "--vcpus", opt->vcpus, "vCPUs (or threads) to place (default 1)", 1,
                                  max_vcpus_argument);
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
                add_memory_tier_option(sub, opt->memory_tier);
                add_json_flag(sub, opt->json, "print the plan (or {\"plans\": [...], \"host\": {...}}) as JSON");
                add_host_option(sub, opt->host);
                const CLI::App* self = &sub;
                return [opt, self] { return place(*opt, *self); };
            }};
}

}  // namespace affine::cli
