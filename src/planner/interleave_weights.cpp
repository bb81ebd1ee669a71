// The pure rules of weighted interleave's weights: from HMAT bandwidths, and the
// NODE:W grammar.
#include "affine/interleave_weights.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "core/integer.hpp"

namespace affine {

Result<std::map<int, int>> weights_from_bandwidth(const Topology& t) {
    std::map<int, std::uint64_t> bandwidth;
    for (const Node& n : t.nodes) {
        if (!n.has_memory()) continue;
        // The CPUs' class first: weighted interleave serves the CPUs.
        const MemoryAccess* best = nullptr;
        for (const MemoryAccess& a : n.access)
            if (a.read_bandwidth_mbps && (best == nullptr || a.access_class == 1)) best = &a;
        if (best != nullptr) bandwidth[n.id] = *best->read_bandwidth_mbps;
    }
    if (bandwidth.empty())
        return failure("no node shows a read bandwidth (nodeN/access*/initiators/read_bandwidth): the firmware "
                       "gives no HMAT; set the weights by hand (affine weights NODE:W,...)");
    std::uint64_t divisor = 0, largest = 0;
    for (const auto& [node, bw] : bandwidth) {
        divisor = std::gcd(divisor, bw);
        largest = std::max(largest, bw);
    }
    std::map<int, int> weights;
    const std::uint64_t top = largest / divisor;
    for (const auto& [node, bw] : bandwidth) {
        std::uint64_t w = bw / divisor;
        // Too fine for the kernel's 255 steps: scale, rounding to nearest, never to 0.
        if (top > max_interleave_weight) w = std::max<std::uint64_t>(1, (w * max_interleave_weight + top / 2) / top);
        weights[node] = static_cast<int>(w);
    }
    return weights;
}

Result<std::map<int, int>> parse_interleave_weights(std::string_view text) {
    std::map<int, int> weights;
    auto bad = [&](std::string_view item, const std::string& why) {
        return usage_error(fmt::format("bad weight \"{}\": {} (expected NODE:W,... with W from 1 to {})", item, why,
                                       max_interleave_weight));
    };
    if (text.empty()) return bad(text, "empty");
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t comma = text.find(',', pos);
        std::string_view item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        std::size_t colon = item.find(':');
        if (colon == std::string_view::npos) return bad(item, "no colon");
        auto node = detail::parse_integer<int>(item.substr(0, colon));
        if (!node || *node < 0 || *node > max_id) return bad(item, "the node is not an id");
        auto weight = detail::parse_integer<int>(item.substr(colon + 1));
        if (!weight || *weight < 1 || *weight > max_interleave_weight) return bad(item, "the weight is out of range");
        if (!weights.emplace(*node, *weight).second) return bad(item, fmt::format("node {} given twice", *node));
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    return weights;
}

}  // namespace affine
