// Scoring candidate node sets and ranking them by rules 3 to 8 of the order
// (include/affine/placement.hpp): exact comparisons, no floating point.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "plan_facts.hpp"

namespace affine::planner {

// The figures of rules 6 and 7 that need more than sums: the peak node load now and
// the least free fraction left by the memory split (only when the memory fits).
void score_split(const HostFacts& facts, const Need& need, Candidate& c);

// Computes the sums of `c` from its members (sorted in place), then score_split.
void score_members(const HostFacts& facts, const Need& need, Candidate& c);

Candidate make_candidate(const HostFacts& facts, const Need& need, std::vector<int> members);

// The public figures of a scored candidate.
PlanScore score_of(const Candidate& c, const Need& need);

struct Verdict {
    int order = 0;  // < 0: a is better
    LostOn rule = LostOn::node_ids;
};

// Rules 3 to 8 between two fitting candidates.
Verdict compare(const Candidate& a, const Candidate& b, const Need& need);

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

}  // namespace affine::planner
