#include "plan_search.hpp"

#include <algorithm>
#include <functional>
#include <tuple>

namespace affine::planner {

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

}  // namespace affine::planner
