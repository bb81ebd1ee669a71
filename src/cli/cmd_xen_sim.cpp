// affine xen sim-*: making and changing a simulated Xen host (--host sim:FILE),
// through the simulated host's capability (Hypervisor::simulation()).
#include <fmt/format.h>

#include "host/hypervisor_source.hpp"
#include "xen/sim/sim_hypervisor.hpp"
#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "xen_cli.hpp"

namespace affine::cli {
namespace {

using namespace affine::xen;

[[noreturn]] void not_simulated(std::string_view command, std::string_view host) {
    throw_error(usage_error(fmt::format("xen {} is a simulation command: it changes a simulated host only "
                                               "(give --host sim:FILE; {} is a real hypervisor)",
                                               command, host))
                           .error());
}

// Runs `body` on the simulation of --host, then makes its changes last.
template <typename Body>
Action on_simulation(std::shared_ptr<const XenOptions> xen, std::string_view command, Body body) {
    return [xen, command, body] {
        if (!names_simulated_host(xen->host)) not_simulated(command, xen->host);
        auto hv = open_or_throw(*xen);
        SimulationControl* sim = hv->simulation();
        if (sim == nullptr) not_simulated(command, hv->name());
        body(*hv, *sim);
        value_or_throw(hv->commit());
        return 0;
    };
}

}  // namespace

std::vector<XenSubcommand> xen_sim_subcommands() {
    return {
        {"sim-init", "simulation: make a simulated Xen host state file",
         [](CLI::App& sub, std::shared_ptr<const XenOptions>) -> Action {
             struct Options {
                 std::string state;
                 std::string from;
                 int vcpus = 0;
                 std::string memory = "0";
             };
             auto opt = std::make_shared<Options>();
             sub.add_option("STATEFILE", opt->state, "the state file to write")->required();
             sub.add_option("--from", opt->from, "the host: a host JSON file or a spec, as for `affine topo --host`")
                 ->required();
             add_number_option(sub, "--dom0-vcpus", opt->vcpus, "dom0's vCPUs (default: one per online CPU)", 1,
                               max_vcpus_argument);
             sub.add_option("--dom0-memory", opt->memory, "dom0's memory, placed by the allocator (default 0)");
             return [opt] {
                 Topology t = value_or_throw(load_host(opt->from));
                 int vcpus = opt->vcpus > 0 ? opt->vcpus : static_cast<int>(t.online_cpus().count());
                 std::uint64_t memory = memory_size(opt->memory);
                 XenHost host = value_or_throw(initial_sim_host(std::move(t), vcpus, memory));
                 value_or_throw(write_sim_state(host, opt->state));
                 fmt::print("simulated Xen host {}: {} CPUs, {} nodes; dom0 with {} vCPUs\n", opt->state,
                            host.topology.cpus.size(), host.topology.nodes.size(), vcpus);
                 return 0;
             };
         }},
        {"sim-create-domain",
         "simulation: create a domain (vCPUs not allocated, as xc_domain_create), set its node affinity, "
         "populate its memory; prints the domid",
         [](CLI::App& sub, std::shared_ptr<const XenOptions> xen) -> Action {
             struct Options {
                 std::string name;
                 int vcpus = 0;
                 int allocated = 0;
                 std::string memory = "0";
                 std::string nodes;
             };
             auto opt = std::make_shared<Options>();
             add_number_option(sub, "--vcpus", opt->vcpus, "max_vcpus", 1, max_vcpus_argument)->required();
             add_number_option(sub, "--allocated", opt->allocated, "vCPUs allocated now (default 0)", 0,
                               max_vcpus_argument);
             sub.add_option("--memory", opt->memory, "memory to populate (default 0)");
             sub.add_option("--node-affinity", opt->nodes, "explicit node affinity, set before the memory");
             sub.add_option("--name", opt->name, "the domain's name (as xl's name=)");
             return on_simulation(xen, "sim-create-domain", [opt](Hypervisor& hv, SimulationControl& sim) {
                 NewDomain domain;
                 domain.max_vcpus = opt->vcpus;
                 domain.allocated_vcpus = opt->allocated;
                 domain.memory_bytes = memory_size(opt->memory);
                 domain.name = opt->name;
                 if (!opt->nodes.empty()) {
                     Topology t = value_or_throw(hv.topology());
                     domain.node_affinity =
                         value_or_throw(parse_node_set(opt->nodes, node_grammar_host(t, max_numnodes)));
                 }
                 fmt::print("{}\n", value_or_throw(sim.create_domain(domain)));
             });
         }},
        {"sim-destroy-domain", "simulation: destroy a domain, freeing its memory",
         [](CLI::App& sub, std::shared_ptr<const XenOptions> xen) -> Action {
             auto domain = std::make_shared<std::string>();
             sub.add_option("DOM", *domain, "domid or name")->required();
             return on_simulation(xen, "sim-destroy-domain", [domain](Hypervisor& hv, SimulationControl& sim) {
                 value_or_throw(sim.destroy_domain(parse_domid(hv, *domain)));
             });
         }},
        {"sim-pool-cpus", "simulation: set the CPUs of cpupool 0",
         [](CLI::App& sub, std::shared_ptr<const XenOptions> xen) -> Action {
             auto cpus = std::make_shared<std::string>();
             sub.add_option("CPUS", *cpus, "CPU set")->required();
             return on_simulation(xen, "sim-pool-cpus", [cpus](Hypervisor& hv, SimulationControl& sim) {
                 Topology t = value_or_throw(hv.topology());
                 value_or_throw(sim.set_pool_cpus(value_or_throw(parse_cpu_set(*cpus, t))));
             });
         }},
        {"sim-temporary-pin", "simulation: mark a vCPU pinned by the hypervisor (EBUSY)",
         [](CLI::App& sub, std::shared_ptr<const XenOptions> xen) -> Action {
             struct Options {
                 std::string domain;
                 int vcpu = 0;
                 std::string state;
             };
             auto opt = std::make_shared<Options>();
             sub.add_option("DOM", opt->domain, "domid or name")->required();
             add_number_option(sub, "VCPU", opt->vcpu, "vCPU", 0, max_vcpus_argument)->required();
             sub.add_option("STATE", opt->state, "on or off")->required()->check(CLI::IsMember({"on", "off"}));
             return on_simulation(xen, "sim-temporary-pin", [opt](Hypervisor& hv, SimulationControl& sim) {
                 value_or_throw(sim.set_temporarily_pinned(parse_domid(hv, opt->domain), opt->vcpu, opt->state == "on"));
             });
         }},
    };
}

}  // namespace affine::cli
