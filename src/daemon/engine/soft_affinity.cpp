// The soft-affinity state machine. Pure: the daemon (src/daemon/) reads the kernel's
// accounting and applies the masks; this file only decides.
#include "soft_affinity.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "affine/set_grammar.hpp"

namespace affine {

CpuSet effective_soft_affinity(const CpuSet& soft, const CpuSet& hard) {
    CpuSet eff = soft & hard;
    if (eff.empty() || eff == hard) return {};
    return eff;
}

CapacityBook::CapacityBook(const CpuLoad& load, const CpuSet& cpus) {
    auto limit = cpus.last();
    idle_.assign(limit ? static_cast<std::size_t>(*limit) + 1 : 0, 0.0);
    for (int c : cpus) idle_[static_cast<std::size_t>(c)] = 1.0 - load.busy_of(c);
}

double CapacityBook::idle(int cpu) const {
    if (cpu < 0 || static_cast<std::size_t>(cpu) >= idle_.size()) return 0.0;
    return std::max(0.0, idle_[static_cast<std::size_t>(cpu)]);
}

double CapacityBook::room(const CpuSet& cpus) const {
    double sum = 0;
    for (int c : cpus) sum += idle(c);
    return sum;
}

std::optional<int> CapacityBook::most_idle(const CpuSet& cpus) const {
    std::optional<int> best;
    for (int c : cpus)
        if (static_cast<std::size_t>(c) < idle_.size() && (!best || idle(c) > idle(*best))) best = c;
    return best;
}

void CapacityBook::take(const CpuSet& cpus, double demand) {
    while (demand > 1e-9) {
        auto c = most_idle(cpus);
        if (!c || idle(*c) <= 1e-9) return;
        double used = std::min(demand, idle(*c));
        idle_[static_cast<std::size_t>(*c)] -= used;
        demand -= used;
    }
}

std::vector<CpuSet> widening_steps(const Topology& host, const CpuSet& effective_soft, const CpuSet& hard) {
    std::vector<CpuSet> steps;
    if (effective_soft.empty()) return steps;
    NodeSet home_nodes = host.nodes_of(effective_soft);
    CpuSet rest_of_home = (host.cpus_of(home_nodes) & hard) - effective_soft;
    if (!rest_of_home.empty()) steps.push_back(rest_of_home);
    // Other nodes by their distance from the nearest home node (Xen spills anywhere;
    // spilling near keeps the memory the thread touches close).
    std::map<int, CpuSet> by_distance;
    for (const Node& n : host.nodes) {
        if (home_nodes.contains(n.id)) continue;
        CpuSet cpus = n.cpus & hard;
        if (cpus.empty()) continue;
        int nearest = 0;
        bool first = true;
        for (int h : home_nodes) {
            int d = host.distance(h, n.id);
            if (first || d < nearest) nearest = d;
            first = false;
        }
        by_distance[nearest] |= cpus;
    }
    for (auto& [d, cpus] : by_distance) steps.push_back(std::move(cpus));
    // CPUs of hard the topology does not place on a node still belong to hard.
    CpuSet covered = effective_soft;
    for (const auto& s : steps) covered |= s;
    if (CpuSet unplaced = hard - covered; !unplaced.empty()) steps.push_back(unplaced);
    return steps;
}

std::string_view to_string(SoftState state) {
    switch (state) {
    case SoftState::no_preference: return "no-preference";
    case SoftState::home: return "home";
    case SoftState::widened: return "widened";
    }
    return "?";
}

std::string_view to_string(SoftAction action) {
    switch (action) {
    case SoftAction::keep: return "keep";
    case SoftAction::widen: return "widen";
    case SoftAction::narrow: return "narrow";
    }
    return "?";
}

SoftThread start_soft_thread(const Topology& host, const CpuSet& hard, const CpuSet& soft, Millis now) {
    SoftThread t;
    t.hard = hard;
    t.soft = soft;
    t.home = effective_soft_affinity(soft, hard);
    t.since = now;
    if (t.home.empty()) {
        t.state = SoftState::no_preference;
        t.applied = hard;
        t.why = (soft & hard).empty()
                    ? fmt::format("no preference: soft CPUs {} are outside its hard affinity {}", to_list(soft),
                                  to_list(hard))
                    : fmt::format("no preference: soft CPUs {} cover its whole hard affinity {}", to_list(soft),
                                  to_list(hard));
        return t;
    }
    t.state = SoftState::home;
    t.applied = t.home;
    t.steps = widening_steps(host, t.home, hard);
    t.why = fmt::format("home on CPUs {} (soft affinity)", to_list(t.home));
    t.resting = true;
    return t;
}

SoftThread resume_soft_thread(const Topology& host, const CpuSet& hard, const CpuSet& soft, const CpuSet& current,
                              Millis now) {
    SoftThread t = start_soft_thread(host, hard, soft, now);
    if (t.state != SoftState::home) return t;
    CpuSet mask = t.home;
    for (std::size_t i = 0; i < t.steps.size(); ++i) {
        mask |= t.steps[i];
        if (mask == current) {
            t.state = SoftState::widened;
            t.level = static_cast<int>(i) + 1;
            t.applied = current;
            t.why = fmt::format("widened to CPUs {} (taken up again after a restart)", to_list(current));
            t.resting = false;
            break;
        }
    }
    return t;
}

Millis narrow_delay(const SoftThread& thread, const SoftAffinityTuning& tuning) {
    Millis d = tuning.narrow_after;
    for (int i = 0; i < thread.flaps && d < tuning.max_backoff; ++i) d *= 2;
    return std::min(d, std::max(tuning.max_backoff, tuning.narrow_after));
}

namespace {

std::string percent(double share) { return fmt::format("{:.0f}%", 100.0 * share); }

std::string seconds(Millis ms) { return fmt::format("{:.1f} s", static_cast<double>(ms.count()) / 1000.0); }

// "CPU 1 (node 1, distance 21) 96% idle"
std::string describe_room(const Topology& host, const CapacityBook& book, const CpuSet& home, int cpu) {
    const Cpu* c = host.cpu(cpu);
    std::string where;
    if (c != nullptr) {
        int nearest = 0;
        bool first = true;
        for (int n : host.nodes_of(home)) {
            int d = host.distance(n, c->node);
            if (first || d < nearest) nearest = d;
            first = false;
        }
        where = fmt::format(" (node {}, distance {})", c->node, nearest);
    }
    return fmt::format("CPU {}{} {} idle", cpu, where, percent(book.idle(cpu)));
}

}  // namespace

SoftDecision decide_soft_affinity(SoftThread& t, const ThreadSample& s, CapacityBook& book, const Topology& host,
                                  Millis now, const SoftAffinityTuning& tuning) {
    SoftDecision d;
    d.from = t.applied;
    d.to = t.applied;
    if (t.state == SoftState::no_preference) {
        d.reason = t.why;
        return d;
    }
    const bool waiting = s.wait_share >= tuning.wait_threshold;
    if (t.resting && !waiting) {  // what the full rule below would conclude, without formatting it again
        if (t.last_return && now - *t.last_return >= tuning.flap_window) t.flaps = 0;
        d.reason = t.why;
        return d;
    }
    t.resting = false;
    const Millis start_of_interval = now - s.interval;
    const double demand = std::clamp(s.run_share + s.wait_share, 0.0, 1.0);
    if (!waiting) t.waiting_since.reset();
    else if (!t.waiting_since) t.waiting_since = start_of_interval;

    // Room at home: the idle share of the soft CPUs, plus what the thread itself
    // used there (that room is its own to return to). Where a widened thread ran is
    // not accounted per CPU, and the scheduler may move it between home and away
    // within one interval; it ran at home at least for the part of its CPU time the
    // CPUs away were not busy for, and only that much is counted, so a home that
    // is busy with others never looks free.
    CpuSet away = t.applied - t.home;
    double busy_away = static_cast<double>(away.count()) - book.room(away);
    double own_at_home = std::max(0.0, s.run_share - busy_away);
    double home_room = book.room(t.home) + own_at_home;
    bool room_at_home = home_room >= tuning.return_room * std::max(demand, 0.05);
    if (t.state != SoftState::widened || !room_at_home) t.room_since.reset();
    else if (!t.room_since) t.room_since = start_of_interval;

    const bool dwelt = now - t.since >= tuning.min_dwell;
    if (t.state == SoftState::home && t.last_return && now - *t.last_return >= tuning.flap_window) t.flaps = 0;

    // Widen: waited long enough, and a next step has an idle CPU.
    if (waiting && now - *t.waiting_since >= tuning.widen_after && t.level < static_cast<int>(t.steps.size())) {
        if (!dwelt) {
            d.reason = fmt::format("waits to run ({} of the last {}), but its mask changed {} ago (minimum dwell {})",
                                   percent(s.wait_share), seconds(s.interval), seconds(now - t.since),
                                   seconds(tuning.min_dwell));
            t.why = d.reason;
            return d;
        }
        for (int next = t.level; next < static_cast<int>(t.steps.size()); ++next) {
            const CpuSet& step = t.steps[static_cast<std::size_t>(next)];
            auto best = book.most_idle(step);
            if (!best || book.idle(*best) < tuning.idle_threshold) continue;
            CpuSet to = t.applied;
            for (int i = t.level; i <= next; ++i) to |= t.steps[static_cast<std::size_t>(i)];
            std::string flap;
            if (t.state == SoftState::home && t.last_return && now - *t.last_return < tuning.flap_window) {
                ++t.flaps;
                flap = fmt::format("; widened again {} after coming home, so it returns only after {} of room",
                                   seconds(now - *t.last_return), seconds(narrow_delay(t, tuning)));
            }
            d.action = SoftAction::widen;
            d.to = to;
            d.reason = fmt::format("waited {} of the last {} to run on CPUs {} ({} busy at home); {}{}",
                                   percent(s.wait_share), seconds(s.interval), to_list(t.applied),
                                   percent(1.0 - book.room(t.home) / std::max(1, t.home.count())),
                                   describe_room(host, book, t.home, *best), flap);
            book.take(step, demand);
            t.applied = to;
            t.level = next + 1;
            t.state = SoftState::widened;
            t.since = now;
            t.waiting_since.reset();
            t.room_since.reset();
            t.why = d.reason;
            return d;
        }
        if (t.state == SoftState::home) {
            d.reason = fmt::format("waits to run ({} of the last {}) on CPUs {}, but no CPU of its hard affinity "
                                   "{} is {} idle",
                                   percent(s.wait_share), seconds(s.interval), to_list(t.applied), to_list(t.hard),
                                   percent(tuning.idle_threshold));
            t.why = d.reason;
            return d;
        }
    }

    if (t.state == SoftState::widened) {
        Millis delay = narrow_delay(t, tuning);
        if (t.room_since && now - *t.room_since >= delay && dwelt) {
            d.action = SoftAction::narrow;
            d.to = t.home;
            d.reason = fmt::format("CPUs {} have had room for {} ({} idle now): back home", to_list(t.home),
                                   seconds(now - *t.room_since), percent(std::min(1.0, home_room / t.home.count())));
            book.take(t.home, std::max(0.0, demand - own_at_home));
            t.applied = t.home;
            t.level = 0;
            t.state = SoftState::home;
            t.since = now;
            t.last_return = now;
            t.room_since.reset();
            t.waiting_since.reset();
            t.why = d.reason;
            return d;
        }
        if (!t.room_since)
            t.why = fmt::format("widened to CPUs {}: its soft CPUs {} are still busy", to_list(t.applied),
                                to_list(t.home));
        else
            t.why = fmt::format("widened to CPUs {}: its soft CPUs {} have had room for {}, returns after {}",
                                to_list(t.applied), to_list(t.home), seconds(now - *t.room_since), seconds(delay));
        d.reason = t.why;
        return d;
    }
    t.why = fmt::format("home on CPUs {} (soft affinity)", to_list(t.home));
    t.resting = !t.waiting_since;
    d.reason = t.why;
    return d;
}

}  // namespace affine
