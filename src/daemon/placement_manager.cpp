#include "placement_manager.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "linux/page_mover.hpp"

namespace affine::daemon {
namespace {

constexpr std::size_t max_events = 64;
constexpr std::string_view rule_origin_prefix = "rule '";

detail::TrackerClock::time_point at_of(const Clock& now) {
    return detail::TrackerClock::time_point(std::chrono::duration_cast<detail::TrackerClock::duration>(now.mono));
}

double ticks_per_second() {
    static const double ticks = [] {
        long t = ::sysconf(_SC_CLK_TCK);
        return t > 0 ? static_cast<double>(t) : 100.0;
    }();
    return ticks;
}

std::string plural(int n, std::string_view word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

std::string rule_origin(const std::string& rule) { return fmt::format("{}{}'", rule_origin_prefix, rule); }

}  // namespace

PlacementManager::PlacementManager(const linux_backend::Env& env, SoftManager& soft, Log log,
                                   detail::TrackerOptions tracker)
    : env_(env), soft_(soft), log_(std::move(log)), tracker_(tracker) {}

void PlacementManager::configure(const PlacementRules& rules, const CpuSet& reserved, Millis interval,
                                 const RebalanceOptions& options) {
    if (!rules_.rules.empty() && rules.rules.empty() && !placed_.empty()) {
        log_(fmt::format("no placement rule any more: {} placed by rule keep their soft affinity, nothing more is "
                         "moved",
                         plural(static_cast<int>(placed_.size()), "workload")));
        placed_.clear();
    }
    rules_ = rules;
    reserved_ = reserved;
    interval_ = interval;
    rebalance_options_ = options;
}

void PlacementManager::set_events(bool available, const std::string& description) {
    tracker_.set_events_available(available);
    events_description_ = description;
}

void PlacementManager::on_event(const linux_backend::ProcEvent& e) {
    if (!active() || !e.about_process()) return;
    switch (e.kind) {
    case linux_backend::ProcEvent::Kind::fork: tracker_.on_fork(e.tgid); break;
    case linux_backend::ProcEvent::Kind::exec: tracker_.on_exec(e.tgid); break;
    case linux_backend::ProcEvent::Kind::exit: tracker_.on_exit(e.tgid); break;
    }
}

void PlacementManager::on_events_lost() {
    tracker_.on_events_lost();
    log_("process events were lost (the kernel's buffer overflowed): scanning /proc");
}

void PlacementManager::note(const std::string& line, const Clock& now) {
    log_(line);
    events_.push_back({now.wall, line});
    while (events_.size() > max_events) events_.pop_front();
}

// Workloads a rule placed before a restart are in the journal with their rule as
// origin: the loop follows them again where they are.
void PlacementManager::adopt(const Clock& now) {
    adopted_ = true;
    for (const auto& w : soft_.status(false)) {
        if (!w.origin.starts_with(rule_origin_prefix) || placed_.contains(w.pid)) continue;
        std::string rule = w.origin.substr(rule_origin_prefix.size());
        rule = rule.substr(0, rule.find('\''));
        const Workload* workload = soft_.find(w.pid);
        if (workload == nullptr) continue;
        Placed p;
        p.start_time = workload->start_time;
        p.command = w.command;
        p.rule = rule;
        for (const PlacementRule& r : rules_.rules)
            if (r.name == rule) {
                p.policy = r.policy;
                p.memory_tier = r.memory_tier;
            }
        p.placed = true;
        p.nodes = env_.host.nodes_of(w.soft);
        p.memory_nodes = home_memory_nodes(env_.host, p.nodes, p.memory_tier);
        p.cpus = w.soft;
        p.since = w.since;
        p.reason = fmt::format("placed by rule '{}' before the daemon restarted", rule);
        note(fmt::format("pid {} ({}): placed by rule '{}' on node {} before the restart; followed again", w.pid,
                         w.command, rule, to_list(p.nodes)),
             now);
        placed_.emplace(w.pid, std::move(p));
    }
}

// A watched process (a rule names it, too small at its last look) that only its
// watch period made due is looked at from its stat alone (its size and CPU time) with
// what the last look read of the rest (owner, cgroup, masks: a change of program
// comes with an event, which takes the full look). One file instead of six per
// process and period; true when it is still too small, so that is all. The full
// refresh (for owners and cgroups, which change without an event) is a quick look
// too while the process is too small for every rule, whatever its owner and cgroup.
// Any other verdict, or anything unexpected, takes the full look.
bool PlacementManager::quick_look(int pid, detail::TrackerClock::time_point at) {
    if (tracker_.full_look_due(pid)) return false;
    auto w = samples_.find(pid);
    if (w == samples_.end()) return unnamed_small_look(pid, at);
    auto st = linux_backend::read_process_stat(env_.fs, pid);
    if (!st || st->start_time != w->second.reading.start_time) return false;
    if (const Workload* requested = soft_.find(pid); requested != nullptr && requested->start_time == st->start_time)
        return false;
    detail::ProcessReading r = w->second.reading;
    r.comm = st->comm;
    r.resident_bytes = st->rss_pages * linux_backend::page_bytes();
    r.cpu_ticks = st->utime + st->stime;
    detail::CpuUse use = detail::next_cpu_use(w->second.use, r.start_time, r.cpu_ticks, at, ticks_per_second());
    if (decide_placement_rule(rules_, detail::workload_facts(r, use.cpus)).verdict != RuleVerdict::too_small)
        return false;
    if (tracker_.refresh_due(pid) && !too_small_for_every_rule(rules_, r.resident_bytes, use.cpus)) return false;
    detail::Growth growth = detail::growth_of(w->second.reading, r);
    w->second = {std::move(r), use};
    tracker_.examined(pid, st->start_time, detail::Interest::watched, at, growth);
    return true;
}

// The full refresh of a process no rule named at its last look, from its main
// thread's stat alone while it is too small for every rule (no owner or cgroup it
// could have moved to would get it taken).
bool PlacementManager::unnamed_small_look(int pid, detail::TrackerClock::time_point at) {
    auto start = tracker_.start_time(pid);
    if (!start || !tracker_.refresh_due(pid) || tracker_.interest(pid) != detail::Interest::none) return false;
    auto st = linux_backend::read_task_stat(env_.fs, pid);
    if (!st || st->start_time != *start ||
        !too_small_for_every_rule(rules_, st->rss_pages * linux_backend::page_bytes(), std::nullopt))
        return false;
    tracker_.examined(pid, *start, detail::Interest::none, at);
    return true;
}

void PlacementManager::examine(int pid, detail::TrackerClock::time_point at) {
    using detail::Interest;
    if (quick_look(pid, at)) return;
    auto st = linux_backend::read_task_stat(env_.fs, pid);
    if (!st) {
        tracker_.vanished(pid);
        samples_.erase(pid);
        return;
    }
    std::uint64_t start = st->start_time;
    if (auto it = placed_.find(pid); it != placed_.end()) {
        if (it->second.start_time == start) {
            tracker_.examined(pid, start, Interest::managed, at);
            return;
        }
        placed_.erase(it);  // a reused pid: the old workload ended unseen
    }
    const Workload* requested = soft_.find(pid);
    if (pid == env_.sys.self_pid() || given_up_.contains({pid, start}) ||
        (requested != nullptr && requested->start_time == start)) {
        // The daemon itself, a workload released or refused before, or one a user
        // asked for: the rules leave it alone.
        tracker_.examined(pid, start, Interest::none, at);
        samples_.erase(pid);
        return;
    }
    detail::ProcessReading r;
    r.pid = pid;
    r.start_time = start;
    r.comm = st->comm;
    r.cgroup = linux_backend::read_task_cgroup(env_.fs, pid);
    if (auto status = linux_backend::read_task_status(env_.fs, pid))
        if (auto uids = linux_backend::status_uids(*status)) r.uid = uids->real;
    r.resident_bytes = st->rss_pages * linux_backend::page_bytes();
    // The whole process's CPU time (its main thread's stat above has only its own).
    auto whole = linux_backend::read_process_stat(env_.fs, pid);
    r.cpu_ticks = whole ? whole->utime + whole->stime : 0;
    r.kernel_thread = (st->flags & linux_backend::pf_kthread) != 0;
    r.no_setaffinity = (st->flags & linux_backend::pf_no_setaffinity) != 0;
    if (!r.kernel_thread) {
        auto mask = env_.sys.get_affinity(pid);
        if (!mask) {
            tracker_.vanished(pid);
            samples_.erase(pid);
            return;
        }
        r.affinity = *mask;
        r.allowed = linux_backend::read_task_cpuset(env_, pid).cpus & env_.host.online_cpus();
    }
    auto before = samples_.find(pid);
    detail::CpuUse use = detail::next_cpu_use(
        before == samples_.end() ? std::nullopt : std::optional<detail::CpuUse>(before->second.use), start,
        r.cpu_ticks, at, ticks_per_second());
    RuleDecision d = decide_placement_rule(rules_, detail::workload_facts(r, use.cpus));
    detail::Growth growth =
        before == samples_.end() ? detail::Growth::memory : detail::growth_of(before->second.reading, r);
    tracker_.examined(pid, start, detail::interest_of(d.verdict), at, growth);
    if (d.verdict == RuleVerdict::too_small) {
        samples_[pid] = {std::move(r), use};
        return;
    }
    samples_.erase(pid);
    if (d.verdict != RuleVerdict::place) return;
    const PlacementRule& rule = rules_.rules[static_cast<std::size_t>(d.rule)];
    Placed p;
    p.start_time = start;
    p.command = st->comm;
    p.rule = rule.name;
    p.policy = rule.policy;
    p.memory_tier = rule.memory_tier;
    p.cpu = use;
    p.reason = d.reason;
    log_(fmt::format("pid {} ({}) named by {}: planning", pid, st->comm, d.reason));
    placed_.emplace(pid, std::move(p));
}

// Reads what the decisions need of a followed workload; false when it is gone or
// no longer the daemon's.
bool PlacementManager::refresh(int pid, Placed& p, detail::TrackerClock::time_point at) {
    auto st = linux_backend::read_process_stat(env_.fs, pid);
    if (!st || st->start_time != p.start_time) return false;
    p.command = st->comm;
    p.cpu = detail::next_cpu_use(p.cpu, p.start_time, st->utime + st->stime, at, ticks_per_second());
    p.widened = false;
    if (p.placed && !p.cpus.empty()) {
        const Workload* w = soft_.find(pid);
        if (w == nullptr || w->start_time != p.start_time) {
            log_(fmt::format("pid {} ({}): no longer managed (its threads were released or its request removed); "
                             "rule '{}' leaves it alone from now on",
                             pid, p.command, p.rule));
            given_up_.insert({pid, p.start_time});
            return false;
        }
        p.widened = w->widened > 0;
    }
    read_memory(pid, p);
    return true;
}

// Its own memory per node, and the mappings a page move leaves alone (files other
// processes map too), from one reading of numa_maps.
void PlacementManager::read_memory(int pid, Placed& p) const {
    p.memory.clear();
    p.shared_files.clear();
    auto text = env_.fs.read(fmt::format("/proc/{}/numa_maps", pid));
    if (!text) return;
    auto mappings = linux_backend::parse_numa_maps(*text);
    p.memory = linux_backend::own_bytes_per_node(mappings);
    p.shared_files = linux_backend::shared_file_starts(mappings);
}

PlacementHost PlacementManager::live_host(const CpuLoad& load, const std::vector<double>& waiting) const {
    std::map<int, std::uint64_t> free;
    for (const Node& node : env_.host.nodes)
        if (auto available = linux_backend::node_available_bytes(env_.fs, node.id)) free[node.id] = *available;
    return measured_placement_host(env_.host, free, load, waiting, reserved_);
}

void PlacementManager::tick(const Clock& now, const CpuLoad& load, const std::vector<double>& waiting) {
    // numad -w plans on the load of the last interval, with or without rules; the
    // memory is read when it asks.
    last_load_ = load;
    last_waiting_ = waiting;
    if (!active()) return;
    auto at = at_of(now);
    if (!adopted_) adopt(now);
    if (tracker_.scan_due(at)) tracker_.on_scan(linux_backend::list_processes(env_.fs), at);
    for (const detail::ProcessKey& gone : tracker_.take_exited()) {
        samples_.erase(gone.pid);
        std::erase_if(given_up_, [&](const auto& key) { return key.first == gone.pid; });
        auto it = placed_.find(gone.pid);
        if (it == placed_.end() || (gone.start_time != 0 && gone.start_time != it->second.start_time)) continue;
        log_(fmt::format("pid {} ({}) exited: rule '{}' follows it no more", gone.pid, it->second.command,
                         it->second.rule));
        placed_.erase(it);
    }
    for (int pid : tracker_.take_due(at)) examine(pid, at);

    std::vector<ManagedWorkload> workloads;
    for (auto it = placed_.begin(); it != placed_.end();) {
        if (!refresh(it->first, it->second, at)) {
            it = placed_.erase(it);
            continue;
        }
        const Placed& p = it->second;
        ManagedWorkload w;
        w.pid = it->first;
        w.start_time = p.start_time;
        w.name = p.command;
        w.rule = p.rule;
        w.policy = p.policy;
        w.memory_tier = p.memory_tier;
        w.cpus_used = p.cpu && p.cpu->cpus ? *p.cpu->cpus : 0.0;
        w.memory_bytes_per_node = p.memory;
        if (p.placed) w.nodes = p.nodes;
        w.widened = p.widened;
        workloads.push_back(std::move(w));
        ++it;
    }
    if (workloads.empty()) return;
    auto decisions = decide_rebalance(live_host(load, waiting), workloads, rebalance_, at, rebalance_options_);
    Millis time_left = std::min(Millis{100}, std::max(Millis{10}, interval_ / 5));
    for (const RebalanceDecision& d : decisions) carry_out(d, now, time_left);
}

void PlacementManager::carry_out(const RebalanceDecision& d, const Clock& now, Millis& time_left) {
    auto it = placed_.find(d.pid);
    if (it == placed_.end() || it->second.start_time != d.start_time) return;
    Placed& p = it->second;
    if (d.action == RebalanceAction::place || d.action == RebalanceAction::move) {
        if (!d.cpus.empty()) {
            if (auto done = soft_.set_soft_by_rule(d.pid, d.cpus, rule_origin(p.rule), now); !done) {
                log_(fmt::format("rule '{}': pid {} ({}) cannot be placed on node {}: {}; left alone", p.rule, d.pid,
                                 p.command, to_list(d.to), done.error().message));
                given_up_.insert({d.pid, d.start_time});
                placed_.erase(it);
                return;
            }
        }
        p.placed = true;
        p.nodes = d.to;
        p.memory_nodes = d.memory_nodes;
        p.cpus = d.cpus;
        p.since = now.wall;
        p.reason = d.reason;
        p.cursor = {};
        note(fmt::format("{} pid {}: {}{}", to_string(d.action), d.pid, d.reason,
                         d.cpus.empty() ? "; memory only, no CPU preference" : fmt::format("; soft CPUs {}", to_list(d.cpus))),
             now);
        return;
    }
    // move_memory: a bounded step toward the workload's nodes.
    if (p.widened || time_left <= Millis{0}) return;
    auto started = std::chrono::steady_clock::now();
    const std::uint64_t home_before = bytes_home(p, d);
    if (p.cursor.at_start()) {  // a new scan of its mappings
        p.scan_outside_bytes = total_bytes(p.memory) - home_before;
        p.scan_seen_bytes = 0;
    }
    auto step = linux_backend::move_pages_step(env_, d.pid, d.to, d.bytes, time_left, p.cursor, p.shared_files,
                                               d.memory_nodes);
    if (!step) {
        if (step.error().code != ESRCH)
            note(fmt::format("move-memory pid {} ({}): {}", d.pid, p.command, step.error().message), now);
        return;
    }
    time_left -= std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started);
    // What came home, as numa_maps counts it: a page move_pages reports is 4K, but
    // the kernel moves a transparent huge page whole (2M for one address), so the
    // status array can say a fraction of what moved. The budget is charged with
    // what moved (the decision charged what it allowed: the difference is given
    // back, or taken), and what moved was seen.
    std::uint64_t moved = step->moved_bytes;
    if (moved > 0) {
        read_memory(d.pid, p);
        const std::uint64_t home_after = bytes_home(p, d);
        moved = std::max(moved, home_after - std::min(home_after, home_before));
    }
    rebalance_.budget_bytes += static_cast<double>(d.bytes) - static_cast<double>(moved);
    p.moved_bytes += moved;
    p.scan_seen_bytes += step->seen_outside_bytes + (moved - step->moved_bytes);
    // A scan that saw less than half of what numa_maps counted outside when it began:
    // the rest is hidden from move_pages (pages NUMA balancing marked), and steps of
    // move_pages would only move what it sees; migrate_pages moves it now.
    if (step->wrapped && p.scan_seen_bytes * 2 < p.scan_outside_bytes) {
        migrate_hidden(d, p, now);
        return;
    }
    if (moved == 0 && step->refused_bytes == 0) return;
    note(fmt::format("move-memory pid {}: {}: moved {} to node {}{}", d.pid, d.reason, format_size(moved),
                     to_list(d.to),
                     step->refused_bytes > 0 ? fmt::format(" ({} the kernel would not move)", format_size(step->refused_bytes))
                                             : ""),
         now);
}

// Its own memory on the decision's nodes (homes and memory nodes).
std::uint64_t PlacementManager::bytes_home(const Placed& p, const RebalanceDecision& d) const {
    return bytes_on(p.memory, d.to | d.memory_nodes);
}

// numa_maps counts memory outside the workload's nodes that a whole move_pages scan
// (over one or more steps) mostly did not find: pages NUMA balancing has marked for
// a hinting fault (a running workload's), which move_pages takes for absent on some
// kernels (Debian 12's 6.1). migrate_pages walks the page tables as the kernel's
// own policy code does and moves them, all at once: as soon as a scan finds them
// hidden, when the budget covers all of them (or is full: what is hidden cannot move
// in parts). After a migrate_pages that moved nothing, not again for a memory
// cooldown.
void PlacementManager::migrate_hidden(const RebalanceDecision& d, Placed& p, const Clock& now) {
    if (p.migrated_at && now.mono - *p.migrated_at < Millis{rebalance_options_.memory_cooldown}) return;
    const std::uint64_t before = bytes_home(p, d);
    const std::uint64_t hidden = total_bytes(p.memory) - before;
    if (rebalance_.budget_bytes < static_cast<double>(std::min(hidden, rebalance_options_.budget_burst_bytes))) return;
    auto started = std::chrono::steady_clock::now();
    auto left = env_.sys.migrate_pages(d.pid, d.from, d.to);
    auto took = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started);
    if (!left) {
        if (left.error() != ESRCH)
            note(fmt::format("move-memory pid {} ({}): migrate_pages from node {} to node {}: {}", d.pid, p.command,
                             to_list(d.from), to_list(d.to), std::strerror(left.error())),
                 now);
        return;
    }
    read_memory(d.pid, p);
    const std::uint64_t after = bytes_home(p, d);
    const std::uint64_t moved = after > before ? after - before : 0;
    if (moved == 0) p.migrated_at = now.mono;
    else p.migrated_at.reset();
    p.moved_bytes += moved;
    rebalance_.budget_bytes -= static_cast<double>(moved);
    note(fmt::format("move-memory pid {}: {}: move_pages saw {} of it (pages NUMA balancing marked); migrate_pages "
                     "moved {} from node {} to node {} in {} ms{}",
                     d.pid, d.reason,
                     p.scan_seen_bytes == 0 ? std::string("none") : fmt::format("only {}", format_size(p.scan_seen_bytes)),
                     format_size(moved), to_list(d.from), to_list(d.to), took.count(),
                     *left > 0 ? fmt::format(" ({} pages it would not move)", *left) : ""),
         now);
}

std::vector<protocol::PlacementStatus> PlacementManager::status() const {
    std::vector<protocol::PlacementStatus> out;
    for (const auto& [pid, p] : placed_)
        out.push_back({pid, p.command, p.rule, p.nodes, p.cpus, p.since, p.placed ? p.reason : "named; not placed yet",
                       p.moved_bytes, p.widened, p.memory, std::string(to_string(p.memory_tier)), p.memory_nodes,
                       bytes_per_tier(env_.host, p.memory)});
    return out;
}

Result<Plan> PlacementManager::advise(const PlacementRequest& request, const std::string& reserved_text) const {
    PlacementHost host = live_host(last_load_, last_waiting_);
    if (!reserved_text.empty()) {
        auto reserved = parse_cpu_set(reserved_text, env_.host);
        if (!reserved)
            return usage_error(fmt::format("-R '{}': {}", reserved_text, reserved.error().message));
        host.reserved |= *reserved;
        CpuSet usable = host.topology.online_cpus() & host.topology.allowed_cpus;
        if ((usable - host.reserved).empty())
            return usage_error(fmt::format("-R {} leaves no CPU to advise", to_list(*reserved)));
    }
    return plan_tiered_placement(host, request);
}

}  // namespace affine::daemon
