// Soft affinity for Linux threads: Xen's rule (run on the preferred CPUs when they
// have room, anywhere in the hard affinity when they do not, come back when they
// free up) as a pure state machine per thread. The daemon feeds it what the kernel
// accounted over each interval (run-queue wait per thread, busy time per CPU) and
// applies the masks it decides; nothing here does I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/host_load.hpp"
#include "affine/id_set.hpp"
#include "affine/topology.hpp"

namespace affine {

// Milliseconds on a monotonic clock (the daemon's; tests make up their own).
using Millis = std::chrono::milliseconds;

// Xen's rule: the soft affinity that counts is soft ∩ hard; when that is empty, or
// covers all of hard, the thread has no preference and the result is empty.
CpuSet effective_soft_affinity(const CpuSet& soft, const CpuSet& hard);

// How quickly the engine widens and narrows. Every field is a key of the daemon's
// configuration (docs/daemon.md), with these defaults.
struct SoftAffinityTuning {
    double wait_threshold = 0.2;   // a thread "waits" when it spent this share of an interval runnable, not running
    Millis widen_after{250};       // ... for this long: widen (fast: one interval of the daemon)
    double idle_threshold = 0.5;   // a CPU has room for a waiting thread when this share of it was idle
    double return_room = 0.8;      // home has room when its idle capacity covers this share of the thread's demand
    Millis narrow_after{500};      // ... for this long: narrow back home (min_dwell and back-off hold flaps)
    Millis min_dwell{1000};        // no change to a thread sooner than this after the last one
    Millis flap_window{30000};     // widened again this soon after coming home: a flap
    Millis max_backoff{60000};     // each flap doubles narrow_after, up to this
};

// What the kernel accounted for one thread over the last interval.
struct ThreadSample {
    Millis interval{500};        // wall time the shares cover
    double run_share = 0;        // CPU time / wall time (schedstat field 1)
    double wait_share = 0;       // run-queue wait / wall time (schedstat field 2)
};

// Free CPU capacity during one pass over the managed threads: starts from the idle
// share of every CPU, and each decision that moves a thread onto CPUs books its
// demand there, so two threads do not both count on the same idle CPU.
class CapacityBook {
public:
    explicit CapacityBook(const CpuLoad& load, const CpuSet& cpus);
    [[nodiscard]] double idle(int cpu) const;
    // Sum of the idle shares of `cpus`.
    [[nodiscard]] double room(const CpuSet& cpus) const;
    // The CPU of `cpus` with the most idle share, nullopt when none is known.
    [[nodiscard]] std::optional<int> most_idle(const CpuSet& cpus) const;
    // Books `demand` CPUs of capacity on `cpus`, most idle first.
    void take(const CpuSet& cpus, double demand);

private:
    std::vector<double> idle_;
};

// The CPUs a thread may spill to, one step per distance from its soft nodes,
// nearest first: step 0 the rest of its soft nodes' CPUs, then the CPUs of the
// nodes at the next distance, and so on; only CPUs of `hard`, no empty steps.
std::vector<CpuSet> widening_steps(const Topology& host, const CpuSet& effective_soft, const CpuSet& hard);

enum class SoftState {
    no_preference,  // soft ∩ hard empty or all of hard: runs on hard, never widened or narrowed
    home,           // runs on its effective soft affinity
    widened,        // runs on soft plus `level` widening steps
};
std::string_view to_string(SoftState state);

// The engine's state of one managed thread (a value: the daemon keeps one per thread).
struct SoftThread {
    CpuSet hard;        // where it may run (its mask when taken ∩ cpuset ∩ online, minus reserved CPUs)
    CpuSet soft;        // what was asked
    CpuSet home;        // effective soft affinity (empty: no preference)
    CpuSet applied;     // the mask the engine wants on the thread now
    std::vector<CpuSet> steps;  // widening_steps(home, hard)
    SoftState state = SoftState::home;
    int level = 0;              // widening steps applied
    Millis since{0};            // when `applied` last changed
    std::optional<Millis> waiting_since;   // start of the current run of waiting intervals
    std::optional<Millis> room_since;      // start of the current run of intervals with room at home
    std::optional<Millis> last_return;     // when it last came home
    int flaps = 0;              // widenings soon after coming home (back-off)
    std::string why;            // the reason for its current mask, in the user's terms
    bool resting = false;       // at home with no run of waiting begun, and `why` says so
};

// Whether a thread has nothing pending: an interval in which it did not wait changes
// nothing of it (decide_soft_affinity keeps it as it is, and says nothing new).
[[nodiscard]] inline bool at_rest(const SoftThread& t) {
    return t.state == SoftState::no_preference || t.resting;
}

// Starts managing a thread: home is soft ∩ hard, applied = home, or hard when the
// thread has no preference.
SoftThread start_soft_thread(const Topology& host, const CpuSet& hard, const CpuSet& soft, Millis now);

// Takes up a thread again (after a restart) whose mask is `current`: widened at the
// matching step when `current` is home plus some widening steps, home otherwise.
SoftThread resume_soft_thread(const Topology& host, const CpuSet& hard, const CpuSet& soft, const CpuSet& current,
                              Millis now);

enum class SoftAction {
    keep,    // the mask stays
    widen,   // spill to the next CPUs (nearest first)
    narrow,  // back to the soft CPUs
};
std::string_view to_string(SoftAction action);

struct SoftDecision {
    SoftAction action = SoftAction::keep;
    CpuSet from;
    CpuSet to;
    std::string reason;
};

// One step of the state machine: given what the thread did over the last interval
// and the room left on the host, keep, widen or narrow its mask. Updates `thread`
// (applied, state, timers, why) and books the thread's demand in `book` when it
// moves. Pure.
SoftDecision decide_soft_affinity(SoftThread& thread, const ThreadSample& sample, CapacityBook& book,
                                  const Topology& host, Millis now, const SoftAffinityTuning& tuning);

// The delay before a widened thread returns home, after its flaps (back-off).
Millis narrow_delay(const SoftThread& thread, const SoftAffinityTuning& tuning);

}  // namespace affine
