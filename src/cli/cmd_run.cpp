// affine run: start a command with an affinity and memory policy it and its children inherit.
#include <fmt/format.h>
#include <unistd.h>

#include "affine/host.hpp"
#include "affine/linux.hpp"
#include "affine/placement.hpp"
#include "affine/tiered_placement.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "daemon/control_client.hpp"
#include "command.hpp"
#include "help_format.hpp"
#include "soft_cli.hpp"

namespace affine::cli {
namespace {

struct Options {
    std::string cpus;
    std::string nodes;
    std::string mode = "auto";
    bool verbose = false;
    // --place
    bool place = false;
    std::string memory;
    int vcpus = 1;
    bool cores = false;
    std::string policy = "best-effort";
    std::string exclude;
    std::string memory_tier = "any";
    // --soft
    std::string soft;
};

// Asks the daemon to take this process (every thread, and the processes it starts)
// with soft affinity `cpus`; returns once it has, so the command starts managed.
void take_self_soft(const CpuSet& cpus) {
    request_soft_affinity({static_cast<int>(::getpid())}, cpus, true, true);
}

// run --soft CPUS [--cpus HARD] [--nodes N]: soft affinity through the daemon,
// within the hard affinity --cpus sets (Xen's model: a preference inside what is
// allowed), memory preferred on the soft CPUs' nodes (MPOL_PREFERRED_MANY) or on --nodes.
LaunchPolicy soft_launch_policy(const Options& opt, const CLI::App& sub) {
    if (sub.count("--place") > 0) throw_error(usage_error("--place cannot be combined with --soft"));
    Topology host = load_host_or_throw("live");
    auto cpus = parse_soft_cpus_or_throw(opt.soft, host);
    if (!cpus) throw_error(usage_error("run --soft needs CPUs (\"all\" is no preference: run without --soft)"));
    LaunchPolicy policy;
    if (!opt.cpus.empty()) {
        CpuSet hard = value_or_throw(parse_cpu_set(opt.cpus, host));
        if ((*cpus & hard).empty())
            throw_error(usage_error(fmt::format("run --soft {} lies outside --cpus {}: soft affinity is a preference "
                                                "within the hard affinity",
                                                to_list(*cpus), to_list(hard))));
        policy.cpus = hard;
    }
    policy.mode = sub.count("--mem-policy") > 0 ? value_or_throw(parse_mem_policy(opt.mode)) : MemPolicy::preferred;
    if (!opt.nodes.empty()) policy.nodes = value_or_throw(parse_node_set(opt.nodes, host));
    else if (policy.mode != MemPolicy::local) policy.nodes = host.nodes_of(*cpus) & host.nodes_with_memory();
    if (policy.nodes && policy.nodes->empty()) policy.nodes.reset();
    // The hard affinity holds before the daemon takes this process, which records it
    // as the hard mask; from then on the daemon owns the mask, so exec leaves it alone.
    if (policy.cpus) value_or_throw(apply_launch_policy(policy));
    take_self_soft(*cpus);
    policy.cpus.reset();
    fmt::print(stderr, "affine: soft CPUs {} through the daemon{}\n", to_list(*cpus),
               policy.nodes ? fmt::format("; memory {} on node {}", to_string(policy.mode), to_list(*policy.nodes)) : "");
    return policy;
}

// Plans on the live host and turns the plan into what run applies; says on stderr
// what was chosen, as the command's own output belongs to COMMAND.
LaunchPolicy placed_launch_policy(const Options& opt, const CLI::App& sub) {
    for (const char* manual : {"--cpus", "--nodes", "--mem-policy"})
        if (sub.count(manual) > 0)
            throw_error(usage_error(fmt::format("{} cannot be combined with --place (the plan chooses the CPUs, "
                                                "nodes and memory policy)",
                                                manual)));
    PlacementPolicy policy = value_or_throw(parse_placement_policy(opt.policy));
    PlacementRequest request = single_placement_request("run --place", opt.vcpus, opt.memory, opt.cores, policy);
    MemoryTierUse tiers = value_or_throw(parse_memory_tier_use(opt.memory_tier), "--memory-tier");
    PlacementHost host = placement_host_or_throw(load_host_or_throw("live"), opt.exclude);
    Plan plan = value_or_throw(plan_tiered_placement(host, request, tiers));
    if (plan.outcome == PlanOutcome::refused) throw_error(failure("not placed: " + plan.fallback));
    if (plan.outcome == PlanOutcome::fallback) fmt::print(stderr, "affine: no node set fits: {}\n", plan.fallback);
    else if (opt.verbose)
        fmt::print(stderr, "affine: placed {} ({}) on node{} {}\n", format_size(request.memory_bytes),
                   fmt::format("{} vCPU{}", request.vcpus, request.vcpus == 1 ? "" : "s"),
                   plan.nodes.count() == 1 ? "" : "s", to_list(plan.nodes));
    LaunchPolicy launch = value_or_throw(launch_policy_for(plan));
    if (plan.affinity == AffinityKind::soft && !plan.soft_cpus.empty()) {
        // Linux has soft affinity only through the daemon; without one the plan's
        // CPUs become hard, and the user is told.
        protocol::Request probe;
        probe.op = protocol::Op::status;
        auto [daemon, absent] = daemon::ask_daemon(probe);
        if (daemon) {
            take_self_soft(plan.soft_cpus);
            launch.cpus = plan.hard_cpus.empty() ? std::nullopt : std::optional<CpuSet>(plan.hard_cpus);
            if (opt.verbose) fmt::print(stderr, "affine: soft CPUs {} through the daemon\n", to_list(plan.soft_cpus));
        } else if (absent) {
            fmt::print(stderr, "affine: the affinity is hard (CPUs {}): {}\n", to_list(plan.cpus),
                       daemon.error().message);
        } else {
            throw_error(daemon.error());
        }
    }
    return launch;
}

int run(const Options& opt, const CLI::App& sub, const std::vector<std::string>& command) {
    LaunchPolicy policy;
    if (!opt.soft.empty()) {
        policy = soft_launch_policy(opt, sub);
    } else if (opt.place) {
        policy = placed_launch_policy(opt, sub);
    } else {
        for (const char* placing : {"--memory", "--vcpus", "--cores", "--policy", "--exclude", "--memory-tier"})
            if (sub.count(placing) > 0)
                throw_error(usage_error(fmt::format("{} needs --place", placing)));
        Topology host = load_host_or_throw("live");
        if (!opt.cpus.empty()) policy.cpus = value_or_throw(parse_cpu_set(opt.cpus, host));
        if (!opt.nodes.empty()) policy.nodes = value_or_throw(parse_node_set(opt.nodes, host));
        policy.mode = value_or_throw(parse_mem_policy(opt.mode));
    }
    if (opt.verbose) {
        // Apply and read back here, then exec with the same policy (idempotent).
        AppliedPolicy a = value_or_throw(apply_launch_policy(policy));
        for (const auto& note : a.notes) fmt::print(stderr, "affine: {}\n", note);
        fmt::print(stderr, "affine: CPUs {}, memory policy {}{}\n", to_list(a.cpus), a.kernel_mode,
                   a.nodes.empty() ? "" : fmt::format(" on nodes {}", to_list(a.nodes)));
    }
    flush_output_or_throw();
    ExecFailure f = exec_with_policy(policy, command);
    fmt::print(stderr, "affine: {}\n", f.error.message);
    return f.exit_status;
}

// numactl's and taskset's options, which users of those tools type by habit, with
// what run takes instead.
std::optional<std::string> foreign_run_option(std::string_view option) {
    struct Foreign {
        std::string_view long_name;
        std::string_view short_name;
        std::string_view hint;
    };
    static constexpr Foreign table[] = {
        {"--cpunodebind", "-N", "numactl's --cpunodebind NODES is --cpus node:N (the CPUs of node N; nodes:A-B for several)"},
        {"--membind", "-m", "numactl's --membind NODES is --nodes NODES (bind is the default memory policy with --nodes)"},
        {"--physcpubind", "-C", "numactl's --physcpubind CPUS is --cpus CPUS"},
        {"--interleave", "-i", "numactl's --interleave NODES is --nodes NODES --mem-policy interleave"},
        {"--preferred", "-p", "numactl's --preferred NODE is --nodes NODE --mem-policy preferred"},
        {"--preferred-many", "-P", "numactl's --preferred-many NODES is --nodes NODES --mem-policy preferred"},
        {"--localalloc", "-l", "numactl's --localalloc is --mem-policy local"},
        {"--hardware", "-H", "numactl's --hardware is affine topo"},
        {"--show", "-s", "numactl's --show is affine show PID (affine show $$ for this shell)"},
        {"--cpu-list", "-c", "taskset's -c CPUS is --cpus CPUS"},
        {"--pid", "", "taskset's -p is affine pin CPUS PID (affine show PID --mask to read it)"},
        {"--all-tasks", "-a", "taskset's -a is affine pin --all-threads CPUS PID"},
    };
    for (const Foreign& f : table)
        if (option == f.long_name || (!f.short_name.empty() && option == f.short_name)) return std::string(f.hint);
    return std::nullopt;
}

}  // namespace

Command run_command() {
    return {"run", "run a command with CPUs and a memory policy it inherits (affine run [OPTIONS] COMMAND...)",
            [](CLI::App& sub, const CommandLine& line) -> Action {
                auto opt = std::make_shared<Options>();
                set_usage(sub, "run [--cpus CPUS] [--nodes NODES] [--mem-policy MODE] [-v] [--] COMMAND [ARGS...]\n"
                               "run --soft CPUS [--cpus CPUS] [--nodes NODES] [--] COMMAND [ARGS...]\n"
                               "run --place --memory SIZE [--vcpus N] [--cores] [--policy POLICY] [--exclude CPUS] "
                               "[--] COMMAND [ARGS...]");
                sub.add_option("--cpus", opt->cpus, "CPUs it may run on");
                sub.add_option("--nodes", opt->nodes, "nodes its memory comes from");
                sub.add_option("--mem-policy", opt->mode,
                               "bind | preferred | interleave | local (default: bind with --nodes; with --cpus "
                               "only, memory follows the CPUs)");
                sub.add_option("--soft", opt->soft,
                               "soft affinity through the daemon: prefer these CPUs, spill to the rest when they "
                               "are busy; memory preferred on their nodes (or --nodes)");
                sub.add_flag("--place", opt->place,
                             "plan the placement on this host (as affine place) and launch on it");
                sub.add_option("--memory", opt->memory, "with --place: memory the command will use (4G, 512M)");
                add_number_option(sub, "--vcpus", opt->vcpus, "with --place: threads to give CPUs to (default 1)", 1,
                                  max_vcpus_argument);
                sub.add_flag("--cores", opt->cores, "with --place: a whole physical core per thread");
                sub.add_option("--policy", opt->policy,
                               "with --place: best-effort (default), best-effort-hard, prio-mem-only, any");
                sub.add_option("--exclude", opt->exclude, "with --place: CPUs never to use");
                add_memory_tier_option(sub, opt->memory_tier);
                sub.add_flag("-v,--verbose", opt->verbose, "print the policy read back before executing");
                CLI::App* self = &sub;
                return [opt, self, &line]() -> int {
                    if (line.words.empty())
                        throw_error(usage_error("run needs a command: affine run [OPTIONS] [--] COMMAND [ARGS...]"));
                    return run(*opt, *self, line.words);
                };
            },
            // The first word that is not one of run's options starts the command:
            // `affine run --cpus 0 ls -l` runs `ls -l` (as taskset and numactl do).
            CommandWords::after_options, foreign_run_option};
}

}  // namespace affine::cli
