#include "container_placement.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "affine/set_grammar.hpp"

namespace affine::nri {

namespace {

constexpr std::uint64_t shares_per_cpu = 1024;

// Whole CPUs of the limit, when the quota is a whole number of periods.
std::int64_t whole_limit_cpus(const ContainerSpec& spec) {
    if (spec.cpu_quota <= 0 || spec.cpu_period == 0) return 0;
    auto period = static_cast<std::int64_t>(spec.cpu_period);
    return spec.cpu_quota % period == 0 ? spec.cpu_quota / period : 0;
}

// Splits `total` over `nodes` as evenly as possible, the remainder to the lowest ids.
template <typename T>
std::map<int, T> even_split(T total, const NodeSet& nodes) {
    std::map<int, T> out;
    if (nodes.empty()) return out;
    auto n = static_cast<T>(nodes.count());
    T rest = total % n;
    for (int node : nodes) {
        T share = total / n + (rest > 0 ? 1 : 0);
        if (rest > 0) --rest;
        if (share > 0) out[node] = share;
    }
    return out;
}

std::string describe(const Assignment& a, CpuMode mode) {
    return fmt::format("cpus {}{}, mems {}", to_list(a.cpus), mode == CpuMode::exclusive ? " exclusive" : "",
                       to_list(a.mems));
}

}  // namespace

QosClass qos_class(const ContainerSpec& spec) {
    bool cpu_limit = spec.cpu_quota > 0 && spec.cpu_period > 0;
    if (!cpu_limit && spec.memory_limit <= 0 && spec.cpu_shares <= 2) return QosClass::best_effort;
    if (cpu_limit && spec.memory_limit > 0) {
        // The kubelet writes shares = request * 1024 / 1000 (milli-CPUs) and quota =
        // limit * period / 1000: request == limit when both give the same milli-CPUs.
        auto request_milli = spec.cpu_shares * 1000 / shares_per_cpu;
        auto limit_milli = static_cast<std::uint64_t>(spec.cpu_quota) * 1000 / spec.cpu_period;
        if (request_milli == limit_milli || request_milli + 1 == limit_milli) return QosClass::guaranteed;
    }
    return QosClass::burstable;
}

int exclusive_cpu_count(const ContainerSpec& spec) {
    if (spec.soft || spec.policy == ContainerPolicy::prio_mem_only) return 0;
    if (qos_class(spec) != QosClass::guaranteed) return 0;
    return static_cast<int>(std::min<std::int64_t>(whole_limit_cpus(spec), max_id));
}

int cpu_need(const ContainerSpec& spec) {
    std::uint64_t request = (spec.cpu_shares + shares_per_cpu - 1) / shares_per_cpu;
    std::uint64_t limit = 0;
    if (spec.cpu_quota > 0 && spec.cpu_period > 0)
        limit = (static_cast<std::uint64_t>(spec.cpu_quota) + spec.cpu_period - 1) / spec.cpu_period;
    return static_cast<int>(std::clamp<std::uint64_t>(std::max(request, limit), 1, max_id));
}

ContainerPlacer::ContainerPlacer(PlacementHost host) : host_(std::move(host)) {
    usable_ = host_.topology.online_cpus() & host_.topology.allowed_cpus;
    usable_ -= host_.reserved;
    memory_nodes_ = host_.topology.nodes_with_memory() & host_.topology.allowed_nodes;
}

CpuSet ContainerPlacer::shared_pool() const {
    CpuSet pool = usable_;
    for (const auto& [id, c] : placed_) pool -= c.exclusive;
    return pool;
}

std::optional<CpuSet> ContainerPlacer::soft_cpus(std::string_view id) const {
    auto it = placed_.find(id);
    if (it == placed_.end() || !it->second.spec.soft) return std::nullopt;
    CpuSet pool = shared_pool();
    CpuSet cpus = pool & host_.topology.cpus_of(it->second.nodes);
    return cpus.empty() ? pool : cpus;
}

PlacementHost ContainerPlacer::planning_host() const {
    PlacementHost host = host_;
    for (const auto& [id, c] : placed_) host.reserved |= c.exclusive;
    return host;
}

Assignment ContainerPlacer::assignment_of(const PlacedContainer& c) const {
    NodeSet mems = c.nodes & memory_nodes_;
    if (mems.empty()) mems = memory_nodes_;
    switch (c.mode) {
        case CpuMode::exclusive: return {c.exclusive, mems};
        case CpuMode::pool: return {shared_pool(), mems};
        case CpuMode::aligned: break;
    }
    CpuSet pool = shared_pool();
    CpuSet cpus = pool & host_.topology.cpus_of(c.nodes);
    return {cpus.empty() ? pool : cpus, mems};
}

// The exclusive CPUs of `count` from `candidates`: whole cores first, node by node in
// the plan's order, so a container's threads share cores only with themselves.
static CpuSet pick_exclusive(const Topology& topology, const NodeSet& nodes, const CpuSet& candidates, int count) {
    CpuSet chosen;
    for (int node : nodes)
        for (const CpuSet& core : topology.cores_of(node))
            if (core.is_subset_of(candidates) && chosen.count() + core.count() <= count) chosen |= core;
    for (int cpu : candidates) {
        if (chosen.count() >= count) break;
        chosen.insert(cpu);
    }
    return chosen;
}

Result<PlacedContainer> ContainerPlacer::place(const ContainerSpec& spec, std::string& why) const {
    PlacementHost host = planning_host();
    PlacedContainer c;
    c.spec = spec;
    int exclusive = exclusive_cpu_count(spec);
    CpuSet pool = shared_pool();
    if (exclusive > 0 && exclusive >= pool.count()) {
        why = fmt::format("Guaranteed with {} whole CPUs, but the shared pool has {} (one must stay): shared; ",
                          exclusive, pool.count());
        exclusive = 0;
    }
    PlacementRequest request;
    request.name = spec.pod + "/" + spec.name;
    request.vcpus = exclusive > 0 ? exclusive : cpu_need(spec);
    // No memory limit: placed by CPU alone (the planner needs a size; one byte fits anywhere).
    request.memory_bytes = spec.memory_limit > 0 ? static_cast<std::uint64_t>(spec.memory_limit) : 1;
    request.policy = spec.policy == ContainerPolicy::prio_mem_only ? PlacementPolicy::prio_mem_only
                                                                  : PlacementPolicy::best_effort_hard;
    auto plan = plan_placement(host, request);
    if (!plan) return std::unexpected(plan.error());
    if (!plan->fits()) {
        if (spec.policy == ContainerPolicy::best_effort_hard)
            return failure(fmt::format("pod {} container {}: policy best-effort-hard and no node set fits: {}", spec.pod,
                                       spec.name, plan->fallback));
        c.mode = CpuMode::pool;
        c.nodes = memory_nodes_;
        why += fmt::format("no node set fits ({}): the whole shared pool", plan->fallback);
    } else if (exclusive > 0) {
        c.mode = CpuMode::exclusive;
        c.nodes = plan->nodes;
        c.exclusive = pick_exclusive(host.topology, plan->nodes, plan->cpus & pool, exclusive);
        why += fmt::format("Guaranteed with {} whole CPUs: exclusive on the planner's nodes", exclusive);
    } else {
        c.nodes = plan->nodes;
        bool pool_wide = spec.soft || spec.policy == ContainerPolicy::prio_mem_only;
        c.mode = pool_wide ? CpuMode::pool : CpuMode::aligned;
        why += spec.soft ? "soft: the whole shared pool, memory and soft affinity on the planner's nodes"
               : spec.policy == ContainerPolicy::prio_mem_only
                   ? "prio-mem-only: memory on the planner's nodes, the whole shared pool"
                   : fmt::format("{} CPUs shared: the shared pool of the planner's nodes", request.vcpus);
    }
    if (plan->fits()) {
        c.memory_bytes_per_node = plan->memory_bytes_per_node;
        c.vcpus_per_node = plan->vcpus_per_node;
    }
    return c;
}

std::vector<ContainerUpdate> ContainerPlacer::refresh_shared(std::string_view except, const std::string& why) {
    std::vector<ContainerUpdate> updates;
    for (auto& [id, c] : placed_) {
        if (id == except || c.mode == CpuMode::exclusive) continue;
        Assignment now = assignment_of(c);
        if (now == c.assigned) continue;
        c.assigned = now;
        c.why = why;
        updates.push_back({id, now, why});
    }
    return updates;
}

Result<Decision> ContainerPlacer::create(const ContainerSpec& spec) {
    if (placed_.contains(spec.id)) return usage_error(fmt::format("container {} is already placed", spec.id));
    std::string why;
    auto c = place(spec, why);
    if (!c) return std::unexpected(c.error());
    Plan load;
    load.outcome = PlanOutcome::placed;
    load.memory_bytes_per_node = c->memory_bytes_per_node;
    load.vcpus_per_node = c->vcpus_per_node;
    apply_to_host_state(host_, load);
    ++revision_;
    auto& placed = placed_[spec.id] = std::move(*c);
    placed.assigned = assignment_of(placed);
    placed.why = why;
    Decision d;
    d.id = spec.id;
    d.assignment = placed.assigned;
    d.log = fmt::format("pod {} container {}: nodes {}, {}: {}", spec.pod, spec.name, to_list(placed.nodes),
                        describe(placed.assigned, placed.mode), why);
    if (placed.mode == CpuMode::exclusive)
        d.updates = refresh_shared(spec.id, fmt::format("CPUs {} taken exclusively by {}/{}", to_list(placed.exclusive),
                                                        spec.pod, spec.name));
    return d;
}

std::vector<ContainerUpdate> ContainerPlacer::remove(std::string_view id) {
    auto it = placed_.find(id);
    if (it == placed_.end()) return {};
    release_from_host_state(host_, it->second.memory_bytes_per_node, it->second.vcpus_per_node);
    CpuSet freed = it->second.exclusive;
    std::string who = it->second.spec.pod + "/" + it->second.spec.name;
    ++revision_;
    placed_.erase(it);
    if (freed.empty()) return {};
    return refresh_shared({}, fmt::format("CPUs {} freed by {}", to_list(freed), who));
}

std::vector<Decision> ContainerPlacer::synchronize(const std::vector<RunningContainer>& running) {
    for (const auto& [id, c] : placed_) release_from_host_state(host_, c.memory_bytes_per_node, c.vcpus_per_node);
    ++revision_;
    placed_.clear();
    std::vector<const RunningContainer*> unplaced;
    std::set<std::string_view> seen;  // an id reported twice counts once (the first)
    CpuSet taken;
    // First the containers that hold a placement these rules could have made, the
    // exclusive ones first so that the shared pool is known when the others are read.
    for (int pass = 0; pass < 2; ++pass) {
        for (const RunningContainer& r : running) {
            int exclusive = exclusive_cpu_count(r.spec);
            if ((exclusive > 0) != (pass == 0) || !seen.insert(r.spec.id).second) continue;
            PlacedContainer c;
            c.spec = r.spec;
            const Assignment& now = r.current;
            bool kept = false;
            if (exclusive > 0) {
                kept = now.cpus.count() == exclusive && now.cpus.is_subset_of(usable_) && !now.cpus.intersects(taken) &&
                       (usable_ - taken - now.cpus).count() >= 1;
                c.mode = CpuMode::exclusive;
                c.exclusive = now.cpus;
                c.nodes = host_.topology.nodes_of(now.cpus);
                if (kept) taken |= now.cpus;
            } else if (!now.mems.empty() && !now.cpus.empty() && now.mems.is_subset_of(memory_nodes_)) {
                kept = true;
                c.nodes = now.mems;
                // A cpuset beyond its nodes' CPUs is the whole pool (soft, prio-mem-only
                // or nothing fitted); within them, the aligned share.
                c.mode = now.cpus.is_subset_of(host_.topology.cpus_of(now.mems)) ? CpuMode::aligned : CpuMode::pool;
            }
            if (!kept) {
                unplaced.push_back(&r);
                continue;
            }
            c.vcpus_per_node = even_split(exclusive > 0 ? exclusive : cpu_need(r.spec), c.nodes);
            if (r.spec.memory_limit > 0)
                c.memory_bytes_per_node =
                    even_split(static_cast<std::uint64_t>(r.spec.memory_limit), c.nodes & memory_nodes_);
            c.assigned = now;
            c.why = "synchronize: kept what it had";
            Plan load;
            load.outcome = PlanOutcome::placed;
            load.memory_bytes_per_node = c.memory_bytes_per_node;
            load.vcpus_per_node = c.vcpus_per_node;
            apply_to_host_state(host_, load);
            placed_[r.spec.id] = std::move(c);
        }
    }
    std::vector<Decision> decisions;
    for (const RunningContainer* r : unplaced) {
        auto d = create(r->spec);
        if (!d) {
            // best-effort-hard with nothing that fits: leave it where it is, unmanaged.
            decisions.push_back({r->spec.id, r->current, fmt::format("{} (left as it is)", d.error().message), {}});
            continue;
        }
        d->log = "synchronize: " + d->log;
        placed_[r->spec.id].why = "synchronize: " + placed_[r->spec.id].why;
        for (auto& u : d->updates) decisions.push_back({u.id, u.assignment, "synchronize: " + u.why, {}});
        d->updates.clear();
        decisions.push_back(std::move(*d));
    }
    // The kept shared containers follow the pool as it is now.
    for (auto& u : refresh_shared({}, "synchronize: the shared pool of its nodes"))
        decisions.push_back({u.id, u.assignment, u.why, {}});
    return decisions;
}

std::string_view to_string(ContainerPolicy policy) {
    switch (policy) {
        case ContainerPolicy::best_effort: return "best-effort";
        case ContainerPolicy::best_effort_hard: return "best-effort-hard";
        case ContainerPolicy::prio_mem_only: return "prio-mem-only";
    }
    return "?";
}

std::string_view to_string(CpuMode mode) {
    switch (mode) {
        case CpuMode::exclusive: return "exclusive";
        case CpuMode::aligned: return "aligned";
        case CpuMode::pool: return "pool";
    }
    return "?";
}

Result<ContainerPolicy> parse_container_policy(std::string_view text) {
    for (auto p : {ContainerPolicy::best_effort, ContainerPolicy::best_effort_hard, ContainerPolicy::prio_mem_only})
        if (text == to_string(p)) return p;
    return usage_error(fmt::format("policy '{}': allowed best-effort, best-effort-hard, prio-mem-only", text));
}

}  // namespace affine::nri
