#include "plan_score.hpp"

#include <algorithm>
#include <limits>

#include "plan_split.hpp"

namespace affine::planner {
namespace {

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

}  // namespace

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
    std::vector<std::uint64_t> take;  // three or more members: rare next to the pairs
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

}  // namespace affine::planner

namespace affine {

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

}  // namespace affine
