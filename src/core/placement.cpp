#include "affine/placement.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <tuple>

#include "affine/set_grammar.hpp"
#include "affine/size.hpp"

namespace affine {
namespace {

__extension__ typedef unsigned __int128 Wide;

constexpr int max_exhaustive_nodes = 20;

// 255 is the SLIT's "no connection" marker; below 10 is not a distance at all.
bool reachable_distance(int d) { return d >= 10 && d != 255; }

std::vector<int> distance_matrix_of(const Topology& t) {
    std::size_t n = t.nodes.size();
    std::vector<int> matrix(n * n, 20);
    for (std::size_t i = 0; i < n; ++i) {
        const Node& from = t.nodes[i];
        // Both the distance map and the nodes are sorted by id: walk them together.
        auto it = from.distances.begin();
        for (std::size_t j = 0; j < n; ++j) {
            int to = t.nodes[j].id;
            while (it != from.distances.end() && it->first < to) ++it;
            if (it != from.distances.end() && it->first == to) matrix[i * n + j] = it->second;
            else matrix[i * n + j] = i == j ? 10 : 20;  // as Topology::distance
        }
    }
    return matrix;
}

// What the planner knows of one node, from the definitions in the header.
struct NodeFacts {
    int id = 0;
    long long cpus = 0;   // usable CPUs
    long long cores = 0;  // usable whole cores
    std::uint64_t free = 0;
    std::uint64_t total = 0;  // memory_total_bytes
    long long vcpus = 0;  // load already there
    std::uint64_t resident = 0;
    int self_distance = 10;
};

// The host reduced to the planner's facts. Node index i is the i-th node by id.
class HostFacts {
public:
    HostFacts(const PlacementHost& host, const PlacementRequest& request) : topology_(host.topology) {
        const Topology& t = host.topology;
        if (host.distance_matrix.size() == t.nodes.size() * t.nodes.size()) cached_ = &host.distance_matrix;
        nodes_.reserve(t.nodes.size());
        std::vector<int> index_of(static_cast<std::size_t>(t.node_id_limit()), -1);
        for (const Node& n : t.nodes) {
            index_of[static_cast<std::size_t>(n.id)] = static_cast<int>(nodes_.size());
            NodeFacts f;
            f.id = n.id;
            f.free = t.allowed_nodes.contains(n.id) ? n.memory_free_bytes : 0;
            f.total = t.allowed_nodes.contains(n.id) ? n.memory_total_bytes : 0;
            if (auto it = host.vcpus_per_node.find(n.id); it != host.vcpus_per_node.end()) f.vcpus = it->second;
            if (auto it = request.resident_bytes_per_node.find(n.id); it != request.resident_bytes_per_node.end())
                f.resident = it->second;
            f.self_distance = t.distance(n.id, n.id);
            nodes_.push_back(f);
        }
        // One pass over the CPUs: usable CPUs per node, and whole cores (a core counts
        // only when every one of its CPUs is usable).
        struct CoreState {
            int node_index = -1;
            bool whole = true;
        };
        int max_core = -1;
        for (const Cpu& c : t.cpus) max_core = std::max(max_core, c.core);
        std::vector<CoreState> cores(static_cast<std::size_t>(std::min(max_core + 1, 1 << 22)));
        std::map<int, CoreState> far_cores;  // core ids too large for the table (odd host files)
        for (const Cpu& c : t.cpus) {
            bool usable = c.online && t.allowed_cpus.contains(c.id) && !host.reserved.contains(c.id);
            int index = c.node >= 0 && c.node < t.node_id_limit() ? index_of[static_cast<std::size_t>(c.node)] : -1;
            if (usable && index >= 0) {
                nodes_[static_cast<std::size_t>(index)].cpus++;
                usable_.insert(c.id);
            }
            if (c.core < 0) continue;
            CoreState& core = c.core < static_cast<int>(cores.size()) ? cores[static_cast<std::size_t>(c.core)]
                                                                       : far_cores[c.core];
            core.whole = core.whole && usable && index >= 0 && (core.node_index < 0 || core.node_index == index);
            core.node_index = index;
        }
        auto count_core = [&](const CoreState& core) {
            if (core.node_index >= 0 && core.whole) nodes_[static_cast<std::size_t>(core.node_index)].cores++;
        };
        for (const CoreState& core : cores) count_core(core);
        for (const auto& [id, core] : far_cores) count_core(core);
    }

    [[nodiscard]] int size() const { return static_cast<int>(nodes_.size()); }
    [[nodiscard]] const NodeFacts& node(int index) const { return nodes_[static_cast<std::size_t>(index)]; }
    [[nodiscard]] const std::vector<NodeFacts>& nodes() const { return nodes_; }
    [[nodiscard]] const CpuSet& usable_cpus() const { return usable_; }
    [[nodiscard]] const Topology& topology() const { return topology_; }

