// Which running workloads the daemon places: the rules of its configuration.
#include "placement_rules.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "affine/size.hpp"

namespace affine {
namespace {

// The first key of `selector` that `w` hits, described ("comm sshd"), or "" for none.
// With `every`, all given keys must hit (a match); without, any one hit counts (an
// exclusion).
std::string selector_hits(const WorkloadSelector& selector, const WorkloadFacts& w, bool every) {
    std::vector<std::string> hits;
    int given = 0;
    if (!selector.comm.empty()) {
        ++given;
        if (std::ranges::find(selector.comm, w.comm) != selector.comm.end()) hits.push_back("comm " + w.comm);
    }
    if (!selector.cgroup.empty()) {
        ++given;
        for (const std::string& prefix : selector.cgroup)
            if (!w.cgroup.empty() && cgroup_under(w.cgroup, prefix)) {
                hits.push_back(fmt::format("cgroup {} under {}", w.cgroup, prefix));
                break;
            }
    }
    if (!selector.uid.empty()) {
        ++given;
        if (w.uid && std::ranges::find(selector.uid, *w.uid) != selector.uid.end())
            hits.push_back(fmt::format("uid {}", *w.uid));
    }
    if (every) {
        if (static_cast<int>(hits.size()) != given) return {};
        if (hits.empty()) return "any workload";
    } else if (hits.empty()) {
        return {};
    }
    std::string text;
    for (const std::string& h : hits) text += (text.empty() ? "" : ", ") + h;
    return text;
}

// What keeps `w` below the size of `rule`, or "" when it is big enough.
std::string size_shortfall(const PlacementRule& rule, const WorkloadFacts& w) {
    if (w.resident_bytes < rule.min_memory_bytes)
        return fmt::format("resident {} < min_memory {}", format_size(w.resident_bytes),
                           format_size(rule.min_memory_bytes));
    if (rule.min_cpu > 0.0) {
        if (!w.cpus) return fmt::format("CPU use not measured yet (min_cpu {:g})", rule.min_cpu);
        if (*w.cpus < rule.min_cpu) return fmt::format("CPU use {:.2f} < min_cpu {:g}", *w.cpus, rule.min_cpu);
    }
    return {};
}

}  // namespace

bool too_small_for_every_rule(const PlacementRules& rules, std::uint64_t resident_bytes, std::optional<double> cpus) {
    return std::ranges::all_of(rules.rules, [&](const PlacementRule& rule) {
        return resident_bytes < rule.min_memory_bytes || (cpus && *cpus < rule.min_cpu);
    });
}

bool cgroup_under(std::string_view path, std::string_view prefix) {
    while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
    if (prefix == "/") return path.starts_with('/');
    if (!path.starts_with(prefix)) return false;
    return path.size() == prefix.size() || path[prefix.size()] == '/';
}

RuleDecision decide_placement_rule(const PlacementRules& rules, const WorkloadFacts& w) {
    if (w.pid == 1) return {RuleVerdict::never_taken, -1, "pid 1 is never taken"};
    if (w.kernel_thread) return {RuleVerdict::never_taken, -1, "a kernel thread is never taken"};
    if (w.no_setaffinity) return {RuleVerdict::never_taken, -1, "the kernel does not let its affinity change"};
    if (w.pinned_by_other) return {RuleVerdict::never_taken, -1, "pinned by someone else (a mask narrower than its cpuset)"};
    if (auto hit = selector_hits(rules.exclude, w, false); !hit.empty())
        return {RuleVerdict::excluded, -1, fmt::format("excluded ({})", hit)};

    RuleDecision small;
    for (std::size_t i = 0; i < rules.rules.size(); ++i) {
        const PlacementRule& rule = rules.rules[i];
        std::string hit = selector_hits(rule.match, w, true);
        if (hit.empty()) continue;
        if (!selector_hits(rule.exclude, w, false).empty()) continue;
        int index = static_cast<int>(i);
        if (std::string shortfall = size_shortfall(rule, w); !shortfall.empty()) {
            // A later rule may still name it; if none does, it is watched for this one.
            if (small.rule < 0) small = {RuleVerdict::too_small, index, fmt::format("rule '{}': {}", rule.name, shortfall)};
            continue;
        }
        return {RuleVerdict::place, index, fmt::format("rule '{}': {}", rule.name, hit)};
    }
    if (small.rule >= 0) return small;
    return {RuleVerdict::unnamed, -1, "no rule names it"};
}

PlacementRule numad_like_rule() {
    PlacementRule rule;
    rule.name = "numad-like";
    rule.min_memory_bytes = std::uint64_t{300} << 20;
    rule.min_cpu = 0.5;
    rule.policy = PlacementPolicy::best_effort;
    return rule;
}

std::string_view to_string(RuleVerdict verdict) {
    switch (verdict) {
    case RuleVerdict::unnamed: return "unnamed";
    case RuleVerdict::never_taken: return "never-taken";
    case RuleVerdict::excluded: return "excluded";
    case RuleVerdict::too_small: return "too-small";
    case RuleVerdict::place: return "place";
    }
    return "?";
}

}  // namespace affine
