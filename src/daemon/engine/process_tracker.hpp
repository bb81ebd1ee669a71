// Which processes exist and which need a look, from the kernel's process events
// (fork, exec, exit) and periodic /proc scans. Pure bookkeeping: no I/O, the caller
// passes the time, the events and the scans.
//
// Why both: the process connector tells within milliseconds that a process started,
// exec'd or ended, but it drops events when its socket buffer overflows (ENOBUFS) and
// is unavailable in a non-initial network or pid namespace or without CAP_NET_ADMIN.
// A /proc scan (the pid list only: one getdents pass) finds what was missed; it runs
// at once after lost events, every `scan_period` with events and every
// `scan_period_without_events` without them. Cost on a host with thousands of
// processes: an event marks one pid; only marked pids, watched pids (a rule names
// them but they are too small yet) every `watch_period` (`watch_period_growing` while
// its resident memory grows from look to look: a process filling its memory is
// about to be large enough, and placing it late costs seconds of memory moved;
// `watch_period_quiet` once one has not grown for `quiet_looks` looks,
// `watch_period_still` once it has not for `still_looks` more), and everything
// every `full_refresh`
// (cgroup moves and uid changes send no event) are examined. A look that only the
// watch period or the full refresh asked for may be a quick one (full_look_due,
// refresh_due).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

namespace affine::detail {

using TrackerClock = std::chrono::steady_clock;

// A process by identity: a pid with its start time (ticks since boot), so a reused
// pid is never taken for the old process.
struct ProcessKey {
    int pid = 0;
    std::uint64_t start_time = 0;
    friend auto operator<=>(const ProcessKey&, const ProcessKey&) = default;
};

// What the daemon wants from a process after examining it.
enum class Interest {
    none,     // no rule names it: examined again only on exec or a full refresh
    watched,  // a rule names it but it is too small yet: examined every watch_period
    managed,  // placed: the placement loop follows it
};

// How a watched process changed since its last look (a first look counts as memory).
enum class Growth {
    none,      // neither its resident memory nor its CPU time
    cpu_time,  // its CPU time only
    memory,    // its resident memory
};

struct TrackerOptions {
    std::chrono::milliseconds scan_period{10'000};               // with events
    std::chrono::milliseconds scan_period_without_events{1'000};  // without
    std::chrono::milliseconds watch_period{2'000};
    std::chrono::milliseconds watch_period_growing{500};   // while its resident memory grows
    std::chrono::milliseconds watch_period_quiet{10'000};  // after `quiet_looks` looks without growth
    int quiet_looks = 5;
    // After `still_looks` more (a minute at the quiet period): a process of one size
    // for that long is looked at half as often as numad's 15 s scan looks at each.
    std::chrono::milliseconds watch_period_still{30'000};
    int still_looks = 6;
    std::chrono::milliseconds full_refresh{60'000};
};

class ProcessTracker {
public:
    explicit ProcessTracker(TrackerOptions options = {}) : options_(options) {}

    // Whether process events arrive (the connector is open); without them every
    // change waits for a scan.
    void set_events_available(bool available) { events_available_ = available; }

    // Process events. Only processes (thread group leaders) are followed: a thread's
    // fork or exit is not passed here.
    void on_fork(int pid);
    void on_exec(int pid);
    void on_exit(int pid);
    // The event stream lost events (ENOBUFS): the next step must scan.
    void on_events_lost();

    // Whether a /proc scan is due now (events lost, or the scan period passed).
    [[nodiscard]] bool scan_due(TrackerClock::time_point now) const;
    // Merges a scan: `present` is every pid in /proc now. Pids not known before are
    // marked for a look; known pids missing from it have exited (see take_exited).
    void on_scan(const std::vector<int>& present, TrackerClock::time_point now);

    // The pids to examine now: marked by events or scans, watched ones whose period
    // passed, and every process when the full refresh is due. Clears the marks.
    std::vector<int> take_due(TrackerClock::time_point now);

    // Whether `pid` was marked (an event, a scan) since its last look: what the
    // daemon read of it before may be stale (a new program). false when only its
    // watch period or the full refresh made it due.
    [[nodiscard]] bool full_look_due(int pid) const;
    // Whether the full refresh made `pid` due (and no event or scan did): its owner
    // or cgroup may have changed since its last look, its program has not.
    [[nodiscard]] bool refresh_due(int pid) const;

    // The result of examining `pid`: its start time and what the daemon wants of it;
    // for a watched one, how it grew since the last look.
    // A start time different from the one known means the pid was reused: the old
    // process is reported as exited.
    void examined(int pid, std::uint64_t start_time, Interest interest, TrackerClock::time_point now,
                  Growth growth = Growth::memory);
    // The pid was examined and does not exist (it exited before the look).
    void vanished(int pid);

    // Processes known to have ended since the last call (with the start time they
    // were examined with; 0 when they were never examined), sorted.
    std::vector<ProcessKey> take_exited();

    [[nodiscard]] std::size_t size() const { return processes_.size(); }
    [[nodiscard]] std::optional<Interest> interest(int pid) const;
    // The start time `pid` was last examined with; nullopt when never examined.
    [[nodiscard]] std::optional<std::uint64_t> start_time(int pid) const;
    [[nodiscard]] std::size_t scans() const { return scans_; }

private:
    struct Tracked {
        std::uint64_t start_time = 0;  // 0 until examined
        Interest interest = Interest::none;
        TrackerClock::time_point last_examined{};
        bool marked = true;   // marked since its last look (see full_look_due)
        bool refreshed = false;  // due for the full refresh only (see refresh_due)
        int quiet = 0;        // watched looks in a row that found it no bigger
        bool filling = false;  // its last look found its resident memory grown
    };
    void forget(int pid);

    TrackerOptions options_;
    bool events_available_ = false;
    bool events_lost_ = false;
    bool scanned_ = false;
    std::size_t scans_ = 0;
    TrackerClock::time_point last_scan_{};
    TrackerClock::time_point last_full_refresh_{};
    std::unordered_map<int, Tracked> processes_;
    std::set<int> marked_;
    std::vector<ProcessKey> exited_;
};

}  // namespace affine::detail
