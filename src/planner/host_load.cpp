// Measured load per node from two readings of /proc/stat.
#include "affine/host_load.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/integer.hpp"
#include "core/rounding.hpp"
#include "core/text.hpp"

namespace affine {

double CpuLoad::busy_of(int cpu) const {
    if (cpu < 0 || static_cast<std::size_t>(cpu) >= busy.size()) return 1.0;
    double b = busy[static_cast<std::size_t>(cpu)];
    return b < 0 ? 1.0 : std::clamp(b, 0.0, 1.0);
}


Result<CpuTimes> parse_cpu_times(std::string_view proc_stat) {
    CpuTimes times;
    std::size_t line_number = 0;
    while (!proc_stat.empty()) {
        ++line_number;
        auto end = proc_stat.find('\n');
        std::string_view line = proc_stat.substr(0, end);
        proc_stat = end == std::string_view::npos ? std::string_view() : proc_stat.substr(end + 1);
        // "cpu3 4705 356 584 3699 23 23 0 0 0 0": only per-CPU lines, not the "cpu " total.
        if (!line.starts_with("cpu") || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
        const char* p = line.data() + 3;
        const char* last = line.data() + line.size();
        int cpu = 0;
        auto [after_id, ec] = std::from_chars(p, last, cpu);
        if (ec != std::errc{} || !valid_id(cpu))
            return usage_error(fmt::format("/proc/stat line {}: bad CPU number (0 to {})", line_number, max_id));
        p = after_id;
        // user nice system idle iowait irq softirq steal (guest and guest_nice are
        // already inside user and nice).
        std::uint64_t field[8] = {};
        int fields = 0;
        while (fields < 8) {
            while (p < last && *p == ' ') ++p;
            if (p == last) break;
            auto [next, err] = std::from_chars(p, last, field[fields]);
            if (err != std::errc{}) break;
            p = next;
            ++fields;
        }
        if (fields < 4)
            return usage_error(fmt::format("/proc/stat line {}: cpu{} has {} numbers, at least 4 expected", line_number,
                                           cpu, fields));
        CpuTime t;
        t.busy = field[0] + field[1] + field[2] + field[5] + field[6] + field[7];
        t.total = t.busy + field[3] + field[4];
        times[cpu] = t;
    }
    return times;
}

CpuLoad cpu_load_between(const CpuTimes& before, const CpuTimes& after) {
    CpuLoad load;
    if (after.empty()) return load;
    load.busy.assign(static_cast<std::size_t>(after.rbegin()->first) + 1, -1.0);
    for (const auto& [cpu, a] : after) {
        auto b = before.find(cpu);
        if (cpu < 0 || b == before.end()) continue;
        // Counters only grow; a CPU brought online between the readings restarts them.
        if (a.total <= b->second.total || a.busy < b->second.busy) continue;
        load.busy[static_cast<std::size_t>(cpu)] = std::clamp(
            static_cast<double>(a.busy - b->second.busy) / static_cast<double>(a.total - b->second.total), 0.0, 1.0);
    }
    return load;
}

CpuRunDelays parse_cpu_run_delays(std::string_view schedstat) {
    CpuRunDelays delays;
    for (std::string_view line : detail::lines_of(schedstat)) {
        // "cpu0 0 0 100 50 40 30 9000000 1000000000 70": the eighth number.
        if (!line.starts_with("cpu") || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
        auto words = detail::words_of(line);
        auto cpu = detail::parse_integer<int>(words[0].substr(3));
        if (!cpu || !valid_id(*cpu) || words.size() < 9) return {};
        auto delay = detail::parse_integer<std::uint64_t>(words[8]);
        if (!delay) return {};
        if (static_cast<std::size_t>(*cpu) >= delays.size()) delays.resize(static_cast<std::size_t>(*cpu) + 1);
        delays[static_cast<std::size_t>(*cpu)] = *delay;
    }
    return delays;
}

std::vector<double> waiting_between(const CpuRunDelays& before, const CpuRunDelays& after,
                                    std::chrono::milliseconds interval) {
    std::vector<double> waiting;
    if (interval <= std::chrono::milliseconds{0}) return waiting;
    double ns = static_cast<double>(interval.count()) * 1e6;
    for (std::size_t cpu = 0; cpu < after.size(); ++cpu) {
        waiting.push_back(0.0);
        if (cpu >= before.size() || !before[cpu] || !after[cpu] || *after[cpu] < *before[cpu]) continue;
        waiting.back() = static_cast<double>(*after[cpu] - *before[cpu]) / ns;
    }
    return waiting;
}

std::map<int, double> busy_per_node(const Topology& topology, const CpuLoad& load, const CpuSet& reserved,
                                    const std::vector<double>& waiting) {
    std::map<int, double> busy;
    for (const Node& node : topology.nodes) {
        double sum = 0;
        for (int cpu : node.cpus) {
            if (reserved.contains(cpu) || cpu < 0) continue;
            auto i = static_cast<std::size_t>(cpu);
            if (i < load.busy.size()) sum += std::clamp(load.busy[i], 0.0, 1.0);
            if (i < waiting.size()) sum += std::max(0.0, waiting[i]);
        }
        busy[node.id] = sum;
    }
    return busy;
}

void set_measured_load(PlacementHost& host, const std::map<int, double>& busy) {
    host.vcpus_per_node.clear();
    for (const Node& node : host.topology.nodes) {
        auto it = busy.find(node.id);
        host.vcpus_per_node[node.id] = it == busy.end() ? 0 : static_cast<int>(detail::round_to_whole(it->second));
    }
}

PlacementHost measured_placement_host(Topology topology, const std::map<int, std::uint64_t>& free_bytes_per_node,
                                      const CpuLoad& load, const std::vector<double>& waiting, const CpuSet& reserved) {
    for (Node& node : topology.nodes)
        if (auto it = free_bytes_per_node.find(node.id); it != free_bytes_per_node.end())
            node.memory_free_bytes = node.memory_total_bytes > 0 ? std::min(it->second, node.memory_total_bytes) : it->second;
    auto busy = busy_per_node(topology, load, reserved, waiting);
    PlacementHost host = make_placement_host(std::move(topology), reserved);
    set_measured_load(host, busy);
    return host;
}

}  // namespace affine
