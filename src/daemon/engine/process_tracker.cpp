// Process bookkeeping from events and scans.
#include "process_tracker.hpp"

#include <algorithm>

namespace affine::detail {

void ProcessTracker::on_fork(int pid) {
    // A new process is examined at the next step; most forks exec or exit before it,
    // and an exit takes the mark away again, so short-lived children cost nothing.
    processes_.try_emplace(pid);
    marked_.insert(pid);
}

void ProcessTracker::on_exec(int pid) {
    // A new program: new comm, maybe a new size; the rules must look again.
    processes_.try_emplace(pid);
    marked_.insert(pid);
}

void ProcessTracker::on_exit(int pid) { forget(pid); }

void ProcessTracker::on_events_lost() { events_lost_ = true; }

void ProcessTracker::forget(int pid) {
    marked_.erase(pid);
    auto it = processes_.find(pid);
    if (it == processes_.end()) return;
    exited_.push_back({pid, it->second.start_time});
    processes_.erase(it);
}

bool ProcessTracker::scan_due(TrackerClock::time_point now) const {
    if (!scanned_ || events_lost_) return true;
    auto period = events_available_ ? options_.scan_period : options_.scan_period_without_events;
    return now - last_scan_ >= period;
}

void ProcessTracker::on_scan(const std::vector<int>& present, TrackerClock::time_point now) {
    std::vector<int> sorted = present;
    std::ranges::sort(sorted);
    std::vector<int> gone;
    for (const auto& [pid, tracked] : processes_)
        if (!std::ranges::binary_search(sorted, pid)) gone.push_back(pid);
    for (int pid : gone) forget(pid);
    for (int pid : sorted)
        if (processes_.try_emplace(pid).second) marked_.insert(pid);
    if (!scanned_) last_full_refresh_ = now;  // the first scan marked everything
    scanned_ = true;
    events_lost_ = false;
    last_scan_ = now;
    ++scans_;
}

std::vector<int> ProcessTracker::take_due(TrackerClock::time_point now) {
    bool refresh = scanned_ && now - last_full_refresh_ >= options_.full_refresh;
    for (int pid : marked_)
        if (auto it = processes_.find(pid); it != processes_.end()) it->second.marked = true;
    std::set<int> due;
    due.swap(marked_);
    if (refresh) {
        for (auto& [pid, tracked] : processes_)
            if (due.insert(pid).second) tracked.refreshed = true;
        last_full_refresh_ = now;
    }
    if (!refresh)
        for (const auto& [pid, tracked] : processes_) {
            if (tracked.interest != Interest::watched) continue;
            auto period = tracked.filling ? options_.watch_period_growing
                          : tracked.quiet >= options_.quiet_looks + options_.still_looks ? options_.watch_period_still
                          : tracked.quiet >= options_.quiet_looks                          ? options_.watch_period_quiet
                                                                                            : options_.watch_period;
            if (now - tracked.last_examined >= period) due.insert(pid);
        }
    return {due.begin(), due.end()};
}

bool ProcessTracker::full_look_due(int pid) const {
    auto it = processes_.find(pid);
    return it == processes_.end() || it->second.marked;
}

bool ProcessTracker::refresh_due(int pid) const {
    auto it = processes_.find(pid);
    return it != processes_.end() && it->second.refreshed;
}

void ProcessTracker::examined(int pid, std::uint64_t start_time, Interest interest, TrackerClock::time_point now,
                              Growth growth) {
    auto it = processes_.find(pid);
    if (it != processes_.end() && it->second.start_time != 0 && it->second.start_time != start_time) {
        // The pid was reused while its exit went unseen (lost events): the old one ended.
        exited_.push_back({pid, it->second.start_time});
        it->second = Tracked{};
    }
    Tracked& t = processes_[pid];
    t.quiet = interest == Interest::watched && t.interest == Interest::watched && growth == Growth::none ? t.quiet + 1 : 0;
    t.filling = growth == Growth::memory;
    t.start_time = start_time;
    t.interest = interest;
    t.last_examined = now;
    t.marked = false;
    t.refreshed = false;
}

void ProcessTracker::vanished(int pid) { forget(pid); }

std::vector<ProcessKey> ProcessTracker::take_exited() {
    std::vector<ProcessKey> out;
    out.swap(exited_);
    std::ranges::sort(out);
    return out;
}

std::optional<std::uint64_t> ProcessTracker::start_time(int pid) const {
    auto it = processes_.find(pid);
    if (it == processes_.end() || it->second.start_time == 0) return std::nullopt;
    return it->second.start_time;
}

std::optional<Interest> ProcessTracker::interest(int pid) const {
    auto it = processes_.find(pid);
    if (it == processes_.end()) return std::nullopt;
    return it->second.interest;
}

}  // namespace affine::detail
