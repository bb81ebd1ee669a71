// Measured load per node from two readings of /proc/stat.
#include "affine/host_load.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace affine {

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
        if (ec != std::errc{}) return usage_error(fmt::format("/proc/stat line {}: bad CPU number", line_number));
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

std::map<int, double> busy_cpus_per_node(const Topology& topology, const CpuTimes& before, const CpuTimes& after,
                                         const CpuSet& left_out) {
    std::map<int, double> busy;
    for (const Node& node : topology.nodes) {
        double sum = 0.0;
        for (int cpu : node.cpus) {
            if (left_out.contains(cpu)) continue;
            auto b = before.find(cpu);
            auto a = after.find(cpu);
            if (b == before.end() || a == after.end()) continue;
            // Counters only grow; a CPU brought online between the readings restarts them.
            if (a->second.total <= b->second.total || a->second.busy < b->second.busy) continue;
            double share = static_cast<double>(a->second.busy - b->second.busy) /
                           static_cast<double>(a->second.total - b->second.total);
            sum += std::min(share, 1.0);
        }
        busy[node.id] = sum;
    }
    return busy;
}

void set_measured_load(PlacementHost& host, const std::map<int, double>& busy) {
    host.vcpus_per_node.clear();
    for (const Node& node : host.topology.nodes) {
        auto it = busy.find(node.id);
        host.vcpus_per_node[node.id] = it == busy.end() ? 0 : static_cast<int>(std::lround(it->second));
    }
}

}  // namespace affine
