#include "sysfs_memory_tiers.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "affine/set_grammar.hpp"
#include "core/integer.hpp"

namespace affine::linux_backend {
namespace {

// The number after `prefix` in a directory entry ("memory_tier90" -> 90).
std::optional<int> suffix_number(std::string_view name, std::string_view prefix) {
    if (!name.starts_with(prefix)) return std::nullopt;
    auto n = detail::parse_integer<int>(name.substr(prefix.size()));
    if (!n || *n < 0 || *n > max_id) return std::nullopt;
    return n;
}

std::optional<std::uint64_t> read_number(const SysFs& fs, const std::string& path) {
    auto line = fs.read_line(path);
    if (!line) return std::nullopt;
    return detail::parse_integer<std::uint64_t>(*line);
}

// A performance figure: 0 is how the kernel shows one HMAT did not give.
std::optional<std::uint64_t> read_figure(const SysFs& fs, const std::string& path) {
    auto v = read_number(fs, path);
    return v && *v > 0 ? v : std::nullopt;
}

// The kernel numbers a node's access classes from 0 (access0: any initiator, access1:
// CPUs only); they are probed in that order rather than found by listing the node's
// directory, which holds a link per memory block (thousands on a large host).
std::vector<MemoryAccess> read_access(const SysFs& fs, const std::string& node_dir) {
    std::vector<MemoryAccess> classes;
    for (int access_class = 0;; ++access_class) {
        std::string dir = fmt::format("{}/access{}/initiators/", node_dir, access_class);
        if (!fs.exists(dir)) break;
        MemoryAccess a;
        a.access_class = access_class;
        for (const auto& link : fs.list(dir))
            if (auto id = suffix_number(link, "node")) a.initiators.insert(*id);
        a.read_bandwidth_mbps = read_figure(fs, dir + "read_bandwidth");
        a.write_bandwidth_mbps = read_figure(fs, dir + "write_bandwidth");
        a.read_latency_ns = read_figure(fs, dir + "read_latency");
        a.write_latency_ns = read_figure(fs, dir + "write_latency");
        classes.push_back(std::move(a));
    }
    return classes;
}

std::vector<MemorySideCache> read_caches(const SysFs& fs, const std::string& node_dir) {
    std::vector<MemorySideCache> caches;
    std::string base = node_dir + "/memory_side_cache";
    for (const auto& entry : fs.list(base)) {
        auto level = suffix_number(entry, "index");
        if (!level || *level < 1) continue;
        std::string dir = fmt::format("{}/{}/", base, entry);
        auto size = read_number(fs, dir + "size");
        if (!size) continue;  // not a cache the kernel finished describing
        MemorySideCache c{.level = *level, .size_bytes = *size, .line_bytes = read_number(fs, dir + "line_size").value_or(0)};
        // Kernel numbers beyond the ones it defines today are "other", as the kernel's own enum ends;
        // a file it does not show is unknown.
        auto indexing = read_number(fs, dir + "indexing");
        auto policy = read_number(fs, dir + "write_policy");
        c.indexing = !indexing ? CacheIndexing::unknown
                     : *indexing <= 1 ? static_cast<CacheIndexing>(*indexing) : CacheIndexing::other;
        c.write_policy = !policy ? CacheWritePolicy::unknown
                         : *policy <= 1 ? static_cast<CacheWritePolicy>(*policy) : CacheWritePolicy::other;
        caches.push_back(c);
    }
    std::ranges::sort(caches, {}, &MemorySideCache::level);
    return caches;
}

}  // namespace

void read_memory_tiers(const SysFs& fs, Topology& topology) {
    for (Node& node : topology.nodes) {
        std::string dir = fmt::format("/sys/devices/system/node/node{}", node.id);
        node.access = read_access(fs, dir);
        node.memory_side_caches = read_caches(fs, dir);
        // An initiator that is not a node of this host (not online) names nothing here.
        for (MemoryAccess& a : node.access) a.initiators &= topology.all_nodes();
    }
    const std::string tiers = "/sys/devices/virtual/memory_tiering";
    for (const auto& entry : fs.list(tiers)) {
        auto tier = suffix_number(entry, "memory_tier");
        if (!tier) continue;
        auto line = fs.read_line(fmt::format("{}/{}/nodelist", tiers, entry));
        if (!line) continue;
        auto members = parse_id_list(*line);
        if (!members) continue;
        for (Node& node : topology.nodes)
            if (members->contains(node.id)) node.memory_tier = *tier;
    }
}

}  // namespace affine::linux_backend