    // Distance by node index, from a dense matrix built on first use: the planner
    // scores many pairs and std::map lookups would dominate on large hosts.
    [[nodiscard]] int distance(int a, int b) const {
        if (a == b) return nodes_[static_cast<std::size_t>(a)].self_distance;
        if (cached_ == nullptr) {
            matrix_ = distance_matrix_of(topology_);
            cached_ = &matrix_;
        }
        return (*cached_)[static_cast<std::size_t>(a) * nodes_.size() + static_cast<std::size_t>(b)];
    }

private:
    const Topology& topology_;
    mutable const std::vector<int>* cached_ = nullptr;
    std::vector<NodeFacts> nodes_;
    CpuSet usable_;
    mutable std::vector<int> matrix_;
};

// A candidate node set with its sums; members are node indices, ascending.
struct Candidate {
    std::vector<int> members;
    std::uint64_t free = 0;
    long long cpus = 0;
    long long cores = 0;
    long long vcpus_there = 0;
    std::uint64_t resident = 0;
    int worst = 0;
    bool reachable = true;
    // The member with the most vCPUs per usable CPU now (peak_cpus 0: no member has CPUs).
    long long peak_vcpus = 0;
    long long peak_cpus = 0;
    // The member left with the smallest free-memory fraction by the plan's memory split
    // (least_total 0: not computed, the memory does not fit).
    std::uint64_t least_left = 0;
    std::uint64_t least_total = 0;
};

// The request as the rules see it.
struct Need {
    std::uint64_t memory = 0;
    long long vcpus = 0;
    bool whole_cores = false;
    bool cpus_required = true;  // rule 2 (dropped for prio-mem-only)
    bool use_resident = false;  // rule 4

    explicit Need(const PlacementRequest& r)
        : memory(r.memory_bytes), vcpus(r.vcpus), whole_cores(r.unit == VcpuUnit::core),
          cpus_required(r.policy != PlacementPolicy::prio_mem_only), use_resident(!r.resident_bytes_per_node.empty()) {}

