// `affine nri` against the kubelet's own placement, on one pod mix on a synthetic
// 64-node host. Prints figures; asserts nothing.
//   - answer time: the plugin's whole answer to CreateContainer (envelope and message
//     decoded, placement, answer encoded), p50 and p99 over the mix's containers;
//   - placement quality of affine and of the kubelet's static CPU manager with the
//     Topology Manager's single-numa-node and best-effort policies, re-implemented
//     here from their documentation (kubernetes.io "Control CPU Management Policies
//     on the Node" and "Control Topology Management Policies on a node"): Guaranteed
//     containers with integer CPUs get exclusive CPUs, every other container the
//     shared pool of the whole node; the memory manager is at its default policy
//     (None), so no container's memory is bound; single-numa-node admits a container
//     only when its CPUs fit on one node (TopologyAffinityError otherwise),
//     best-effort prefers one node and takes CPUs anywhere otherwise. The Topology
//     Manager refuses hosts of more than 8 nodes unless max-allowable-numa-nodes is
//     raised: it is taken as raised here.
// Usage: affine_bench_nri [CONTAINERS]   (default 100)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "nri/container_placement.hpp"
#include "nri/plugin.hpp"
#include "nri/session.hpp"
#include "nri_api.pb.h"

namespace api = ::nri::pkg::api::v1alpha1;
using namespace affine;
using namespace affine::nri;

