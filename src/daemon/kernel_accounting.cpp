#include "kernel_accounting.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "../core/integer.hpp"
#include "../core/text.hpp"

namespace affine::daemon {
namespace {

// The unsigned numbers of `line`, separated by spaces.
std::vector<std::uint64_t> numbers(std::string_view line) {
    std::vector<std::uint64_t> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ') ++i;
        std::uint64_t v = 0;
        auto [p, ec] = std::from_chars(line.data() + i, line.data() + line.size(), v);
        if (ec != std::errc()) break;
        out.push_back(v);
        i = static_cast<std::size_t>(p - line.data());
    }
    return out;
}

// Calls fn(cpu, numbers) for every "cpuN n1 n2 ..." line (of /proc/stat and of
// /proc/schedstat); the "cpu" total line and others are skipped.
template <typename Fn>
void for_each_cpu_line(std::string_view text, Fn fn) {
    for (std::string_view line : detail::lines_of(text)) {
        if (!line.starts_with("cpu") || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
        int cpu = 0;
        auto [p, ec] = std::from_chars(line.data() + 3, line.data() + line.size(), cpu);
        if (ec != std::errc() || cpu < 0 || cpu > 1 << 20) continue;
        fn(static_cast<std::size_t>(cpu), numbers(line.substr(static_cast<std::size_t>(p - line.data()))));
    }
}

}  // namespace

CpuTimes parse_cpu_times(std::string_view text) {
    CpuTimes times;
    for_each_cpu_line(text, [&](std::size_t cpu, const std::vector<std::uint64_t>& v) {
        if (v.size() < 4) return;
        auto at = [&](std::size_t i) { return i < v.size() ? v[i] : 0; };
        CpuTimes::Times t;
        t.busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
        t.total = t.busy + at(3) + at(4);
        if (cpu >= times.cpus.size()) times.cpus.resize(cpu + 1);
        times.cpus[cpu] = t;
    });
    return times;
}

std::vector<std::optional<std::uint64_t>> parse_cpu_run_delays(std::string_view text) {
    std::vector<std::optional<std::uint64_t>> delays;
    for_each_cpu_line(text, [&](std::size_t cpu, const std::vector<std::uint64_t>& v) {
        if (v.size() < 8) return;
        if (cpu >= delays.size()) delays.resize(cpu + 1);
        delays[cpu] = v[7];
    });
    return delays;
}

std::vector<std::optional<std::uint64_t>> read_cpu_run_delays(const linux_backend::SysFs& fs) {
    auto text = fs.read("/proc/schedstat");
    if (!text) return {};
    return parse_cpu_run_delays(*text);
}

std::vector<double> waiting_between(const std::vector<std::optional<std::uint64_t>>& before,
                                    const std::vector<std::optional<std::uint64_t>>& after, Millis interval) {
    std::vector<double> waiting;
    if (interval <= Millis{0}) return waiting;
    double ns = static_cast<double>(interval.count()) * 1e6;
    for (std::size_t cpu = 0; cpu < after.size(); ++cpu) {
        waiting.push_back(0.0);
        if (cpu >= before.size() || !before[cpu] || !after[cpu] || *after[cpu] < *before[cpu]) continue;
        waiting.back() = static_cast<double>(*after[cpu] - *before[cpu]) / ns;
    }
    return waiting;
}

std::optional<CpuTimes> read_cpu_times(const linux_backend::SysFs& fs) {
    auto text = fs.read("/proc/stat");
    if (!text) return std::nullopt;
    return parse_cpu_times(*text);
}

CpuLoad cpu_load_between(const CpuTimes& before, const CpuTimes& after) {
    CpuLoad load;
    load.busy.assign(after.cpus.size(), -1.0);
    for (std::size_t c = 0; c < after.cpus.size() && c < before.cpus.size(); ++c) {
        const auto& a = after.cpus[c];
        const auto& b = before.cpus[c];
        if (!a || !b || a->total <= b->total || a->busy < b->busy) continue;
        load.busy[c] = std::clamp(static_cast<double>(a->busy - b->busy) / static_cast<double>(a->total - b->total),
                                  0.0, 1.0);
    }
    return load;
}

std::optional<ThreadTimes> parse_schedstat(std::string_view text) {
    auto v = numbers(text);
    if (v.size() < 2) return std::nullopt;
    return ThreadTimes{v[0], v[1]};
}

std::optional<std::uint64_t> parse_cpu_pressure(std::string_view text) {
    // "some avg10=0.00 avg60=0.00 avg300=0.00 total=123456"
    if (!text.starts_with("some ")) return std::nullopt;
    auto line = text.substr(0, text.find('\n'));
    auto at = line.find(" total=");
    if (at == std::string_view::npos) return std::nullopt;
    return detail::parse_integer<std::uint64_t>(line.substr(at + 7));
}

std::optional<std::uint64_t> read_cpu_pressure(const linux_backend::SysFs& fs, const std::string& cgroup) {
    if (cgroup.empty()) return std::nullopt;
    auto text = fs.read(cgroup == "/" ? std::string("/proc/pressure/cpu") : "/sys/fs/cgroup" + cgroup + "/cpu.pressure");
    if (!text) return std::nullopt;
    return parse_cpu_pressure(*text);
}

std::optional<ThreadTimes> read_thread_times(const linux_backend::SysFs& fs, int pid, int tid) {
    auto text = fs.read(fmt::format("/proc/{}/task/{}/schedstat", pid, tid));
    if (!text) return std::nullopt;
    return parse_schedstat(*text);
}

ThreadSample thread_sample_between(const ThreadTimes& before, const ThreadTimes& after, Millis interval) {
    ThreadSample s;
    s.interval = interval;
    double ns = static_cast<double>(std::max<long long>(interval.count(), 1)) * 1e6;
    if (after.run_ns >= before.run_ns) s.run_share = std::clamp(static_cast<double>(after.run_ns - before.run_ns) / ns, 0.0, 1.0);
    if (after.wait_ns >= before.wait_ns)
        s.wait_share = std::clamp(static_cast<double>(after.wait_ns - before.wait_ns) / ns, 0.0, 1.0);
    return s;
}

}  // namespace affine::daemon
