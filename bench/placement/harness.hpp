// The side-by-side placement benchmark: one simulated host per run, the same VM
// requests for every placer, and the figures of PLACEMENT-ANCHORS.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "affine/id_set.hpp"
#include "affine/topology.hpp"

namespace bench {

struct Vm {
    int vcpus = 1;
    std::uint64_t memory_bytes = 0;
};

// The host as every placer sees it at a given moment. The harness alone updates it.
struct HostState {
    affine::Topology topology;  // memory_free_bytes is the free memory now
    affine::CpuSet reserved;    // host-wide mask: CPUs no guest may use
    std::map<int, double> vcpus_per_node;  // load as the harness spreads it
};

// What a placer decided for one VM.
struct Decision {
    enum class Kind { placed, unplaced, refused };
    Kind kind = Kind::unplaced;
    affine::NodeSet nodes;                         // placed: the nodes the VM is confined to
    std::map<int, std::uint64_t> memory_per_node;  // optional: the placer's own memory split
};

class Placer {
public:
    virtual ~Placer() = default;
    [[nodiscard]] virtual std::string name() const = 0;
    // Called once per host before the VMs; `note` says when the placer cannot place
    // anything on this host (and why).
    virtual void start(const HostState& host, std::string& note) = 0;
    virtual Decision decide(const HostState& host, const Vm& vm) = 0;
};

std::unique_ptr<Placer> make_affine_placer();
std::unique_ptr<Placer> make_xenopsd_placer();
std::unique_ptr<Placer> make_libxl_placer();
std::unique_ptr<Placer> make_numad_placer();

struct Figures {
    int vms = 0;
    int one_node = 0;  // placed on exactly one node
    int placed = 0;    // given a NUMA placement (any number of nodes)
    int started = 0;   // not refused for lack of memory
    double mean_distance = 0;  // over started VMs: worst distance within the nodes it spans
    int worst_distance = 0;
    double worst_overcommit = 0;     // max over nodes: vCPUs per usable CPU
    double memory_imbalance = 0;     // max - min of free/total over nodes with memory, percent
    double micros_per_plan = 0;      // decide() only
    std::string note;
};

Figures run_scenario(const HostState& host, const std::vector<Vm>& vms, Placer& placer);

}  // namespace bench