    [[nodiscard]] long long capacity(const NodeFacts& n) const { return whole_cores ? n.cores : n.cpus; }
    [[nodiscard]] long long capacity(const Candidate& c) const { return whole_cores ? c.cores : c.cpus; }
    [[nodiscard]] bool fits(const Candidate& c) const {
        return c.reachable && c.free >= memory && (!cpus_required || capacity(c) >= vcpus);
    }
};

// Splits `total` bytes over slots in proportion to `weight`, never above `room`;
// what capped slots cannot take is re-split over the others. Returns what is left
// when no slot with weight has room. Rounding: floor, then the lowest slots first.
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
        for (std::size_t i : active) {
            std::uint64_t extra = std::min(room[i], remaining);
            given[i] += extra;
            room[i] -= extra;
            remaining -= extra;
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

// The figures of rules 6 and 7 that need more than sums: the peak node load now and
// the least free fraction left by the memory split (only when the memory fits).
void score_split(const HostFacts& facts, const Need& need, Candidate& c) {
    c.peak_vcpus = c.peak_cpus = 0;
    for (int i : c.members) {
        const NodeFacts& n = facts.node(i);
        if (n.cpus == 0) continue;
        if (c.peak_cpus == 0 ||
            static_cast<Wide>(n.vcpus) * static_cast<Wide>(c.peak_cpus) > static_cast<Wide>(c.peak_vcpus) * static_cast<Wide>(n.cpus)) {
            c.peak_vcpus = n.vcpus;
            c.peak_cpus = n.cpus;
        }
    }
    c.least_left = c.least_total = 0;
    if (c.free < need.memory) return;
    auto count = [&](const NodeFacts& n, std::uint64_t taken) {
        std::uint64_t total = std::max(n.total, n.free);  // a host file may say less
        if (total == 0) return;
        std::uint64_t left = n.free - taken;
        if (c.least_total == 0 || static_cast<Wide>(left) * c.least_total < static_cast<Wide>(c.least_left) * total) {
            c.least_left = left;
            c.least_total = total;
        }
    };
    std::uint64_t take_a = 0;
    std::uint64_t take_b = 0;
    if (c.members.size() == 2 &&
        split_pair(facts.node(c.members[0]), facts.node(c.members[1]), need.memory, take_a, take_b)) {
        count(facts.node(c.members[0]), take_a);
        count(facts.node(c.members[1]), take_b);
        return;
    }
    thread_local std::vector<std::uint64_t> take;
    split_memory(facts, c.members, need.memory, take);
    for (std::size_t k = 0; k < c.members.size(); ++k) count(facts.node(c.members[k]), take[k]);
}

// Computes the sums of `c` from its members (sorted in place), then score_split.
void score_members(const HostFacts& facts, const Need& need, Candidate& c) {
    std::ranges::sort(c.members);
    c.free = 0;
    c.cpus = c.cores = c.vcpus_there = 0;
    c.resident = 0;
    c.worst = 0;
    c.reachable = true;
    for (std::size_t i = 0; i < c.members.size(); ++i) {
        const NodeFacts& n = facts.node(c.members[i]);
        c.free += n.free;
        c.cpus += n.cpus;
        c.cores += n.cores;
        c.vcpus_there += n.vcpus;
        c.resident += n.resident;
        for (std::size_t j = 0; j <= i; ++j) {
            int d = facts.distance(c.members[i], c.members[j]);
            if (!reachable_distance(d)) c.reachable = false;
            c.worst = std::max(c.worst, d);
        }
    }
    score_split(facts, need, c);
}

Candidate make_candidate(const HostFacts& facts, const Need& need, std::vector<int> members) {
    Candidate c;
    c.members = std::move(members);
    score_members(facts, need, c);
    return c;
}

PlanScore score_of(const Candidate& c, const Need& need) {
    PlanScore s;
    s.node_count = static_cast<int>(c.members.size());
    s.resident_bytes = c.resident;
    s.worst_distance = c.worst;
    s.load_vcpus = c.vcpus_there + need.vcpus;
    s.load_cpus = c.cpus;
    // peak/pc + V/cpus = (peak cpus_S + V pc) / (pc cpus_S)
    if (c.peak_cpus > 0) {
        s.node_load_num = c.peak_vcpus * c.cpus + need.vcpus * c.peak_cpus;
        s.node_load_den = c.peak_cpus * c.cpus;
    }
    s.free_memory_left_bytes = c.free >= need.memory ? c.free - need.memory : 0;
    s.least_free_left_bytes = c.least_left;
    s.least_free_total_bytes = c.least_total;
    return s;
}

// Compares a/b with c/d; a zero denominator is infinite.
int compare_ratio(long long a, long long b, long long c, long long d) {
    if (b == 0 || d == 0) return (b == 0 ? 1 : 0) - (d == 0 ? 1 : 0);
    Wide left = static_cast<Wide>(a) * static_cast<Wide>(d);
    Wide right = static_cast<Wide>(c) * static_cast<Wide>(b);
    return left < right ? -1 : left > right ? 1 : 0;
}

// Rule 6: lower projected load: the worst node load, then the mean load.
int compare_load(const PlanScore& a, const PlanScore& b) {
    if (int c = compare_ratio(a.node_load_num, a.node_load_den, b.node_load_num, b.node_load_den); c != 0) return c;
    return compare_ratio(a.load_vcpus, a.load_cpus, b.load_vcpus, b.load_cpus);
}

// Rule 7: more free memory left: the least free fraction, then the bytes.
int compare_memory(const PlanScore& a, const PlanScore& b) {
    auto three_way = [](auto x, auto y) { return x < y ? -1 : x > y ? 1 : 0; };
    Wide l = static_cast<Wide>(a.least_free_left_bytes) * b.least_free_total_bytes;
    Wide r = static_cast<Wide>(b.least_free_left_bytes) * a.least_free_total_bytes;
    if (l != r) return l > r ? -1 : 1;
    return three_way(b.free_memory_left_bytes, a.free_memory_left_bytes);
}

struct Verdict {
    int order = 0;  // < 0: a is better
    LostOn rule = LostOn::node_ids;
};

// Rules 3 to 8 between two fitting candidates.
Verdict compare(const Candidate& a, const Candidate& b, const Need& need) {
    auto three_way = [](auto x, auto y) { return x < y ? -1 : x > y ? 1 : 0; };
    if (a.members.size() != b.members.size())
        return {three_way(a.members.size(), b.members.size()), LostOn::node_count};
    if (need.use_resident && a.resident != b.resident) return {three_way(b.resident, a.resident), LostOn::resident_memory};
    if (a.worst != b.worst) return {three_way(a.worst, b.worst), LostOn::worst_distance};
    // Rule 6 straight from the candidates (this runs for every scored pair on large hosts).
    Wide v = static_cast<Wide>(need.vcpus);
    Wide load_a = static_cast<Wide>(a.peak_vcpus) * static_cast<Wide>(a.cpus) + v * static_cast<Wide>(a.peak_cpus);
    Wide load_b = static_cast<Wide>(b.peak_vcpus) * static_cast<Wide>(b.cpus) + v * static_cast<Wide>(b.peak_cpus);
    Wide den_a = static_cast<Wide>(a.peak_cpus) * static_cast<Wide>(a.cpus);
    Wide den_b = static_cast<Wide>(b.peak_cpus) * static_cast<Wide>(b.cpus);
    if (den_a != 0 && den_b != 0 && load_a * den_b != load_b * den_a)
        return {load_a * den_b < load_b * den_a ? -1 : 1, LostOn::projected_load};
    PlanScore sa = score_of(a, need);
    PlanScore sb = score_of(b, need);
    if (int c = compare_load(sa, sb); c != 0) return {c, LostOn::projected_load};
    if (int c = compare_memory(sa, sb); c != 0) return {c, LostOn::free_memory_left};
    return {a.members < b.members ? -1 : a.members > b.members ? 1 : 0, LostOn::node_ids};
}

// The best few fitting candidates seen, best first, without duplicates.
class Podium {
public:
    Podium(const Need& need, std::size_t places) : need_(need), places_(places) {}

    // Copies `c` in only when it ranks among the best `places`.
    void offer(const Candidate& c) {
        auto better = [&](const Candidate& x, const Candidate& y) { return compare(x, y, need_).order < 0; };
        if (ranked_.size() >= places_ && !better(c, ranked_.back())) return;
        auto pos = std::ranges::lower_bound(ranked_, c, better);
        if (pos != ranked_.end() && pos->members == c.members) return;
        ranked_.insert(pos, c);
        if (ranked_.size() > places_) ranked_.pop_back();
    }
    // Whether a candidate of `size` nodes and worst distance `worst` could still enter.
    [[nodiscard]] bool could_enter(std::size_t size, int worst) const {
        if (ranked_.size() < places_) return true;
        const Candidate& last = ranked_.back();
        if (size != last.members.size()) return size < last.members.size();
        return need_.use_resident || worst <= last.worst;
    }
    [[nodiscard]] bool empty() const { return ranked_.empty(); }
    [[nodiscard]] const std::vector<Candidate>& ranked() const { return ranked_; }

private:
    const Need& need_;
    std::size_t places_;
    std::vector<Candidate> ranked_;
};

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

// Largest-remainder split of `count` over `weight` (ties to the lowest slot).
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
                       format_size(need.memory), need.vcpus, unit);
}

Result<void> validate(const PlacementHost& host, const PlacementRequest& request, const HostFacts& facts) {
    std::string who = request.name.empty() ? "placement request" : fmt::format("placement request \"{}\"", request.name);
    if (request.vcpus < 1) return usage_error(fmt::format("{}: vcpus must be at least 1, not {}", who, request.vcpus));
    if (request.memory_bytes == 0) return usage_error(fmt::format("{}: memory must be more than 0 bytes", who));
    for (const auto& [node, bytes] : request.resident_bytes_per_node)
        if (host.topology.node(node) == nullptr)
            return usage_error(fmt::format("{}: resident memory on node {}, which the host does not have (nodes: {})",
                                           who, node, to_list(host.topology.all_nodes())));
    if (facts.usable_cpus().empty())
        return usage_error(fmt::format("{}: no usable CPU on the host: online {}, reserved {}", who,
                                       to_list(host.topology.online_cpus() & host.topology.allowed_cpus),
                                       to_list(host.reserved)));
    return {};
}

// Builds the plan for a chosen candidate, or the fallback/refusal when there is none.
Plan finish(const HostFacts& facts, const PlacementRequest& request, const Need& need, const Candidate* chosen) {
    Plan plan;
    plan.name = request.name;
    plan.policy = request.policy;
    const std::size_t n = facts.nodes().size();
    const bool any = request.policy == PlacementPolicy::any;

    std::uint64_t host_free = 0;
    for (const NodeFacts& f : facts.nodes()) host_free += f.free;
    std::vector<std::uint64_t> given(n, 0);
    std::vector<int> members;
    if (chosen != nullptr && !any) {
        plan.outcome = PlanOutcome::placed;
        members = chosen->members;
        std::vector<std::uint64_t> take;
        split_memory(facts, members, need.memory, take);
        for (std::size_t k = 0; k < members.size(); ++k) given[static_cast<std::size_t>(members[k])] = take[k];
    } else if (host_free >= need.memory) {
        // Striped in proportion to free memory: the Xen allocator without node affinity.
        plan.outcome = any ? PlanOutcome::placed : PlanOutcome::fallback;
        std::vector<std::uint64_t> weight(n);
        for (std::size_t i = 0; i < n; ++i) weight[i] = facts.node(static_cast<int>(i)).free;
        std::vector<std::uint64_t> room = weight;
        split_proportionally(need.memory, weight, room, given);
        for (std::size_t i = 0; i < n; ++i)
            if (given[i] > 0 || facts.node(static_cast<int>(i)).cpus > 0) members.push_back(static_cast<int>(i));
    } else {
        plan.outcome = PlanOutcome::refused;
    }
    if (plan.outcome == PlanOutcome::refused) {
        plan.fallback = fmt::format("cannot place: {} of memory requested, the host has {} free", format_size(need.memory),
                                    format_size(host_free));
        return plan;
    }

    for (int i : members) {
        plan.nodes.insert(facts.node(i).id);
        if (given[static_cast<std::size_t>(i)] > 0)
            plan.memory_bytes_per_node[facts.node(i).id] = given[static_cast<std::size_t>(i)];
    }
    bool confined = plan.outcome == PlanOutcome::placed &&
                    (request.policy == PlacementPolicy::best_effort || request.policy == PlacementPolicy::best_effort_hard);
    CpuSet plan_cpus = facts.usable_cpus() & facts.topology().cpus_of(plan.nodes);
    plan.cpus = confined ? plan_cpus : facts.usable_cpus();
    bool host_has_reserved = facts.usable_cpus() != (facts.topology().online_cpus() & facts.topology().allowed_cpus);
    if (confined && request.policy == PlacementPolicy::best_effort_hard) {
        plan.affinity = AffinityKind::hard;
        plan.hard_cpus = plan.cpus;
    } else if (confined) {
        plan.affinity = AffinityKind::soft;
        plan.soft_cpus = plan.cpus;
    }
    if (host_has_reserved && plan.hard_cpus.empty()) plan.hard_cpus = facts.usable_cpus();

    // Where the vCPUs count as load: the plan's nodes when confined, else the host.
    std::vector<long long> weight(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        bool counts = confined ? std::ranges::find(members, static_cast<int>(i)) != members.end() : true;
        if (counts) weight[i] = facts.node(static_cast<int>(i)).cpus;
    }
    std::vector<long long> vcpus = split_count(need.vcpus, weight);
    for (std::size_t i = 0; i < n; ++i)
        if (vcpus[i] > 0) plan.vcpus_per_node[facts.node(static_cast<int>(i)).id] = static_cast<int>(vcpus[i]);

    Candidate actual = make_candidate(facts, need, members);
    plan.score = score_of(actual, need);
    if (plan.outcome == PlanOutcome::fallback) {
        std::string unit = need.whole_cores ? "whole cores" : "usable CPUs";
        long long host_capacity = 0;
        for (const NodeFacts& f : facts.nodes()) host_capacity += need.capacity(f);
        std::string why = need.cpus_required && host_capacity < need.vcpus
                              ? fmt::format("{} vCPUs but the host has {} {}", need.vcpus, host_capacity, unit)
                              : fmt::format("no node set within reachable distances holds {} and {} {}",
                                            format_size(need.memory), need.vcpus, unit);
        plan.fallback = fmt::format("no node set fits ({}): no CPU affinity{}, memory striped over nodes {}", why,
                                    plan.hard_cpus.empty() ? "" : " beyond keeping off the reserved CPUs",
                                    to_list(plan.nodes));
    }
    return plan;
}

// Exact search: sets of k nodes for k = 1, 2, ... until one fits; branch and bound
// on the worst distance (rule 5 decides right after the size when rule 4 is off).
void search_exact(const HostFacts& facts, const Need& need, const std::vector<int>& useful, Podium& podium) {
    const int n = static_cast<int>(useful.size());
    std::vector<std::uint64_t> mem;
    std::vector<long long> cap;
    for (int i : useful) {
        mem.push_back(facts.node(i).free);
        cap.push_back(need.capacity(facts.node(i)));
    }
    std::ranges::sort(mem, std::greater{});
    std::ranges::sort(cap, std::greater{});
    std::uint64_t top_mem = 0;
    long long top_cap = 0;
    std::vector<int> chosen;
    Candidate scratch;
    for (int k = 1; k <= n && podium.empty(); ++k) {
        top_mem += mem[static_cast<std::size_t>(k - 1)];
        top_cap += cap[static_cast<std::size_t>(k - 1)];
        if (top_mem < need.memory || (need.cpus_required && top_cap < need.vcpus)) continue;  // no k-set can fit
        auto dfs = [&](auto& self, int start, int worst) -> void {
            if (static_cast<int>(chosen.size()) == k) {
                scratch.members.assign(chosen.begin(), chosen.end());
                score_members(facts, need, scratch);
                if (need.fits(scratch)) podium.offer(scratch);
                return;
            }
            for (int pos = start; pos <= n - (k - static_cast<int>(chosen.size())); ++pos) {
                int i = useful[static_cast<std::size_t>(pos)];
                int w = std::max(worst, facts.node(i).self_distance);
                bool reachable = reachable_distance(facts.node(i).self_distance);
                for (int j : chosen) {
                    int d = facts.distance(i, j);
                    reachable = reachable && reachable_distance(d);
                    w = std::max(w, d);
                }
                if (!reachable || !podium.could_enter(static_cast<std::size_t>(k), w)) continue;
                chosen.push_back(i);
                self(self, pos + 1, w);
                chosen.pop_back();
            }
        };
        dfs(dfs, 0, 0);
    }
}

// Polynomial search for large hosts (see the header): exact for one and two nodes,
// growth from every node plus single swaps beyond.
PlanSearch search_large(const HostFacts& facts, const Need& need, const std::vector<int>& useful, Podium& podium) {
    Candidate scratch;
    for (int i : useful) {
        scratch.members.assign({i});
        score_members(facts, need, scratch);
        if (need.fits(scratch)) podium.offer(scratch);
    }
    if (!podium.empty()) return PlanSearch::exact;
    for (std::size_t a = 0; a < useful.size(); ++a) {
        for (std::size_t b = a + 1; b < useful.size(); ++b) {
            const NodeFacts& x = facts.node(useful[a]);
            const NodeFacts& y = facts.node(useful[b]);
            if (x.free + y.free < need.memory) continue;
            if (need.cpus_required && need.capacity(x) + need.capacity(y) < need.vcpus) continue;
            int d = facts.distance(useful[a], useful[b]);
            if (!reachable_distance(d) || !podium.could_enter(2, std::max({d, x.self_distance, y.self_distance}))) continue;
            // The pair's sums written directly: this loop runs n^2/2 times.
            scratch.members.resize(2);
            scratch.members[0] = useful[a];
            scratch.members[1] = useful[b];
            scratch.free = x.free + y.free;
            scratch.cpus = x.cpus + y.cpus;
            scratch.cores = x.cores + y.cores;
            scratch.vcpus_there = x.vcpus + y.vcpus;
            scratch.resident = x.resident + y.resident;
            scratch.worst = std::max({d, x.self_distance, y.self_distance});
            scratch.reachable = reachable_distance(x.self_distance) && reachable_distance(y.self_distance);
            score_split(facts, need, scratch);
            if (need.fits(scratch)) podium.offer(scratch);
        }
    }
    if (!podium.empty()) return PlanSearch::exact;

    const std::size_t n = static_cast<std::size_t>(facts.size());
    std::vector<Candidate> grown;
    for (int pass = 0; pass < 2; ++pass) {
        for (int start : useful) {
            std::vector<int> members{start};
            std::vector<char> in(n, 0);
            in[static_cast<std::size_t>(start)] = 1;
            std::vector<int> reach(n, 0);  // worst distance of each node to the set
            for (int v : useful) {
                int d = std::max({facts.distance(start, v), facts.node(v).self_distance, facts.node(start).self_distance});
                reach[static_cast<std::size_t>(v)] = reachable_distance(facts.distance(start, v)) ? d : 0;
            }
            std::uint64_t mem = facts.node(start).free;
            long long cap = need.capacity(facts.node(start));
            auto missing = [&] { return mem < need.memory || (need.cpus_required && cap < need.vcpus); };
            while (missing()) {
                int best = -1;
                auto key = [&](int v) {
                    const NodeFacts& f = facts.node(v);
                    bool want_mem = mem < need.memory;
                    // pass 0: nearest first; pass 1: the scarce resource first.
                    auto free_mib = static_cast<long long>(f.free >> 20);
                    long long scarce = want_mem ? free_mib : need.capacity(f);
                    long long near = reach[static_cast<std::size_t>(v)];
                    return pass == 0 ? std::make_tuple(near, -free_mib, -f.cpus, v)
                                     : std::make_tuple(-scarce, near, -f.cpus, v);
                };
                for (int v : useful) {
                    if (in[static_cast<std::size_t>(v)] || reach[static_cast<std::size_t>(v)] == 0) continue;
                    if (best < 0 || key(v) < key(best)) best = v;
                }
                if (best < 0) break;
                in[static_cast<std::size_t>(best)] = 1;
                members.push_back(best);
                mem += facts.node(best).free;
                cap += need.capacity(facts.node(best));
                for (int v : useful) {
                    int d = facts.distance(best, v);
                    auto& r = reach[static_cast<std::size_t>(v)];
                    r = (r == 0 || !reachable_distance(d)) ? 0 : std::max(r, d);
                }
            }
            Candidate c = make_candidate(facts, need, members);
            if (need.fits(c)) grown.push_back(std::move(c));
        }
    }
    if (grown.empty()) return PlanSearch::greedy;
    for (Candidate& c : grown) podium.offer(c);
    // Single-node swaps from the two best candidates, while one improves; on plans of
    // more than local_search_limit nodes the growth result stands (cost k^3 n per pass).
    constexpr std::size_t local_search_seeds = 2;
    constexpr std::size_t local_search_limit = 8;
    std::vector<Candidate> seeds = podium.ranked();
    if (seeds.size() > local_search_seeds) seeds.resize(local_search_seeds);
    if (!seeds.empty() && seeds.front().members.size() > local_search_limit) seeds.clear();
    for (Candidate current : seeds) {
        for (bool improved = true; improved;) {
            improved = false;
            for (std::size_t m = 0; m < current.members.size() && !improved; ++m) {
                for (int v : useful) {
                    if (std::ranges::find(current.members, v) != current.members.end()) continue;
                    Candidate c;
                    c.members = current.members;
                    c.members[m] = v;
                    score_members(facts, need, c);
                    if (!need.fits(c)) continue;
                    bool better = compare(c, current, need).order < 0;
                    podium.offer(c);
                    if (better) {
                        current = std::move(c);
                        improved = true;
                        break;
                    }
                }
            }
        }
    }
    return PlanSearch::greedy;
}

Plan assemble(const HostFacts& facts, const PlacementRequest& request, const Need& need, const Podium& podium,
              PlanSearch search) {
    if (podium.empty()) {
        Plan plan = finish(facts, request, need, nullptr);
        plan.search = search;
        return plan;
    }
    const Candidate& winner = podium.ranked().front();
    Plan plan = finish(facts, request, need, &winner);
    plan.search = search;
    for (std::size_t i = 1; i < podium.ranked().size(); ++i)
        plan.runners_up.push_back(runner_up(facts, podium.ranked()[i], winner, need));
    if (winner.members.size() > 1)
        plan.why_not_fewer_nodes = no_fewer_text(facts, need, static_cast<int>(winner.members.size()) - 1);
    return plan;
}

std::vector<int> useful_nodes(const HostFacts& facts) {
    std::vector<int> useful;
    for (int i = 0; i < facts.size(); ++i)
        if (facts.node(i).free > 0 || facts.node(i).cpus > 0) useful.push_back(i);
    return useful;
}

}  // namespace

