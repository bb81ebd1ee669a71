// The daemon's placement-and-move decisions (see rebalance.hpp for the rules).
#include "rebalance.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "affine/tiered_placement.hpp"

namespace affine {
namespace {

using Key = std::pair<int, std::uint64_t>;
Key key_of(const ManagedWorkload& w) { return {w.pid, w.start_time}; }

std::uint64_t total_bytes(const ManagedWorkload& w) { return affine::total_bytes(w.memory_bytes_per_node); }

std::uint64_t bytes_on(const ManagedWorkload& w, const NodeSet& nodes) { return affine::bytes_on(w.memory_bytes_per_node, nodes); }

NodeSet nodes_holding_outside(const ManagedWorkload& w, const NodeSet& nodes) {
    NodeSet out;
    for (const auto& [node, bytes] : w.memory_bytes_per_node)
        if (bytes > 0 && !nodes.contains(node)) out.insert(node);
    return out;
}

// Below this measured use a workload is idle: moving it off a busy node frees nothing.
constexpr double idle_cpus = 0.05;

// The CPUs a workload is planned for: its measured use rounded up, with a tenth of a
// CPU of slack for the noise of measuring (a spinning thread reads as 1.004).
int vcpus_of(const ManagedWorkload& w) { return std::max(1, static_cast<int>(std::ceil(w.cpus_used - 0.1))); }

int usable_cpus(const PlacementHost& host, int node) {
    const Node* n = host.topology.node(node);
    if (n == nullptr) return 0;
    CpuSet usable = (n->cpus & host.topology.online_cpus() & host.topology.allowed_cpus) - host.reserved;
    return usable.count();
}

double node_load(const PlacementHost& host, int node) {
    int cpus = usable_cpus(host, node);
    if (cpus == 0) return 0.0;
    auto it = host.vcpus_per_node.find(node);
    return it == host.vcpus_per_node.end() ? 0.0 : static_cast<double>(it->second) / cpus;
}

// The load a workload puts on each node: its CPUs spread over `nodes` by usable
// CPUs (largest remainder); for a workload not placed, on the node holding most of
// its memory (first touch: threads allocate where they run).
std::map<int, int> load_of(const PlacementHost& host, const ManagedWorkload& w) {
    std::map<int, int> load;
    int vcpus = vcpus_of(w);
    if (w.nodes.empty()) {
        int home = -1;
        std::uint64_t most = 0;
        for (const auto& [node, bytes] : w.memory_bytes_per_node)
            if (bytes > most) most = bytes, home = node;
        if (home >= 0) load[home] = vcpus;
        return load;
    }
    int total_cpus = 0;
    for (int node : w.nodes) total_cpus += usable_cpus(host, node);
    if (total_cpus == 0) return load;
    int given = 0;
    for (int node : w.nodes) {
        int share = vcpus * usable_cpus(host, node) / total_cpus;
        load[node] = share;
        given += share;
    }
    for (int node : w.nodes) {
        if (given >= vcpus) break;
        if (usable_cpus(host, node) == 0) continue;
        ++load[node];
        ++given;
    }
    return load;
}

// Where a workload's memory is home when its homes are `homes`.
NodeSet memory_nodes(const PlacementHost& host, const ManagedWorkload& w, const NodeSet& homes) {
    return home_memory_nodes(host.topology, homes, w.memory_tier);
}

std::string describe(const ManagedWorkload& w) {
    return w.name.empty() ? fmt::format("pid {}", w.pid) : fmt::format("{} (pid {})", w.name, w.pid);
}

// The planner's view for a workload whose memory the daemon brings home: a CPU-less
// node's free memory counts only where that node's memory is home (home_memory_nodes:
// a slower tier than the node it is overflow of). In one tier it is only a farther
// node whose pages the daemon moves home, so a plan counting on it would choose a
// home its memory cannot reach (both 400 MB workloads on one 768 MB node, the second's
// moves refused with ENOMEM).
PlacementHost movable_view(const PlacementHost& host, MemoryTierUse use) {
    PlacementHost view = host;
    for (Node& n : view.topology.nodes) {
        if (n.has_cpus()) continue;
        auto initiator = nearest_initiator(host.topology, n.id);
        if (!initiator || !home_memory_nodes(host.topology, NodeSet{*initiator}, use).contains(n.id))
            n.memory_free_bytes = 0;
    }
    return view;
}

// Plans `w` afresh on `host` with its own memory and load released first and its
// resident memory as follow-memory. `host` is left with the plan applied.
std::optional<Plan> replan(PlacementHost& host, const ManagedWorkload& w) {
    release_from_host_state(host, w.memory_bytes_per_node, load_of(host, w));
    PlacementRequest request;
    request.name = describe(w);
    request.vcpus = vcpus_of(w);
    request.memory_bytes = std::max<std::uint64_t>(total_bytes(w), 4096);
    request.policy = w.policy;
    for (const auto& [node, bytes] : w.memory_bytes_per_node)
        if (bytes > 0 && host.topology.node(node) != nullptr) request.resident_bytes_per_node[node] = bytes;
    auto plan = plan_tiered_placement(movable_view(host, w.memory_tier), request, w.memory_tier);
    if (!plan || !plan->fits()) return std::nullopt;
    apply_to_host_state(host, *plan);
    return *plan;
}

CpuSet soft_cpus_of(const Plan& plan) { return plan.affinity == AffinityKind::none ? CpuSet{} : plan.cpus; }

void refill_budget(RebalanceState& state, RebalanceClock::time_point now, const RebalanceOptions& options) {
    auto burst = static_cast<double>(options.budget_burst_bytes);
    if (!state.started) {
        state.started = true;
        state.budget_bytes = burst;
    } else if (now > state.budget_at) {
        double seconds = std::chrono::duration<double>(now - state.budget_at).count();
        state.budget_bytes = std::min(burst, state.budget_bytes + seconds * static_cast<double>(options.budget_bytes_per_second));
    }
    state.budget_at = now;
}

bool resident_long_enough(const RebalanceState& state, const ManagedWorkload& w, RebalanceClock::time_point now,
                          const RebalanceOptions& options) {
    auto it = state.placed_at.find(key_of(w));
    // A workload placed before this daemon's state began (a restart) has been there
    // at least as long as the daemon has not: it may move.
    return it == state.placed_at.end() || now - it->second >= options.min_residency;
}

struct MoveCandidate {
    const ManagedWorkload* workload = nullptr;
    Plan plan;
    PlacementHost host_after;
    std::uint64_t bytes = 0;
    double relief = 0.0;
    bool solves = false;
};

}  // namespace

std::uint64_t total_bytes(const std::map<int, std::uint64_t>& bytes_per_node) {
    std::uint64_t sum = 0;
    for (const auto& [node, bytes] : bytes_per_node) sum += bytes;
    return sum;
}

std::uint64_t bytes_on(const std::map<int, std::uint64_t>& bytes_per_node, const NodeSet& nodes) {
    std::uint64_t sum = 0;
    for (const auto& [node, bytes] : bytes_per_node)
        if (nodes.contains(node)) sum += bytes;
    return sum;
}

NodeSet home_memory_nodes(const Topology& topology, const NodeSet& homes, MemoryTierUse use) {
    auto slower_than_a_home = [&](const Node& n) {
        return n.memory_tier && std::ranges::any_of(homes, [&](int h) {
                   const Node* home = topology.node(h);
                   return home != nullptr && home->memory_tier && *home->memory_tier < *n.memory_tier;
               });
    };
    NodeSet out;
    for (int id : memory_nodes_of(topology, homes, use)) {
        const Node* n = topology.node(id);
        if (homes.contains(id) || (n != nullptr && slower_than_a_home(*n))) out.insert(id);
    }
    return out;
}

std::vector<RebalanceDecision> decide_rebalance(const PlacementHost& host, const std::vector<ManagedWorkload>& workloads,
                                                RebalanceState& state, RebalanceClock::time_point now,
                                                const RebalanceOptions& options) {
    std::vector<RebalanceDecision> decisions;
    refill_budget(state, now, options);

    // Forget what belongs to workloads that are gone.
    std::set<Key> present;
    for (const ManagedWorkload& w : workloads) present.insert(key_of(w));
    std::erase_if(state.placed_at, [&](const auto& e) { return !present.contains(e.first); });
    std::erase_if(state.memory_home, [&](const auto& e) { return !present.contains(e.first); });

    PlacementHost h = host;
    std::set<Key> decided;

    // 1. New workloads. The memory that workloads placed in earlier steps still have
    // to bring home is spoken for on their nodes while the new ones are planned (the
    // measured free memory does not show it yet): two workloads named a few seconds
    // apart must not both be given a node that holds one. Given back after this step.
    std::map<int, std::uint64_t> spoken_for;
    for (const ManagedWorkload& w : workloads) {
        if (w.nodes.empty()) continue;
        std::uint64_t pending = total_bytes(w) - bytes_on(w, memory_nodes(h, w, w.nodes));
        for (Node& n : h.topology.nodes) {
            if (pending == 0) break;
            if (!w.nodes.contains(n.id)) continue;
            std::uint64_t taken = std::min(n.memory_free_bytes, pending);
            n.memory_free_bytes -= taken;
            spoken_for[n.id] += taken;
            pending -= taken;
        }
    }
    for (const ManagedWorkload& w : workloads) {
        if (!w.nodes.empty()) continue;
        PlacementHost trial = h;
        auto plan = replan(trial, w);
        if (!plan) continue;
        h = std::move(trial);
        NodeSet home = memory_nodes(h, w, plan->nodes);
        std::uint64_t outside = total_bytes(w) - bytes_on(w, home);
        decisions.push_back({RebalanceAction::place, w.pid, w.start_time, nodes_holding_outside(w, home), plan->nodes,
                             home, soft_cpus_of(*plan), outside,
                             fmt::format("rule '{}' names {}: placed on node{} {} ({} CPU{}, {} resident, {} to move)",
                                         w.rule, describe(w), plan->nodes.count() == 1 ? "" : "s",
                                         to_list(plan->nodes), vcpus_of(w), vcpus_of(w) == 1 ? "" : "s",
                                         format_size(total_bytes(w)), format_size(outside))});
        state.placed_at[key_of(w)] = now;
        state.memory_home.erase(key_of(w));
        decided.insert(key_of(w));
    }
    for (Node& n : h.topology.nodes)
        if (auto it = spoken_for.find(n.id); it != spoken_for.end()) n.memory_free_bytes += it->second;

    // 2. Overloaded nodes, with hysteresis: one move per node, the one that helps most
    // for least memory moved.
    // A copy: a move replaces `h`, and with it the nodes a loop over h would walk.
    const std::vector<Node> nodes = h.topology.nodes;
    for (const Node& node : nodes) {
        if (usable_cpus(h, node.id) == 0) continue;
        double load = node_load(h, node.id);
        if (load <= options.overload_load) {
            state.overloaded_since.erase(node.id);
            continue;
        }
        auto since = state.overloaded_since.try_emplace(node.id, now).first->second;
        if (now - since < options.overload_after) continue;
        std::optional<MoveCandidate> best;
        for (const ManagedWorkload& w : workloads) {
            // A widened workload may move: spilling is the engine's answer to a busy
            // moment, a new home the answer to a node that stays overloaded.
            if (w.nodes.empty() || !w.nodes.contains(node.id) || decided.contains(key_of(w))) continue;
            if (w.cpus_used < idle_cpus) continue;  // an idle workload relieves nothing
            if (!resident_long_enough(state, w, now, options)) continue;
            MoveCandidate c;
            c.workload = &w;
            // Planned away from the overloaded node: its CPUs out and its memory full
            // (follow-memory would otherwise keep the workload where its pages are).
            c.host_after = h;
            c.host_after.reserved |= node.cpus;
            for (Node& n : c.host_after.topology.nodes)
                if (n.id == node.id) n.memory_free_bytes = 0;
            auto load_here = load_of(h, w);
            auto plan = replan(c.host_after, w);
            if (!plan || plan->nodes.contains(node.id) || plan->score.projected_load() > options.overload_load) continue;
            c.plan = *plan;
            c.bytes = total_bytes(w) - bytes_on(w, memory_nodes(h, w, plan->nodes));
            c.relief = static_cast<double>(load_here[node.id]) / usable_cpus(h, node.id);
            c.solves = load - c.relief <= options.overload_load;
            auto better = [](const MoveCandidate& a, const MoveCandidate& b) {
                if (a.solves != b.solves) return a.solves;
                if (a.bytes != b.bytes) return a.bytes < b.bytes;
                if (a.relief != b.relief) return a.relief > b.relief;
                return a.workload->pid < b.workload->pid;
            };
            if (!best || better(c, *best)) best = std::move(c);
        }
        if (!best) continue;
        const ManagedWorkload& w = *best->workload;
        best->host_after.reserved = h.reserved;
        best->host_after.topology.nodes = h.topology.nodes;  // the plan's memory is applied below
        for (const auto& [n, bytes] : best->plan.memory_bytes_per_node)
            for (Node& hn : best->host_after.topology.nodes)
                if (hn.id == n) hn.memory_free_bytes -= std::min(hn.memory_free_bytes, bytes);
        decisions.push_back(
            {RebalanceAction::move, w.pid, w.start_time, w.nodes, best->plan.nodes,
             memory_nodes(h, w, best->plan.nodes), soft_cpus_of(best->plan), best->bytes,
             fmt::format("node {} overloaded (load {:.2f} > {:.2f} for {} s): {} moves from node{} {} to node{} {} "
                         "({:.2f} of the node's load off, {} to move)",
                         node.id, load, options.overload_load,
                         std::chrono::duration_cast<std::chrono::seconds>(now - since).count(), describe(w),
                         w.nodes.count() == 1 ? "" : "s", to_list(w.nodes), best->plan.nodes.count() == 1 ? "" : "s",
                         to_list(best->plan.nodes), best->relief, format_size(best->bytes))});
        h = std::move(best->host_after);
        state.placed_at[key_of(w)] = now;
        state.memory_home.erase(key_of(w));
        state.overloaded_since[node.id] = now;  // see what the move did before the next one
        decided.insert(key_of(w));
    }

    // 2b. Memory that outgrew its nodes: re-placed when the whole fits elsewhere.
    for (const ManagedWorkload& w : workloads) {
        if (w.nodes.empty() || w.widened || decided.contains(key_of(w))) continue;
        std::uint64_t total = total_bytes(w);
        const NodeSet home_nodes = memory_nodes(h, w, w.nodes);
        std::uint64_t home = bytes_on(w, home_nodes);
        if (total == 0 || static_cast<double>(home) >= options.drift_share * static_cast<double>(total)) continue;
        std::uint64_t room = home;
        for (int node : home_nodes)
            if (const Node* n = h.topology.node(node)) room += n->memory_free_bytes;
        if (room >= total) continue;  // it fits at home: step 3 brings it back
        if (!resident_long_enough(state, w, now, options)) continue;
        PlacementHost trial = h;
        auto plan = replan(trial, w);
        if (!plan || plan->nodes == w.nodes) continue;
        h = std::move(trial);
        NodeSet new_home = memory_nodes(h, w, plan->nodes);
        std::uint64_t outside = total - bytes_on(w, new_home);
        decisions.push_back({RebalanceAction::move, w.pid, w.start_time, w.nodes, plan->nodes, new_home,
                             soft_cpus_of(*plan), outside,
                             fmt::format("{} outgrew node{} {} ({} of {} there, {} free): re-placed on node{} {}",
                                         describe(w), w.nodes.count() == 1 ? "" : "s", to_list(w.nodes),
                                         format_size(home), format_size(total), format_size(room - home),
                                         plan->nodes.count() == 1 ? "" : "s", to_list(plan->nodes))});
        state.placed_at[key_of(w)] = now;
        state.memory_home.erase(key_of(w));
        decided.insert(key_of(w));
    }

    // 3. Memory toward its nodes, in bounded chunks within the budget.
    for (const ManagedWorkload& w : workloads) {
        if (w.nodes.empty() || decided.contains(key_of(w))) continue;
        if (w.widened) continue;  // spilling for CPU: its memory stays where its home is
        std::uint64_t total = total_bytes(w);
        const NodeSet home_nodes = memory_nodes(h, w, w.nodes);
        std::uint64_t outside = total - bytes_on(w, home_nodes);
        // At least 99 % home counts as home; the last strays are not worth a move.
        if (outside == 0 || outside * 100 <= total) {
            state.memory_home.try_emplace(key_of(w), now);
            continue;
        }
        auto home_at = state.memory_home.find(key_of(w));
        if (home_at != state.memory_home.end()) {
            if (now - home_at->second < options.memory_cooldown) continue;
            state.memory_home.erase(home_at);
        }
        auto budget = static_cast<std::uint64_t>(std::max(0.0, state.budget_bytes));
        std::uint64_t chunk = std::min({outside, options.chunk_bytes, budget});
        if (chunk == 0) continue;
        state.budget_bytes -= static_cast<double>(chunk);
        decisions.push_back({RebalanceAction::move_memory, w.pid, w.start_time, nodes_holding_outside(w, home_nodes),
                             w.nodes, home_nodes, {}, chunk,
                             fmt::format("{}: {} of {} outside node{} {}: moving {}", describe(w), format_size(outside),
                                         format_size(total), home_nodes.count() == 1 ? "" : "s",
                                         to_list(home_nodes), format_size(chunk))});
    }
    return decisions;
}

std::string_view to_string(RebalanceAction action) {
    switch (action) {
    case RebalanceAction::place: return "place";
    case RebalanceAction::move: return "move";
    case RebalanceAction::move_memory: return "move-memory";
    }
    return "?";
}

}  // namespace affine
