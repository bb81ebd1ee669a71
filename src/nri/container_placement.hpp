// Where each container of a node runs: the placement rules of `affine nri`, pure (no
// I/O, no protobuf). The plugin feeds it the containers the runtime reports and
// sends the runtime what it decides.
//
// Rules:
//   - A container's CPU need is max(request, limit) in CPUs, rounded up, at least 1:
//     request = cpu shares / 1024 (how the kubelet writes requests), limit = cpu quota
//     / period. Its memory is its memory limit (none: placed by CPU alone).
//   - Guaranteed with whole CPUs (shares match quota, a whole number of CPUs, a
//     memory limit), policy best-effort or best-effort-hard, not soft: that many
//     exclusive CPUs on the nodes the planner chooses, whole cores first; mems the
//     plan's nodes. At least one CPU always stays in the shared pool; when that is not
//     possible the container is placed as a shared one (logged).
//   - Every other container: the planner (best-effort-hard over the shared pool)
//     chooses its nodes; cpuset = the shared pool's CPUs on those nodes, mems = those
//     nodes. When no node set fits: best-effort gets the whole shared pool and every
//     memory node; best-effort-hard is refused (the container is not created).
//   - prio-mem-only: mems from the planner, cpuset the whole shared pool.
//   - soft: cpuset the whole shared pool, mems the planned nodes; the planned
//     nodes' CPUs are where the daemon keeps its threads softly.
//   - shared pool = usable CPUs of the host (online, allowed, not reserved) minus every
//     exclusive CPU. Whenever it changes, every shared container's cpuset is
//     recomputed and the changed ones are returned as updates; a shared container
//     whose nodes have no shared CPU left gets the whole pool. No CPU is ever both
//     exclusive and in another container's cpuset.
//   - The load and memory of placed containers count in the planner's host, so
//     containers spread; removing a container gives them back.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/placement.hpp"

namespace affine::nri {

enum class ContainerPolicy { best_effort, best_effort_hard, prio_mem_only };
enum class QosClass { guaranteed, burstable, best_effort };

// How a container's cpuset was derived (kept so that it can be recomputed).
enum class CpuMode {
    exclusive,  // its own CPUs
    aligned,    // the shared pool on its nodes
    pool,       // the whole shared pool (soft, prio-mem-only, or nothing fitted)
};

// A container as the runtime describes it.
struct ContainerSpec {
    std::string id;
    std::string name;
    std::string pod;  // "namespace/name"
    std::uint64_t cpu_shares = 0;
    std::int64_t cpu_quota = 0;  // <= 0: no limit
    std::uint64_t cpu_period = 0;
    std::int64_t memory_limit = 0;  // <= 0: no limit
    ContainerPolicy policy = ContainerPolicy::best_effort;
    bool soft = false;
};

QosClass qos_class(const ContainerSpec& spec);
// The exclusive CPUs a container is entitled to (0: none).
int exclusive_cpu_count(const ContainerSpec& spec);
// The CPUs the planner places the container for (at least 1).
int cpu_need(const ContainerSpec& spec);

struct Assignment {
    CpuSet cpus;
    NodeSet mems;
    friend bool operator==(const Assignment&, const Assignment&) = default;
};

struct PlacedContainer {
    ContainerSpec spec;
    CpuMode mode = CpuMode::aligned;
    NodeSet nodes;        // where it counts as load (the planned nodes)
    CpuSet exclusive;     // mode exclusive only
    Assignment assigned;  // what the runtime was last told
    std::string why;      // the reason of the last decision about it (creation, update, synchronisation)
    std::map<int, std::uint64_t> memory_bytes_per_node;
    std::map<int, int> vcpus_per_node;
};

// A change the runtime must apply to a running container.
struct ContainerUpdate {
    std::string id;
    Assignment assignment;
    std::string why;
};

struct Decision {
    std::string id;
    Assignment assignment;
    std::string log;  // "pod default/web container app: nodes 1, cpus 4-7 exclusive, mems 1: why"
    std::vector<ContainerUpdate> updates;  // other containers, when the shared pool changed
};

// A running container as the runtime reports it at synchronisation: its spec and
// what its cpuset and mems are now (empty: never placed, e.g. created while the
// plugin was down).
struct RunningContainer {
    ContainerSpec spec;
    Assignment current;
};

class ContainerPlacer {
public:
    // `host` is the planner's host (its reserved CPUs are never given out).
    explicit ContainerPlacer(PlacementHost host);

    // Places a new container. Usage error when the spec's id is already placed;
    // failed error when its policy is best-effort-hard and no node set fits.
    Result<Decision> create(const ContainerSpec& spec);

    // Forgets a container (stopped or removed) and returns the updates of the shared
    // containers that get its exclusive CPUs back. Unknown ids change nothing.
    std::vector<ContainerUpdate> remove(std::string_view id);

    // Rebuilds the state from the running containers: a container keeps what it has
    // when that is a placement these rules could have made (exclusive CPUs held by no
    // one else, or mems naming its nodes); the others are placed now. Returns a
    // decision for every container whose cpuset or mems must change.
    std::vector<Decision> synchronize(const std::vector<RunningContainer>& running);

    [[nodiscard]] CpuSet shared_pool() const;
    // For a soft container: the CPUs its threads should prefer (the shared pool's CPUs
    // on its planned nodes; the whole pool when those have none). nullopt for an
    // unknown or not soft container.
    [[nodiscard]] std::optional<CpuSet> soft_cpus(std::string_view id) const;
    [[nodiscard]] const std::map<std::string, PlacedContainer, std::less<>>& containers() const { return placed_; }
    // Changes whenever containers() may have: after a create, a remove of a known id
    // and a synchronize (what the plugin's status file follows).
    [[nodiscard]] std::uint64_t revision() const { return revision_; }

private:
    PlacementHost planning_host() const;
    Result<PlacedContainer> place(const ContainerSpec& spec, std::string& why) const;
    Assignment assignment_of(const PlacedContainer& c) const;
    std::vector<ContainerUpdate> refresh_shared(std::string_view except, const std::string& why);

    PlacementHost host_;
    CpuSet usable_;
    NodeSet memory_nodes_;
    std::map<std::string, PlacedContainer, std::less<>> placed_;
    std::uint64_t revision_ = 0;
};

std::string_view to_string(ContainerPolicy policy);
std::string_view to_string(CpuMode mode);
// "best-effort", "best-effort-hard", "prio-mem-only"; usage error naming them otherwise.
Result<ContainerPolicy> parse_container_policy(std::string_view text);

}  // namespace affine::nri
