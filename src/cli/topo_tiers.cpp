#include "topo_tiers.hpp"

#include <fmt/format.h>

#include "affine/set_grammar.hpp"
#include "affine/size.hpp"

namespace affine::cli {
namespace {

std::string figure(const std::optional<std::uint64_t>& v) { return v ? fmt::format("{}", *v) : "-"; }

std::string caches_text(const Node& n) {
    std::string text;
    for (const MemorySideCache& c : n.memory_side_caches) {
        std::string indexing = c.indexing == CacheIndexing::unknown ? "indexing unknown" : std::string(to_string(c.indexing));
        std::string policy =
            c.write_policy == CacheWritePolicy::unknown ? "write policy unknown" : std::string(to_string(c.write_policy));
        text += fmt::format("{}L{} {} {} {}, {} B lines", text.empty() ? "" : "; ", c.level, format_size(c.size_bytes),
                            indexing, policy, c.line_bytes);
    }
    return text;
}

}  // namespace

void print_memory_tiers(const Topology& t) {
    auto tiers = t.memory_tiers();
    bool hmat = false;
    for (const Node& n : t.nodes) hmat = hmat || !n.access.empty() || !n.memory_side_caches.empty();
    if (tiers.empty() && !hmat) return;
    fmt::print("\n");
    if (tiers.empty()) {
        fmt::print("memory tiers: not shown by this host\n");
    } else {
        std::string line;
        for (const MemoryTier& tier : tiers)
            line += fmt::format("{}memory_tier{}: nodes {}", line.empty() ? "" : "  |  ", tier.id, to_list(tier.nodes));
        fmt::print("memory tiers (fastest first): {}\n", line);
    }
    if (!hmat) return;
    fmt::print("\nmemory access (HMAT; class 1: from the nearest CPUs, 0: from any initiator):\n");
    auto row = [](auto... cells) {
        std::string line = fmt::format("{:>4} {:>5} {:>10} {:>10} {:>11} {:>11} {:>8} {:>8}  {}", cells...);
        while (line.ends_with(' ')) line.pop_back();
        fmt::print("{}\n", line);
    };
    row("node", "class", "from", "tier",
               "read MB/s", "write MB/s", "read ns", "write ns", "memory-side cache");
    for (const Node& n : t.nodes) {
        std::string tier = n.memory_tier ? fmt::format("{}", *n.memory_tier) : "-";
        if (n.access.empty() && !n.memory_side_caches.empty())
            row(n.id, "-", "-", tier, "-", "-",
                       "-", "-", caches_text(n));
        for (const MemoryAccess& a : n.access)
            row(n.id, a.access_class,
                       a.initiators.empty() ? "-" : to_list(a.initiators), tier, figure(a.read_bandwidth_mbps),
                       figure(a.write_bandwidth_mbps), figure(a.read_latency_ns), figure(a.write_latency_ns),
                       caches_text(n));
    }
}

}  // namespace affine::cli
