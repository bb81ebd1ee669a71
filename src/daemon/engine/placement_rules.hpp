// Placement rules: which running workloads the daemon places on NUMA nodes.
//
// Off by default: a workload that no rule names is never placed. Rules are tried in
// order; a rule names a workload when every key it gives matches (DAEMON.md):
//
//   comm        the command name (/proc/PID/comm), exact; a list matches any of them
//   cgroup      a cgroup v2 path prefix, on path-component boundaries: "/machine.slice"
//               matches "/machine.slice" and "/machine.slice/vm1.scope", not
//               "/machine.slice-extra"; a list matches any of them
//   uid         the real uid; a list matches any of them
//   min_memory  resident memory at least this many bytes
//   min_cpu     CPUs used, averaged over the daemon's recent intervals, at least this
//
// and none of its exclusions matches (exclude_comm, exclude_cgroup, exclude_uid: a
// workload matching any of them is not named by this rule, and the next rule is
// tried). Global exclusions (same three keys at the top of the configuration) keep a
// workload out of every rule. A rule without comm, cgroup and uid names every
// workload of its size: numad's behaviour (its defaults: over 300 MB resident and
// over half a CPU).
//
// A rule's placement is planned by the tiered planner (tiered_placement.hpp): a
// CPU-less node is never a workload's home, and its memory goes to the fastest tier
// first; `memory_tier = "top"` keeps it in the fastest tier only, "any" (the
// default) lets it use the lower tiers when the top is full.
//
// Never taken, whatever the rules say: pid 1, kernel threads, tasks the kernel does
// not let anyone move (PF_NO_SETAFFINITY), and processes someone else pinned (a
// mask narrower than their cpuset allows).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/placement.hpp"
#include "affine/tiered_placement.hpp"

namespace affine {

// What the daemon knows about a running process when it applies the rules.
struct WorkloadFacts {
    int pid = 0;
    std::string comm;
    std::string cgroup;             // cgroup v2 path, "" when unknown
    std::optional<unsigned> uid;    // real uid; nullopt when unknown
    std::uint64_t resident_bytes = 0;
    std::optional<double> cpus;     // average CPUs used; nullopt until measured twice
    bool kernel_thread = false;
    bool no_setaffinity = false;    // PF_NO_SETAFFINITY
    bool pinned_by_other = false;   // someone narrowed its mask below its cpuset
};

// A set of keys; every key given (non-empty) must match, a key's values are
// alternatives. An empty selector matches every workload.
struct WorkloadSelector {
    std::vector<std::string> comm;
    std::vector<std::string> cgroup;
    std::vector<unsigned> uid;

    [[nodiscard]] bool empty() const { return comm.empty() && cgroup.empty() && uid.empty(); }
};

struct PlacementRule {
    std::string name;
    WorkloadSelector match;
    // Exclusions: a workload matching any one key of these (any value) is not named.
    WorkloadSelector exclude;
    std::uint64_t min_memory_bytes = 0;
    double min_cpu = 0.0;
    PlacementPolicy policy = PlacementPolicy::best_effort;
    MemoryTierUse memory_tier = MemoryTierUse::top_first;
};

struct PlacementRules {
    std::vector<PlacementRule> rules;
    WorkloadSelector exclude;  // global exclusions (any one key excludes)
};

enum class RuleVerdict {
    unnamed,      // no rule names it: left alone (the default)
    never_taken,  // pid 1, kernel thread, PF_NO_SETAFFINITY, pinned by someone else
    excluded,     // a global exclusion
    too_small,    // a rule names it but for its size: watched, placed when it grows
    place,        // `rule` names it: place it with the rule's policy
};

struct RuleDecision {
    RuleVerdict verdict = RuleVerdict::unnamed;
    int rule = -1;        // index into PlacementRules::rules, -1 for none
    std::string reason;   // for the log and `affine daemon status`: "rule 'vms': comm qemu-system-x86_64"
};

// Applies `rules` to one workload. Pure.
RuleDecision decide_placement_rule(const PlacementRules& rules, const WorkloadFacts& workload);

// Whether no rule could take a workload of this size, whatever else is true of it
// (its program, owner, cgroup): below each rule's min_memory or, when its CPU use is
// known, its min_cpu. Pure.
bool too_small_for_every_rule(const PlacementRules& rules, std::uint64_t resident_bytes, std::optional<double> cpus);

// Whether `path` lies under cgroup `prefix` (path-component boundaries, see above).
bool cgroup_under(std::string_view path, std::string_view prefix);

// numad's defaults as a rule: every workload of at least 300 MiB resident and half a
// CPU, policy best-effort (the example configuration ships it, commented out).
PlacementRule numad_like_rule();

std::string_view to_string(RuleVerdict verdict);

}  // namespace affine
