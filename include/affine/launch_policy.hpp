// How a launched command runs and allocates: its CPU affinity and memory policy,
// as value types and the pure rules that make them concrete for a host. Applying
// them is the Linux backend's job (affine/linux.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/placement.hpp"
#include "affine/topology.hpp"

namespace affine {

enum class MemPolicy {
    automatic,   // --nodes given: bind to them; --cpus only: memory follows the CPUs
                 // (local allocation); neither: the inherited policy is kept
    local,       // MPOL_LOCAL: allocate on the node of the CPU that touches the page
    bind,        // MPOL_BIND: only from the nodes, fail (OOM) rather than go elsewhere
    preferred,   // MPOL_PREFERRED (one node) or MPOL_PREFERRED_MANY (several, 5.15+)
    interleave,  // MPOL_INTERLEAVE: round-robin page by page over the nodes
    // MPOL_WEIGHTED_INTERLEAVE (Linux 6.9+): round-robin by the kernel's system-wide
    // per-node weights (/sys/kernel/mm/mempolicy/weighted_interleave/nodeN)
    weighted_interleave,
};

// "local", "bind", "preferred", "interleave", "weighted-interleave" ("auto" for
// automatic).
std::string to_string(MemPolicy policy);
// Parses the names above; usage error naming the allowed ones.
Result<MemPolicy> parse_mem_policy(std::string_view text);

// Where a launched command (and everything it starts) will run and allocate.
struct LaunchPolicy {
    std::optional<CpuSet> cpus;    // hard affinity; nullopt keeps the inherited one
    std::optional<NodeSet> nodes;  // memory nodes; nullopt: from the CPUs or none
    MemPolicy mode = MemPolicy::automatic;
};

// A LaunchPolicy made concrete for a host by the rules above: the memory mode and
// the nodes it names (nodes with memory only). Pure: no I/O.
struct ResolvedLaunch {
    std::optional<CpuSet> cpus;
    std::optional<MemPolicy> mode;  // nullopt: the memory policy is left as inherited
    NodeSet nodes;                  // the nodes of `mode` (empty for local)
    std::vector<std::string> notes; // how the automatic rule was applied
};

// Checks and resolves `policy` against `host` (its online CPUs, nodes with memory,
// and the caller's allowed CPUs and nodes). Usage errors: CPUs offline or outside
// the caller's cpuset; nodes without memory or outside the cpuset; a mode that
// needs nodes without --nodes or --cpus; nodes given with `local`.
Result<ResolvedLaunch> resolve_launch_policy(const LaunchPolicy& policy, const Topology& host);

// What a Linux launch needs to carry out a plan (Linux has no soft affinity), as
// the LaunchPolicy `affine run` applies ("preferred" is MPOL_PREFERRED for one
// node, MPOL_PREFERRED_MANY for several):
//   best-effort       CPU affinity = the plan's CPUs; MPOL_PREFERRED_MANY on the nodes
//                     given memory (memory may spill when they are full);
//   best-effort-hard  the same CPUs; MPOL_BIND on those nodes;
//   prio-mem-only     CPU affinity left alone (or hard_cpus when CPUs are reserved);
//                     MPOL_PREFERRED_MANY on the nodes given memory;
//   any               CPU affinity left alone, or hard_cpus with memory following
//                     them (local allocation); no memory policy otherwise;
//   fallback          CPU affinity left alone (or hard_cpus); MPOL_INTERLEAVE over
//                     the nodes given memory (striped, as the plan says).
// Usage error for a refused plan.
Result<LaunchPolicy> launch_policy_for(const Plan& plan);

}  // namespace affine
