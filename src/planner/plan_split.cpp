#include "plan_split.hpp"

#include <algorithm>
#include <numeric>

namespace affine::planner {

std::uint64_t split_proportionally(std::uint64_t total, const std::vector<std::uint64_t>& weight,
                                   std::vector<std::uint64_t>& room, std::vector<std::uint64_t>& given) {
    std::vector<std::size_t> active;
    for (std::size_t i = 0; i < weight.size(); ++i)
        if (weight[i] > 0 && room[i] > 0) active.push_back(i);
    std::uint64_t remaining = total;
    while (remaining > 0 && !active.empty()) {
        Wide sum = 0;
        for (std::size_t i : active) sum += weight[i];
        std::vector<std::uint64_t> share(active.size());
        bool capped = false;
        for (std::size_t k = 0; k < active.size(); ++k) {
            share[k] = static_cast<std::uint64_t>(static_cast<Wide>(remaining) * weight[active[k]] / sum);
            capped = capped || share[k] >= room[active[k]];
        }
        if (capped) {
            // Fill the capped slots and re-split the rest over the others.
            std::vector<std::size_t> still;
            for (std::size_t k = 0; k < active.size(); ++k) {
                std::size_t i = active[k];
                if (share[k] >= room[i]) {
                    given[i] += room[i];
                    remaining -= room[i];
                    room[i] = 0;
                } else {
                    still.push_back(i);
                }
            }
            active = std::move(still);
            continue;
        }
        for (std::size_t k = 0; k < active.size(); ++k) {
            std::size_t i = active[k];
            given[i] += share[k];
            room[i] -= share[k];
            remaining -= share[k];
        }
        // The floors leave fewer bytes than slots, and every slot here has room for
        // one more (its share was below its room): one byte each, lowest first.
        for (std::size_t i : active) {
            if (remaining == 0) break;
            given[i] += 1;
            room[i] -= 1;
            remaining -= 1;
        }
    }
    return remaining;
}

// The split of a pair of nodes with CPUs when neither is capped: the same bytes as
// split_proportionally (floor, then the lowest first) without allocating, for the pair
// search, which scores every pair. False when the general split is needed.
bool split_pair(const NodeFacts& a, const NodeFacts& b, std::uint64_t memory, std::uint64_t& take_a,
                std::uint64_t& take_b) {
    if (a.cpus <= 0 || b.cpus <= 0) return false;
    auto sum = static_cast<std::uint64_t>(a.cpus + b.cpus);
    auto share = [&](long long cpus) {
        std::uint64_t product = 0;
        if (!__builtin_mul_overflow(memory, static_cast<std::uint64_t>(cpus), &product)) return product / sum;
        return static_cast<std::uint64_t>(static_cast<Wide>(memory) * static_cast<Wide>(cpus) / sum);
    };
    std::uint64_t share_a = share(a.cpus);
    std::uint64_t share_b = share(b.cpus);
    if (share_a >= a.free || share_b >= b.free) return false;
    std::uint64_t remaining = memory - share_a - share_b;
    std::uint64_t extra_a = std::min(a.free - share_a, remaining);
    take_a = share_a + extra_a;
    take_b = share_b + std::min(b.free - share_b, remaining - extra_a);
    return true;
}

// The memory split of a plan over its members (see the header): take[k] for members[k].
void split_memory(const HostFacts& facts, const std::vector<int>& members, std::uint64_t memory,
                  std::vector<std::uint64_t>& take) {
    take.assign(members.size(), 0);
    if (members.size() == 1) {
        take[0] = std::min(memory, facts.node(members[0]).free);
        return;
    }
    if (members.size() == 2 &&
        split_pair(facts.node(members[0]), facts.node(members[1]), memory, take[0], take[1]))
        return;
    std::vector<std::uint64_t> weight(members.size(), 0);
    std::vector<std::uint64_t> room(members.size(), 0);
    for (std::size_t k = 0; k < members.size(); ++k) {
        weight[k] = static_cast<std::uint64_t>(facts.node(members[k]).cpus);
        room[k] = facts.node(members[k]).free;
    }
    std::uint64_t left = split_proportionally(memory, weight, room, take);
    // What the nodes with CPUs cannot take goes to the CPU-less ones by free memory.
    if (left > 0) {
        std::vector<std::uint64_t> by_free = room;
        split_proportionally(left, by_free, room, take);
    }
}

std::vector<long long> split_count(long long count, const std::vector<long long>& weight) {
    std::vector<long long> out(weight.size(), 0);
    long long sum = std::accumulate(weight.begin(), weight.end(), 0LL);
    if (sum == 0 || count == 0) return out;
    std::vector<std::pair<long long, std::size_t>> remainders;
    long long given = 0;
    for (std::size_t i = 0; i < weight.size(); ++i) {
        out[i] = count * weight[i] / sum;
        given += out[i];
        remainders.emplace_back(-(count * weight[i] % sum), i);
    }
    std::ranges::sort(remainders);
    for (std::size_t k = 0; given < count; ++k, ++given) out[remainders[k].second]++;
    return out;
}

}  // namespace affine::planner