PlacementHost make_placement_host(Topology topology, CpuSet reserved) {
    PlacementHost host;
    host.distance_matrix = distance_matrix_of(topology);
    host.topology = std::move(topology);
    host.reserved = std::move(reserved);
    return host;
}

double PlanScore::projected_load() const {
    return node_load_den == 0 ? std::numeric_limits<double>::infinity()
                              : static_cast<double>(node_load_num) / static_cast<double>(node_load_den);
}

double PlanScore::mean_load() const {
    return load_cpus == 0 ? std::numeric_limits<double>::infinity()
                          : static_cast<double>(load_vcpus) / static_cast<double>(load_cpus);
}

double PlanScore::least_free_fraction() const {
    return least_free_total_bytes == 0 ? 0.0
                                       : static_cast<double>(least_free_left_bytes) / static_cast<double>(least_free_total_bytes);
}

Result<Plan> plan_placement(const PlacementHost& host, const PlacementRequest& request, const PlanOptions& options) {
    HostFacts facts(host, request);
    if (auto ok = validate(host, request, facts); !ok) return std::unexpected(ok.error());
    Need need(request);
    if (request.policy == PlacementPolicy::any) return finish(facts, request, need, nullptr);
    // When even the whole host falls short, there is nothing to search.
    std::uint64_t host_free = 0;
    long long host_capacity = 0;
    for (const NodeFacts& f : facts.nodes()) {
        host_free += f.free;
        host_capacity += need.capacity(f);
    }
    if (host_free < need.memory || (need.cpus_required && host_capacity < need.vcpus)) {
        Plan plan = finish(facts, request, need, nullptr);
        plan.search = PlanSearch::none;
        return plan;
    }
    std::vector<int> useful = useful_nodes(facts);
    Podium podium(need, static_cast<std::size_t>(std::max(options.runners_up, 0)) + 1);
    PlanSearch search = PlanSearch::exact;
    if (static_cast<int>(useful.size()) <= options.exact_node_limit)
        search_exact(facts, need, useful, podium);
    else
        search = search_large(facts, need, useful, podium);
    return assemble(facts, request, need, podium, search);
}

