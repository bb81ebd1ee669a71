// A fresh reading of this host for the planner: topology, memory each node can
// give, and the load measured over a short window.
#include <fmt/format.h>

#include <thread>

#include "affine/host.hpp"
#include "affine/host_load.hpp"
#include "affine/set_grammar.hpp"
#include "cpu_accounting.hpp"
#include "sysfs.hpp"

namespace affine {
namespace {

using linux_backend::read_cpu_run_delays;
using linux_backend::read_cpu_times;
using linux_backend::SysFs;

}  // namespace

Result<PlacementHost> read_live_placement_host(const LiveHostOptions& options) {
    SysFs fs("/");
    auto start = std::chrono::steady_clock::now();
    auto before = read_cpu_times(fs);
    if (!before) return std::unexpected(before.error());
    auto delays_before = read_cpu_run_delays(fs);

    // The topology is read inside the window, so the answer costs the window only.
    auto topology = read_linux_topology("/");
    if (!topology) return std::unexpected(topology.error());
    CpuSet reserved;
    if (!options.reserved.empty()) {
        auto parsed = parse_cpu_set(options.reserved, *topology);
        if (!parsed) return usage_error(fmt::format("reserved CPUs '{}': {}", options.reserved, parsed.error().message));
        reserved = *parsed;
    }
    std::map<int, std::uint64_t> free;
    if (options.count_inactive_file)
        for (const Node& node : topology->nodes)
            if (auto available = linux_backend::node_available_bytes(fs, node.id)) free[node.id] = *available;

    std::this_thread::sleep_until(start + options.window);
    auto after = read_cpu_times(fs);
    if (!after) return std::unexpected(after.error());
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);

    // The daemon's measure (PlacementManager::live_host), over this window instead of
    // its interval: the same load gets the same answer with and without a daemon.
    PlacementHost host = measured_placement_host(std::move(*topology), free, cpu_load_between(*before, *after),
                                                 waiting_between(delays_before, read_cpu_run_delays(fs), waited),
                                                 reserved);
    return host;
}

}  // namespace affine