namespace {

constexpr std::int64_t gib = 1LL << 30;
const char* host_spec = "nodes=64,sockets=8,cores=8,mem=16G";

// The pod mix: a fixed sequence, 40% Guaranteed with 1 to 8 whole CPUs, 40% Burstable
// (0.5 to 6 CPUs requested, no CPU limit), 20% BestEffort.
std::vector<ContainerSpec> pod_mix(int count) {
    std::vector<ContainerSpec> mix;
    std::uint32_t state = 7;
    auto next = [&] { return state = state * 1103515245u + 12345u, (state >> 8) % 1000; };
    for (int i = 0; i < count; ++i) {
        ContainerSpec s;
        s.id = fmt::format("c{:03}", i);
        s.name = s.id;
        s.pod = "bench/" + s.id;
        s.cpu_period = 100000;
        int kind = static_cast<int>(next() % 10);
        if (kind < 4) {
            int cpus = std::array{1, 2, 2, 4, 4, 6, 8}[next() % 7];
            s.cpu_shares = static_cast<std::uint64_t>(cpus) * 1024;
            s.cpu_quota = cpus * 100000;
            s.memory_limit = static_cast<std::int64_t>(1 + next() % 8) * gib;
        } else if (kind < 8) {
            s.cpu_shares = (500 + next() % 5500) * 1024 / 1000;
            s.memory_limit = static_cast<std::int64_t>(1 + next() % 24) * gib;
        } else {
            s.cpu_shares = 2;
        }
        mix.push_back(s);
    }
    return mix;
}

struct Outcome {
    bool admitted = true;
    bool entitled = false;  // Guaranteed with integer CPUs
    bool exclusive = false;
    CpuSet cpus;
    NodeSet mems;
};

struct Quality {
    int admitted = 0, entitled = 0, exclusive = 0, one_node = 0;
    double worst_distance_sum = 0;
};

Quality measure(const Topology& t, const std::vector<Outcome>& outcomes) {
    Quality q;
    for (const Outcome& o : outcomes) {
        q.entitled += o.entitled;
        if (!o.admitted) continue;
        ++q.admitted;
        q.exclusive += o.entitled && o.exclusive;
        NodeSet nodes = t.nodes_of(o.cpus) | o.mems;
        q.one_node += nodes.count() == 1;
        int worst = 10;
        for (int a : t.nodes_of(o.cpus))
            for (int b : o.mems) worst = std::max(worst, t.distance(a, b));
        q.worst_distance_sum += worst;
    }
    return q;
}

// The kubelet's static CPU manager with the Topology Manager's policy.
enum class TopologyPolicy { single_numa_node, best_effort };

std::vector<Outcome> kubelet(const Topology& t, const std::vector<ContainerSpec>& mix, TopologyPolicy policy) {
    CpuSet free = t.online_cpus();
    std::vector<Outcome> out;
    std::vector<std::size_t> shared;  // their cpuset is the pool at the end
    for (const ContainerSpec& s : mix) {
        Outcome o;
        o.mems = t.nodes_with_memory();
        int cpus = exclusive_cpu_count(s);
        o.entitled = cpus > 0;
        if (cpus == 0) {
            shared.push_back(out.size());
            out.push_back(o);
            continue;
        }
        // The CPU manager's hint: the nodes whose free CPUs can hold the container
        // alone (the narrowest), lowest id first.
        int node = -1;
        for (const Node& n : t.nodes)
            if ((n.cpus & free).count() >= cpus) {
                node = n.id;
                break;
            }
        CpuSet take;
        if (node >= 0) {
            for (const CpuSet& core : t.cores_of(node))
                if (take.count() < cpus && core.is_subset_of(free)) take |= core;
        } else if (policy == TopologyPolicy::single_numa_node) {
            o.admitted = false;  // TopologyAffinityError
        } else {
            for (int cpu : free)
                if (take.count() < cpus) take.insert(cpu);
        }
        if (o.admitted && free.count() - cpus < 1) o.admitted = false;  // the shared pool never empties
        if (o.admitted) {
            free -= take;
            o.cpus = take;
            o.exclusive = true;
        }
        out.push_back(o);
    }
    for (std::size_t i : shared) out[i].cpus = free;
    return out;
}

std::vector<Outcome> affine_placement(const Topology& t, const std::vector<ContainerSpec>& mix) {
    ContainerPlacer placer(make_placement_host(t));
    std::vector<Outcome> out;
    for (const ContainerSpec& s : mix) {
        Outcome o;
        o.entitled = exclusive_cpu_count(s) > 0;
        auto d = placer.create(s);
        o.admitted = d.has_value();
        out.push_back(o);
    }
    // What each container has at the end (shared ones follow the pool).
    for (std::size_t i = 0; i < mix.size(); ++i) {
        auto it = placer.containers().find(mix[i].id);
        if (it == placer.containers().end()) continue;
        out[i].cpus = it->second.assigned.cpus;
        out[i].mems = it->second.assigned.mems;
        out[i].exclusive = it->second.mode == CpuMode::exclusive;
    }
    return out;
}

// The encoded CreateContainer call of `s`, as the runtime sends it.
std::string create_call(const ContainerSpec& s) {
    api::CreateContainerRequest in;
    in.mutable_pod()->set_name(s.pod);
    in.mutable_pod()->set_namespace_("bench");
    in.mutable_container()->set_id(s.id);
    in.mutable_container()->set_name(s.name);
    auto* r = in.mutable_container()->mutable_linux()->mutable_resources();
    r->mutable_cpu()->mutable_shares()->set_value(s.cpu_shares);
    if (s.cpu_quota > 0) r->mutable_cpu()->mutable_quota()->set_value(s.cpu_quota);
    r->mutable_cpu()->mutable_period()->set_value(s.cpu_period);
    if (s.memory_limit > 0) r->mutable_memory()->mutable_limit()->set_value(s.memory_limit);
    return encode_rpc_request({std::string(plugin_service_name), "CreateContainer", in.SerializeAsString(), 0});
}

void print_quality(const char* name, const Quality& q, int total) {
    fmt::print("{:<34} {:>9} {:>14} {:>14} {:>14.1f}\n", name, fmt::format("{}/{}", q.admitted, total),
               fmt::format("{}/{}", q.exclusive, q.entitled), fmt::format("{}/{}", q.one_node, q.admitted),
               q.admitted ? q.worst_distance_sum / q.admitted : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
    int count = argc > 1 ? std::atoi(argv[1]) : 100;
    if (count < 1 || count > 100000) {
        std::fprintf(stderr, "usage: affine_bench_nri [CONTAINERS]\n");
        return 2;
    }
    Topology t = *synthetic_topology(host_spec);
    auto mix = pod_mix(count);

    // Answer time, from the envelope's bytes to the answer's bytes.
    Plugin plugin(make_placement_host(t));
    std::vector<double> micros;
    for (const ContainerSpec& s : mix) {
        std::string call = create_call(s);
        auto start = std::chrono::steady_clock::now();
        auto request = decode_rpc_request(call);
        PluginAnswer answer = plugin.handle(*request);
        std::string bytes = encode_rpc_response(answer.response);
        auto end = std::chrono::steady_clock::now();
        micros.push_back(std::chrono::duration<double, std::micro>(end - start).count());
        if (bytes.empty() && answer.response.code != 0) std::fprintf(stderr, "%s\n", answer.response.message.c_str());
    }
    std::vector<double> sorted = micros;
    std::sort(sorted.begin(), sorted.end());
    auto pct = [&](double p) {
        auto at = static_cast<std::size_t>(p * static_cast<double>(sorted.size()));
        return sorted[std::min(sorted.size() - 1, at)];
    };
    fmt::print("affine nri on {} ({} CPUs), {} containers\n", host_spec, t.online_cpus().count(), count);
    auto slowest = std::max_element(micros.begin(), micros.end()) - micros.begin();
    fmt::print("CreateContainer answer time: p50 {:.0f} us, p99 {:.0f} us, max {:.0f} us (the runtime allows 2 s)\n",
               pct(0.50), pct(0.99), sorted.back());
    const ContainerSpec& slow = mix[static_cast<std::size_t>(slowest)];
    fmt::print("slowest: container {} ({} CPU shares, quota {}, memory limit {} GiB)\n\n", slow.id, slow.cpu_shares,
               slow.cpu_quota, slow.memory_limit / gib);

    fmt::print("{:<34} {:>9} {:>14} {:>14} {:>14}\n", "placement", "admitted", "exclusive", "on one node",
               "worst dist");
    print_quality("affine nri", measure(t, affine_placement(t, mix)), count);
    print_quality("kubelet static + single-numa-node", measure(t, kubelet(t, mix, TopologyPolicy::single_numa_node)),
                  count);
    print_quality("kubelet static + best-effort", measure(t, kubelet(t, mix, TopologyPolicy::best_effort)), count);
    fmt::print("\nexclusive: Guaranteed containers with whole CPUs that got exclusive CPUs; on one node: CPUs and\n"
               "memory nodes on one NUMA node; worst dist: mean over containers of the largest distance from a\n"
               "node of its CPUs to a node its memory may use (10 = local).\n");
    return 0;
}
