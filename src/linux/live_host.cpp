// A fresh reading of this host for the planner: topology, memory each node can
// give, and the load measured over a short window.
#include <fmt/format.h>

#include <thread>

#include "affine/host.hpp"
#include "affine/host_load.hpp"
#include "affine/set_grammar.hpp"
#include "sysfs.hpp"

namespace affine {
namespace {

using linux_backend::SysFs;

Result<CpuTimes> read_cpu_times(const SysFs& fs) {
    auto text = fs.read("/proc/stat");
    if (!text) return failure("cannot read /proc/stat (the CPU load per node)");
    auto times = parse_cpu_times(*text);
    if (!times) return failure(times.error().message);
    return times;
}

}  // namespace

Result<PlacementHost> read_live_placement_host(const LiveHostOptions& options) {
    SysFs fs("/");
    auto start = std::chrono::steady_clock::now();
    auto before = read_cpu_times(fs);
    if (!before) return std::unexpected(before.error());

    // The topology is read inside the window, so the answer costs the window only.
    auto topology = read_linux_topology("/");
    if (!topology) return std::unexpected(topology.error());
    CpuSet reserved;
    if (!options.reserved.empty()) {
        auto parsed = parse_cpu_set(options.reserved, *topology);
        if (!parsed) return usage_error(fmt::format("reserved CPUs '{}': {}", options.reserved, parsed.error().message));
        reserved = *parsed;
    }
    if (options.count_inactive_file) {
        for (Node& node : topology->nodes)
            if (auto available = linux_backend::node_available_bytes(fs, node.id)) node.memory_free_bytes = *available;
    }

    std::this_thread::sleep_until(start + options.window);
    auto after = read_cpu_times(fs);
    if (!after) return std::unexpected(after.error());

    std::map<int, double> busy = busy_cpus_per_node(*topology, *before, *after, reserved);
    PlacementHost host = make_placement_host(std::move(*topology), reserved);
    set_measured_load(host, busy);
    return host;
}

}  // namespace affine