Result<Plan> plan_exhaustive(const PlacementHost& host, const PlacementRequest& request) {
    HostFacts facts(host, request);
    if (auto ok = validate(host, request, facts); !ok) return std::unexpected(ok.error());
    const int n = facts.size();
    if (n > max_exhaustive_nodes)
        return usage_error(fmt::format("exhaustive placement: {} nodes, at most {}", n, max_exhaustive_nodes));
    Need need(request);
    if (request.policy == PlacementPolicy::any) return finish(facts, request, need, nullptr);

    // The order of the header, encoded independently of compare(): a tuple per set.
    // Fractions are (numerator, denominator) pairs; a zero denominator is infinite.
    struct Fraction {
        Wide num = 0, den = 0;
        bool operator<(const Fraction& o) const {
            if (den == 0 || o.den == 0) return den != 0 && o.den == 0;
            return num * o.den < o.num * den;
        }
        bool operator>(const Fraction& o) const { return o < *this; }
    };
    constexpr auto top = std::numeric_limits<std::uint64_t>::max();
    // size, resident (inverted), worst distance, worst node load, mean load, least free
    // fraction (compared reversed below), free bytes (inverted), node ids.
    using Key = std::tuple<int, std::uint64_t, int, Fraction, Fraction, Fraction, std::uint64_t, std::vector<int>>;
    auto less = [](const Key& a, const Key& b) {
        if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) < std::get<0>(b);
        if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) < std::get<1>(b);
        if (std::get<2>(a) != std::get<2>(b)) return std::get<2>(a) < std::get<2>(b);
        for (auto [x, y] : {std::pair{std::get<3>(a), std::get<3>(b)}, std::pair{std::get<4>(a), std::get<4>(b)}}) {
            if (x < y) return true;
            if (y < x) return false;
        }
        if (std::get<5>(a) > std::get<5>(b)) return true;  // more free fraction left is better
        if (std::get<5>(b) > std::get<5>(a)) return false;
        if (std::get<6>(a) != std::get<6>(b)) return std::get<6>(a) < std::get<6>(b);
        return std::get<7>(a) < std::get<7>(b);
    };
    std::optional<Key> best;
    std::vector<int> best_members;
    std::vector<std::uint64_t> take;
    for (unsigned long mask = 1; mask < (1UL << n); ++mask) {
        std::vector<int> members;
        std::uint64_t free = 0, resident = 0;
        long long cpus = 0, cores = 0, vcpus = 0;
        int worst = 0;
        bool reachable = true;
        for (int i = 0; i < n; ++i) {
            if (((mask >> i) & 1UL) == 0) continue;
            members.push_back(i);
            const NodeFacts& f = facts.node(i);
            free += f.free;
            resident += f.resident;
            cpus += f.cpus;
            cores += f.cores;
            vcpus += f.vcpus;
        }
        for (int a : members)
            for (int b : members) {
                worst = std::max(worst, facts.distance(a, b));
                reachable = reachable && reachable_distance(facts.distance(a, b));
            }
        if (!reachable || free < need.memory) continue;
        if (need.cpus_required && (need.whole_cores ? cores : cpus) < need.vcpus) continue;
        // Each node with CPUs after placement: its vCPUs plus its share V * cpus_i / cpus_S,
        // per CPU; the largest of them.
        Fraction node_load;
        for (int i : members) {
            const NodeFacts& f = facts.node(i);
            if (f.cpus == 0) continue;
            Fraction load{static_cast<Wide>(f.vcpus) * static_cast<Wide>(cpus) + static_cast<Wide>(need.vcpus) * static_cast<Wide>(f.cpus),
                          static_cast<Wide>(f.cpus) * static_cast<Wide>(cpus)};
            if (node_load.den == 0 || node_load < load) node_load = load;
        }
        Fraction mean{static_cast<Wide>(vcpus + need.vcpus), static_cast<Wide>(cpus)};
        // The least free fraction over the members with memory, after the plan's split.
        split_memory(facts, members, need.memory, take);
        Fraction least{1, 1};
        for (std::size_t k = 0; k < members.size(); ++k) {
            const NodeFacts& f = facts.node(members[k]);
            Wide total = std::max(f.total, f.free);
            if (total == 0) continue;
            Fraction left{static_cast<Wide>(f.free - take[k]), total};
            if (left < least) least = left;
        }
        std::vector<int> ids;
        for (int i : members) ids.push_back(facts.node(i).id);
        Key key{static_cast<int>(members.size()), need.use_resident ? top - resident : 0, worst, node_load, mean, least,
                top - (free - need.memory), ids};
        if (!best || less(key, *best)) {
            best = std::move(key);
            best_members = members;
        }
    }
    if (!best) return finish(facts, request, need, nullptr);
    Candidate winner = make_candidate(facts, need, best_members);
    Plan plan = finish(facts, request, need, &winner);
    plan.search = PlanSearch::exhaustive;
    if (winner.members.size() > 1)
        plan.why_not_fewer_nodes = no_fewer_text(facts, need, static_cast<int>(winner.members.size()) - 1);
    return plan;
}

