// The `affine xen` family: its subcommand table and what the subcommands share
// (the --host option, argument parsing, the words and JSON fields of the output).
// The subcommands are grouped one job per file: cmd_xen_inspect.cpp (topo, domains,
// show, numastat), cmd_xen_affinity.cpp (vcpu-pin, node-affinity), cmd_xen_place.cpp
// (place), cmd_xen_create.cpp (create), cmd_xen_sim.cpp (the sim-* commands);
// cmd_xen.cpp holds the table.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/json.hpp"
#include "xen/apply.hpp"
#include "xen/hypervisor.hpp"
#include "command.hpp"

namespace affine::cli {

// What every `xen` subcommand can read: the --host option of `affine xen`.
struct XenOptions {
    std::string host = "xen";
};

// One `affine xen` subcommand: declares its options on `sub` and returns its action,
// as Command does for the top level.
struct XenSubcommand {
    std::string_view name;
    std::string_view summary;
    std::function<Action(CLI::App& sub, std::shared_ptr<const XenOptions> xen)> define;
};

// The subcommands of `affine xen`, in the order its help lists them. To add one,
// write its XenSubcommand in a file of its own and list it in cmd_xen.cpp.
const std::vector<XenSubcommand>& xen_subcommand_table();

std::vector<XenSubcommand> xen_inspect_subcommands();   // topo, domains, show, numastat
std::vector<XenSubcommand> xen_affinity_subcommands();  // vcpu-pin, node-affinity
XenSubcommand xen_place_subcommand();                   // place
XenSubcommand xen_create_subcommand();                  // create
std::vector<XenSubcommand> xen_sim_subcommands();       // sim-init, sim-create-domain, ...

// ---- shared by the subcommands

// The hypervisor of --host (open_hypervisor); throws CommandError.
std::unique_ptr<xen::Hypervisor> open_or_throw(const XenOptions& xen);

// A domain argument as xl takes it: a domid (0-32751; usage error otherwise) or a
// domain's name (xenstore, or the simulated host's state; failure when unknown or
// when names cannot be read).
int parse_domid(xen::Hypervisor& hv, const std::string& text);
// A memory size where 0 is allowed (an empty domain): "0", "0M", ... or a size.
std::uint64_t memory_size(const std::string& text);

// The host against which node sets are parsed: every node id below `node_id_limit`
// exists (offline ones without CPUs or memory), so that `all` sends every node
// (auto mode) and an offline node reaches the hypervisor, which says whether it
// accepts it.
Topology node_grammar_host(const Topology& t, int node_id_limit);

// The bytes of `per_node` (node -> bytes) on `nodes`.
std::uint64_t bytes_on(const std::map<int, std::uint64_t>& per_node, const NodeSet& nodes);

const xen::Domain& domain_or_throw(const xen::XenHost& host, int domid);

// "all (0-63)" for every node, else the list.
std::string nodes_text(const NodeSet& nodes);
// "auto" or "explicit", with ", inferred" when affine inferred it (real Xen).
std::string mode_text(const xen::Domain& d);
// "node affinity: 1 (auto, inferred)".
std::string node_affinity_line(const xen::Domain& d);
// The node affinity fields of every JSON output: node_affinity, node_affinity_auto,
// node_affinity_auto_source ("hypervisor" or "inferred").
void add_node_affinity_json(detail::Json& out, const xen::Domain& d);

// Prints what the hypervisor handed back for each changed vCPU ("domain 1 vCPU 0:
// hard 0-3 effective soft 2-3", unless `json`), warns on stderr when a soft mask is
// ignored, and returns the JSON array of them. `soft_sent` is the soft mask sent.
detail::Json print_changed_vcpus(int domid, const xen::ChangedVcpus& changed, const CpuSet& soft_sent, bool json);

}  // namespace affine::cli
