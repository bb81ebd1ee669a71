// The placement loop's decisions about one process (see placement_watch.hpp).
#include "placement_watch.hpp"

#include <algorithm>
#include <cmath>

#include "affine/host_load.hpp"

namespace affine::detail {

CpuUse next_cpu_use(const std::optional<CpuUse>& before, std::uint64_t start_time, std::uint64_t ticks,
                    TrackerClock::time_point now, double ticks_per_second) {
    CpuUse use{start_time, ticks, now, std::nullopt};
    if (!before || before->start_time != start_time || now <= before->at || ticks < before->ticks ||
        ticks_per_second <= 0)
        return use;
    double seconds = std::chrono::duration<double>(now - before->at).count();
    double cpus = static_cast<double>(ticks - before->ticks) / ticks_per_second / seconds;
    use.cpus = before->cpus ? (*before->cpus + cpus) / 2.0 : cpus;
    return use;
}

bool pinned_by_someone(const CpuSet& affinity, const CpuSet& allowed) {
    CpuSet usable = affinity & allowed;
    return !allowed.empty() && usable != allowed;
}

WorkloadFacts workload_facts(const ProcessReading& r, std::optional<double> cpus) {
    WorkloadFacts f;
    f.pid = r.pid;
    f.comm = r.comm;
    f.cgroup = r.cgroup;
    f.uid = r.uid;
    f.resident_bytes = r.resident_bytes;
    f.cpus = cpus;
    f.kernel_thread = r.kernel_thread;
    f.no_setaffinity = r.no_setaffinity;
    f.pinned_by_other = pinned_by_someone(r.affinity, r.allowed);
    return f;
}

Interest interest_of(RuleVerdict verdict) {
    switch (verdict) {
    case RuleVerdict::place: return Interest::managed;
    case RuleVerdict::too_small: return Interest::watched;
    default: return Interest::none;
    }
}

std::map<int, double> busy_per_node(const Topology& topology, const std::vector<double>& busy_share,
                                    const CpuSet& reserved, const std::vector<double>& waiting) {
    std::map<int, double> busy;
    for (const Node& node : topology.nodes) {
        double sum = 0;
        for (int cpu : node.cpus) {
            if (reserved.contains(cpu) || cpu < 0) continue;
            auto i = static_cast<std::size_t>(cpu);
            if (i < busy_share.size()) sum += std::clamp(busy_share[i], 0.0, 1.0);
            if (i < waiting.size()) sum += std::max(0.0, waiting[i]);
        }
        busy[node.id] = sum;
    }
    return busy;
}

PlacementHost measured_placement_host(const Topology& topology, const std::map<int, std::uint64_t>& free_bytes_per_node,
                                      const std::map<int, double>& busy_cpus_per_node, const CpuSet& reserved) {
    Topology t = topology;
    for (Node& node : t.nodes)
        if (auto it = free_bytes_per_node.find(node.id); it != free_bytes_per_node.end())
            node.memory_free_bytes = node.memory_total_bytes > 0 ? std::min(it->second, node.memory_total_bytes) : it->second;
    PlacementHost host = make_placement_host(std::move(t), reserved);
    set_measured_load(host, busy_cpus_per_node);
    return host;
}

}  // namespace affine::detail
