// The daemon's continuous NUMA placement: the workloads its placement rules name.
// Each interval it learns of new processes (process events, /proc scans), examines
// the ones due against the rules, and feeds the rule-placed workloads to the
// placement-and-move decisions (decide_rebalance) on the host as the daemon measures
// it; it carries them out as soft affinity through the SoftManager (origin "rule
// 'NAME'") and moves memory with bounded move_pages steps. Nothing is placed
// without a rule.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/engine/placement_watch.hpp"
#include "daemon/engine/process_tracker.hpp"
#include "daemon/engine/placement_rules.hpp"
#include "daemon/engine/rebalance.hpp"
#include "linux/page_mover.hpp"
#include "linux/proc_connector.hpp"
#include "soft_manager.hpp"

namespace affine::daemon {

class PlacementManager {
public:
    PlacementManager(const linux_backend::Env& env, SoftManager& soft, Log log, detail::TrackerOptions tracker = {});

    // The rules, reserved CPUs and how workloads move (at start and on reload), and
    // the interval (a step's time budget for moving pages is a fifth of it, at most
    // 100 ms).
    void configure(const PlacementRules& rules, const CpuSet& reserved, Millis interval,
                   const RebalanceOptions& options = {});
    [[nodiscard]] bool active() const { return !rules_.rules.empty(); }

    // How new processes are seen: the proc connector (available), or scans only,
    // with the reason.
    void set_events(bool available, const std::string& description);
    void on_event(const linux_backend::ProcEvent& event);
    void on_events_lost();

    // One interval: scan when due, examine the processes due, decide, carry out.
    // `load` is each CPU's busy share, `waiting` the tasks that waited on each CPU's
    // run queue on average, over the last interval.
    void tick(const Clock& now, const CpuLoad& load, const std::vector<double>& waiting = {});

    [[nodiscard]] std::vector<protocol::PlacementStatus> status() const;
    [[nodiscard]] const std::deque<protocol::PlacementEvent>& events() const { return events_; }
    [[nodiscard]] const std::string& events_description() const { return events_description_; }
    [[nodiscard]] std::size_t rule_count() const { return rules_.rules.size(); }
    [[nodiscard]] const Topology& topology() const { return env_.host; }

    // numad -w: the planner on the daemon's live view (free memory now, the load
    // measured at the last interval), the CPUs `reserved` names (set grammar, numad's
    // -R) left out as well.
    Result<Plan> advise(const PlacementRequest& request, const std::string& reserved) const;
    // The host for the planner: free memory read now, `load` and `waiting` as measured.
    [[nodiscard]] PlacementHost live_host(const CpuLoad& load, const std::vector<double>& waiting = {}) const;

private:
    struct Placed {
        std::uint64_t start_time = 0;
        std::string command;
        std::string rule;
        PlacementPolicy policy = PlacementPolicy::best_effort;
        MemoryTierUse memory_tier = MemoryTierUse::top_first;
        bool placed = false;  // false: named, not placed yet
        NodeSet nodes;
        NodeSet memory_nodes;  // `nodes` and the CPU-less nodes attached to them (its memory is home there)
        CpuSet cpus;
        double since = 0;
        std::string reason;
        std::uint64_t moved_bytes = 0;
        linux_backend::MoveCursor cursor;  // where the next page move starts
        // The scan of its mappings under way (from cursor 0 to the last mapping, over
        // steps): what numa_maps counted outside its nodes when it began, and what
        // move_pages saw of it since.
        std::uint64_t scan_outside_bytes = 0;
        std::uint64_t scan_seen_bytes = 0;
        std::optional<Millis> migrated_at;  // the last migrate_pages (carry_out) that moved nothing
        bool widened = false;
        std::optional<detail::CpuUse> cpu;
        std::map<int, std::uint64_t> memory;   // its own memory per node (numa_maps)
        std::set<std::uint64_t> shared_files;  // mappings of files others map too, by start
    };

    void examine(int pid, detail::TrackerClock::time_point at);
    bool quick_look(int pid, detail::TrackerClock::time_point at);
    bool unnamed_small_look(int pid, detail::TrackerClock::time_point at);
    void adopt(const Clock& now);
    bool refresh(int pid, Placed& p, detail::TrackerClock::time_point at);
    void read_memory(int pid, Placed& p) const;
    [[nodiscard]] std::uint64_t bytes_home(const Placed& p, const RebalanceDecision& d) const;
    void carry_out(const RebalanceDecision& d, const Clock& now, Millis& time_left);
    void migrate_hidden(const RebalanceDecision& d, Placed& p, const Clock& now);
    void note(const std::string& line, const Clock& now);

    linux_backend::Env env_;
    SoftManager& soft_;
    Log log_;
    PlacementRules rules_;
    CpuSet reserved_;
    Millis interval_{500};
    detail::ProcessTracker tracker_;
    RebalanceOptions rebalance_options_;
    RebalanceState rebalance_;
    std::string events_description_ = "scans of /proc";
    bool adopted_ = false;
    std::map<int, Placed> placed_;  // by pid
    // A process the rules name but found too small: what its last look read, and its CPU use.
    struct Watched {
        detail::ProcessReading reading;
        detail::CpuUse use;
    };
    std::map<int, Watched> samples_;  // the processes the rules watch
    std::set<std::pair<int, std::uint64_t>> given_up_;  // released or refused: never taken again
    CpuLoad last_load_;                // measured at the last interval (numad -w)
    std::vector<double> last_waiting_;
    std::deque<protocol::PlacementEvent> events_;
};

}  // namespace affine::daemon
