#include "plan_explain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <numeric>

#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "plan_score.hpp"

namespace affine::planner {
namespace {

std::string load_text(const PlanScore& s) {
    if (s.node_load_den == 0) return "infinite (no usable CPU)";
    return fmt::format("worst node {:.2f}, mean {:.2f} vCPUs/CPU", s.projected_load(), s.mean_load());
}

std::string memory_text(const PlanScore& s) {
    return fmt::format("least free fraction {:.1f}%, {} free", 100 * s.least_free_fraction(),
                       format_size(s.free_memory_left_bytes));
}

std::string ids_text(const std::vector<int>& ids) {
    NodeSet set;
    for (int id : ids) set.insert(id);
    return to_list(set);
}

}  // namespace

RunnerUp runner_up(const HostFacts& facts, const Candidate& loser, const Candidate& winner, const Need& need) {
    RunnerUp r;
    std::vector<int> loser_ids;
    std::vector<int> winner_ids;
    for (int i : loser.members) loser_ids.push_back(facts.node(i).id);
    for (int i : winner.members) winner_ids.push_back(facts.node(i).id);
    for (int id : loser_ids) r.nodes.insert(id);
    r.score = score_of(loser, need);
    PlanScore w = score_of(winner, need);
    r.lost_on = compare(loser, winner, need).rule;
    switch (r.lost_on) {
        case LostOn::node_count:
            r.reason = fmt::format("{} nodes, chosen has {}", r.score.node_count, w.node_count);
            break;
        case LostOn::resident_memory:
            r.reason = fmt::format("holds {} of the resident memory, chosen holds {}", format_size(r.score.resident_bytes),
                                   format_size(w.resident_bytes));
            break;
        case LostOn::worst_distance:
            r.reason = fmt::format("worst distance {}, chosen {}", r.score.worst_distance, w.worst_distance);
            break;
        case LostOn::projected_load:
            r.reason = fmt::format("projected load {}, chosen {}", load_text(r.score), load_text(w));
            break;
        case LostOn::free_memory_left:
            r.reason = fmt::format("leaves {}, chosen {}", memory_text(r.score), memory_text(w));
            break;
        case LostOn::node_ids:
            r.reason = fmt::format("equal on every rule; nodes {} come after {}", ids_text(loser_ids), ids_text(winner_ids));
            break;
    }
    return r;
}

std::string no_fewer_text(const HostFacts& facts, const Need& need, int k) {
    // The k nodes richest in each resource on their own: if even they fall short, say which.
    std::vector<std::uint64_t> mem;
    std::vector<long long> cap;
    for (const NodeFacts& n : facts.nodes()) {
        mem.push_back(n.free);
        cap.push_back(need.capacity(n));
    }
    std::ranges::sort(mem, std::greater{});
    std::ranges::sort(cap, std::greater{});
    auto kk = static_cast<std::size_t>(k);
    std::uint64_t top_mem = std::accumulate(mem.begin(), mem.begin() + static_cast<long>(std::min(kk, mem.size())),
                                            std::uint64_t{0});
    long long top_cap = std::accumulate(cap.begin(), cap.begin() + static_cast<long>(std::min(kk, cap.size())), 0LL);
    std::string unit = need.whole_cores ? "whole cores" : "usable CPUs";
    std::string set = k == 1 ? "no single node fits" : fmt::format("no set of {} nodes fits", k);
    if (top_mem < need.memory)
        return fmt::format("{}: the most free memory on {} is {} < {}", set, k == 1 ? "one node" : fmt::format("{} nodes", k),
                           format_size(top_mem), format_size(need.memory));
    if (need.cpus_required && top_cap < need.vcpus)
        return fmt::format("{}: the most {} on {} is {} < {} vCPUs", set, unit,
                           k == 1 ? "one node" : fmt::format("{} nodes", k), top_cap, need.vcpus);
    return fmt::format("{}: none holds both {} free and {} {} within reachable distances", set,
                       format_size(need.memory), need.vcpus, need.vcpus == 1 ? unit.substr(0, unit.size() - 1) : unit);
}

}  // namespace affine::planner