void apply_to_host_state(PlacementHost& host, const Plan& plan) {
    if (plan.outcome == PlanOutcome::refused) return;
    for (Node& node : host.topology.nodes) {
        if (auto it = plan.memory_bytes_per_node.find(node.id); it != plan.memory_bytes_per_node.end())
            node.memory_free_bytes -= std::min(node.memory_free_bytes, it->second);
    }
    for (const auto& [node, vcpus] : plan.vcpus_per_node) host.vcpus_per_node[node] += vcpus;
}

void release_from_host_state(PlacementHost& host, const std::map<int, std::uint64_t>& memory_bytes_per_node,
                             const std::map<int, int>& vcpus_per_node) {
    for (Node& node : host.topology.nodes) {
        if (auto it = memory_bytes_per_node.find(node.id); it != memory_bytes_per_node.end())
            node.memory_free_bytes = std::min(node.memory_total_bytes, node.memory_free_bytes + it->second);
    }
    for (const auto& [node, vcpus] : vcpus_per_node) {
        auto it = host.vcpus_per_node.find(node);
        if (it == host.vcpus_per_node.end()) continue;
        it->second = std::max(0, it->second - vcpus);
        if (it->second == 0) host.vcpus_per_node.erase(it);
    }
}

Result<LaunchPolicy> launch_policy_for(const Plan& plan) {
    if (plan.outcome == PlanOutcome::refused) return usage_error("the plan was refused: " + plan.fallback);
    LaunchPolicy launch;
    // Linux has no soft affinity: a soft plan confines the work to the plan's CPUs;
    // a plan without CPU affinity still keeps it off reserved CPUs (hard_cpus).
    CpuSet cpus = plan.affinity == AffinityKind::none ? plan.hard_cpus : plan.cpus;
    if (!cpus.empty()) launch.cpus = cpus;
    NodeSet memory_nodes;
    for (const auto& [node, bytes] : plan.memory_bytes_per_node)
        if (bytes > 0) memory_nodes.insert(node);
    if (plan.outcome == PlanOutcome::fallback) {
        launch.mode = MemPolicy::interleave;  // striped, as the plan says
        launch.nodes = memory_nodes;
        return launch;
    }
    switch (plan.policy) {
        case PlacementPolicy::any:
            // No memory policy: with CPUs given, memory follows them (the auto rule).
            return launch;
        case PlacementPolicy::best_effort:
        case PlacementPolicy::prio_mem_only:
            launch.mode = MemPolicy::preferred;  // MPOL_PREFERRED_MANY over several nodes
            break;
        case PlacementPolicy::best_effort_hard:
            launch.mode = MemPolicy::bind;
            break;
    }
    launch.nodes = memory_nodes;
    return launch;
}

