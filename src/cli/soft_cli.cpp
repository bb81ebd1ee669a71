#include "soft_cli.hpp"

#include <fmt/format.h>

#include <ctime>

#include "daemon/control_client.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "command.hpp"

namespace affine::cli {

std::string clock_time(double unix_time) {
    std::time_t t = static_cast<std::time_t>(unix_time);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    return fmt::format("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::map<int, protocol::WorkloadStatus> managed_workloads(const std::vector<int>& ids) {
    std::map<int, protocol::WorkloadStatus> found;
    protocol::Request r;
    r.op = protocol::Op::show;
    r.ids = ids;
    auto [body, absent] = daemon::ask_daemon(r);
    if (!body) {
        // The kernel's view stands on its own; a daemon that does not answer only
        // leaves the soft affinity unknown.
        if (!absent) fmt::print(stderr, "affine: soft affinity unknown: {}\n", body.error().message);
        return found;
    }
    for (const auto& w : (*body)["workloads"]) {
        auto ws = value_or_throw(protocol::workload_from_json(w));
        found.emplace(ws.pid, std::move(ws));
    }
    return found;
}

void print_workload(const protocol::WorkloadStatus& w, const std::string& indent) {
    fmt::print("{}pid {} ({}), uid {}: soft CPUs {}{}{}, since {} ({})\n", indent, w.pid, w.command, w.uid,
               to_list(w.soft), w.all_threads ? ", every thread" : "", w.children ? " and child processes" : "",
               clock_time(w.since), w.origin);
    for (const auto& t : w.threads)
        fmt::print("{}  tid {} ({}): hard {}, soft {}, applied {}, {} since {}: {}\n", indent, t.tid, t.name,
                   to_list(t.hard), to_list(t.soft), to_list(t.applied), t.state, clock_time(t.since), t.why);
    if (!w.memory_bytes_per_node.empty()) {
        std::uint64_t total = 0;
        for (auto [n, b] : w.memory_bytes_per_node) total += b;
        std::string list;
        for (auto [n, b] : w.memory_bytes_per_node)
            list += fmt::format("{}node {} {} ({:.0f}%)", list.empty() ? "" : ", ", n, format_size(b),
                                total > 0 ? 100.0 * static_cast<double>(b) / static_cast<double>(total) : 0.0);
        fmt::print("{}  memory: {}\n", indent, list);
    }
}

std::optional<CpuSet> parse_soft_cpus_or_throw(const std::string& text, const Topology& host) {
    if (text == "all") return std::nullopt;
    return value_or_throw(parse_cpu_set(text, host));
}

std::vector<protocol::WorkloadStatus> request_soft_affinity(const std::vector<int>& ids,
                                                            const std::optional<CpuSet>& cpus, bool all_threads,
                                                            bool children) {
    protocol::Request r;
    r.op = protocol::Op::set_soft;
    r.ids = ids;
    r.cpus = cpus;
    r.all_threads = all_threads;
    r.children = children;
    auto body = value_or_throw(daemon::ask_daemon(r).answer);
    std::vector<protocol::WorkloadStatus> out;
    if (body.contains("workloads"))
        for (const auto& w : body["workloads"]) out.push_back(value_or_throw(protocol::workload_from_json(w)));
    return out;
}

}  // namespace affine::cli
