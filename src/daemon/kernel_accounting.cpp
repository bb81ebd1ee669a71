#include "kernel_accounting.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "core/integer.hpp"
#include "core/text.hpp"

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

}  // namespace

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
