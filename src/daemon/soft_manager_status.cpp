// SoftManager's reports: what `affine daemon status` and `affine show` print.
#include <fmt/format.h>

#include <algorithm>

#include "soft_manager.hpp"

namespace affine::daemon {

protocol::WorkloadStatus SoftManager::status_of(const Workload& w, bool with_memory) const {
    protocol::WorkloadStatus s{w, {}, {}};
    for (const auto& [tid, t] : w.threads)
        s.threads.push_back({tid, t.name, t.engine.hard, w.soft, t.kernel_mask, std::string(to_string(t.engine.state)),
                             t.changed_at, t.engine.why});
    if (with_memory) s.memory_bytes_per_node = w.memory_bytes_per_node;
    return s;
}

void SoftManager::read_memory(const Workload& w) const {
    if (auto maps = env_.fs.read(fmt::format("/proc/{}/numa_maps", w.pid)))
        w.memory_bytes_per_node = linux_backend::bytes_per_node(linux_backend::parse_numa_maps(*maps));
    w.memory_read_at = std::chrono::steady_clock::now();
}

std::vector<protocol::WorkloadStatus> SoftManager::status(bool with_memory,
                                                          const std::function<bool(const Workload&)>& shown,
                                                          std::chrono::milliseconds memory_budget) const {
    std::vector<const Workload*> listed;
    for (const auto& [pid, w] : workloads_)
        if (!shown || shown(w)) listed.push_back(&w);
    if (with_memory) {
        // Never read first (nullopt sorts first), then the oldest reading.
        std::vector<const Workload*> by_age = listed;
        std::ranges::stable_sort(by_age, {}, &Workload::memory_read_at);
        const auto until = std::chrono::steady_clock::now() + memory_budget;
        for (const Workload* w : by_age) {
            if (std::chrono::steady_clock::now() >= until) break;
            read_memory(*w);
        }
    }
    std::vector<protocol::WorkloadStatus> out;
    for (const Workload* w : listed) out.push_back(status_of(*w, with_memory));
    return out;
}

std::optional<protocol::WorkloadStatus> SoftManager::show(int id) const {
    auto pid = linux_backend::thread_group_of(env_.fs, id);
    if (auto w = workloads_.find(pid.value_or(id)); w != workloads_.end()) {
        read_memory(w->second);  // one workload: always afresh
        return status_of(w->second, true);
    }
    return std::nullopt;
}

std::size_t SoftManager::thread_count() const {
    std::size_t n = 0;
    for (const auto& [pid, w] : workloads_) n += w.threads.size();
    return n;
}

std::size_t SoftManager::widened_count() const {
    std::size_t n = 0;
    for (const auto& [pid, w] : workloads_) n += static_cast<std::size_t>(w.widened);
    return n;
}

}  // namespace affine::daemon
