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

Growth growth_of(const ProcessReading& before, const ProcessReading& now) {
    if (now.resident_bytes > before.resident_bytes) return Growth::memory;
    return now.cpu_ticks != before.cpu_ticks ? Growth::cpu_time : Growth::none;
}

}  // namespace affine::detail