Result<DomainPlacement> domain_placement(const Plan& plan) {
    if (plan.outcome == PlanOutcome::refused) return usage_error("the plan was refused: " + plan.fallback);
    DomainPlacement d;
    d.hard_cpus = plan.hard_cpus;
    d.soft_cpus = plan.soft_cpus;
    if (plan.outcome == PlanOutcome::placed && plan.policy == PlacementPolicy::prio_mem_only)
        for (const auto& [node, bytes] : plan.memory_bytes_per_node) d.node_affinity.insert(node);
    return d;
}

Result<PlacementPolicy> parse_placement_policy(std::string_view text) {
    std::string name(text);
    std::ranges::replace(name, '_', '-');
    for (auto p : {PlacementPolicy::any, PlacementPolicy::best_effort, PlacementPolicy::best_effort_hard,
                   PlacementPolicy::prio_mem_only})
        if (name == to_string(p)) return p;
    return usage_error(fmt::format("unknown placement policy \"{}\" (expected any, best-effort, best-effort-hard "
                                   "or prio-mem-only)",
                                   text));
}

std::string_view to_string(PlacementPolicy policy) {
    switch (policy) {
        case PlacementPolicy::any: return "any";
        case PlacementPolicy::best_effort: return "best-effort";
        case PlacementPolicy::best_effort_hard: return "best-effort-hard";
        case PlacementPolicy::prio_mem_only: return "prio-mem-only";
    }
    return "?";
}

std::string_view to_string(AffinityKind kind) {
    switch (kind) {
        case AffinityKind::none: return "none";
        case AffinityKind::soft: return "soft";
        case AffinityKind::hard: return "hard";
    }
    return "?";
}

std::string_view to_string(PlanOutcome outcome) {
    switch (outcome) {
        case PlanOutcome::placed: return "placed";
        case PlanOutcome::fallback: return "fallback";
        case PlanOutcome::refused: return "refused";
    }
    return "?";
}

std::string_view to_string(PlanSearch search) {
    switch (search) {
        case PlanSearch::exact: return "exact";
        case PlanSearch::greedy: return "greedy";
        case PlanSearch::exhaustive: return "exhaustive";
        case PlanSearch::none: return "none";
    }
    return "?";
}

std::string_view to_string(LostOn rule) {
    switch (rule) {
        case LostOn::node_count: return "node_count";
        case LostOn::resident_memory: return "resident_memory";
        case LostOn::worst_distance: return "worst_distance";
        case LostOn::projected_load: return "projected_load";
        case LostOn::free_memory_left: return "free_memory_left";
        case LostOn::node_ids: return "node_ids";
    }
    return "?";
}

}  // namespace affine
