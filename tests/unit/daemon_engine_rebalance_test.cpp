#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "affine/host.hpp"
#include "daemon/engine/rebalance.hpp"
#include "affine/set_grammar.hpp"
#include "affine/tiered_placement.hpp"

namespace affine {
namespace {

using namespace std::chrono_literals;
constexpr std::uint64_t MiB = std::uint64_t{1} << 20;
constexpr std::uint64_t GiB = std::uint64_t{1} << 30;

RebalanceClock::time_point at(std::chrono::seconds s) { return RebalanceClock::time_point{} + 1h + s; }

// 4 nodes of 2 CPUs and 1 GiB each, all free.
PlacementHost four_nodes() {
    auto t = synthetic_topology("nodes=4,cores=2,mem=1G,dist=21");
    EXPECT_TRUE(t);
    return make_placement_host(*t);
}

ManagedWorkload workload(int pid, double cpus, std::map<int, std::uint64_t> memory, NodeSet nodes = {}) {
    ManagedWorkload w;
    w.pid = pid;
    w.start_time = 1000 + static_cast<std::uint64_t>(pid);
    w.name = fmt::format("w{}", pid);
    w.rule = "test";
    w.cpus_used = cpus;
    w.memory_bytes_per_node = std::move(memory);
    w.nodes = std::move(nodes);
    return w;
}

// The host as it is measured with these workloads on it: their memory taken from
// their nodes' free memory, their CPU use as load where they are placed.
PlacementHost measured(PlacementHost host, const std::vector<ManagedWorkload>& workloads) {
    for (const ManagedWorkload& w : workloads) {
        for (const auto& [node, bytes] : w.memory_bytes_per_node)
            for (Node& n : host.topology.nodes)
                if (n.id == node) n.memory_free_bytes -= std::min(n.memory_free_bytes, bytes);
        if (!w.nodes.empty()) {
            int per_node = static_cast<int>(std::ceil(w.cpus_used)) / w.nodes.count();
            for (int node : w.nodes) host.vcpus_per_node[node] += std::max(per_node, 1);
        }
    }
    return host;
}

// Carries out decisions as the daemon would: placements set nodes, memory moves
// move bytes from outside nodes to the first node of the target.
void carry_out(std::vector<ManagedWorkload>& workloads, const std::vector<RebalanceDecision>& decisions) {
    for (const RebalanceDecision& d : decisions) {
        auto w = std::ranges::find_if(workloads, [&](const ManagedWorkload& x) { return x.pid == d.pid; });
        ASSERT_NE(w, workloads.end());
        if (d.action != RebalanceAction::move_memory) {
            w->nodes = d.to;
            continue;
        }
        std::uint64_t left = d.bytes;
        for (auto& [node, bytes] : w->memory_bytes_per_node) {
            if (d.to.contains(node) || left == 0) continue;
            std::uint64_t moved = std::min(bytes, left);
            bytes -= moved;
            left -= moved;
            w->memory_bytes_per_node[*d.to.begin()] += moved;
        }
    }
}

int count(const std::vector<RebalanceDecision>& decisions, RebalanceAction action) {
    return static_cast<int>(std::ranges::count_if(decisions, [&](const RebalanceDecision& d) { return d.action == action; }));
}

// Two sockets of one node (4 CPUs, 4G each), each with a 16G CPU-less node of a
// lower tier: node 2 next to node 0, node 3 next to node 1.
PlacementHost tiered() {
    auto t = synthetic_topology("nodes=2,cores=4,mem=4G,slow=16G");
    EXPECT_TRUE(t);
    return make_placement_host(*t);
}

double share_home(const ManagedWorkload& w) {
    std::uint64_t total = 0, home = 0;
    for (const auto& [node, bytes] : w.memory_bytes_per_node) {
        total += bytes;
        if (w.nodes.contains(node)) home += bytes;
    }
    return total == 0 ? 1.0 : static_cast<double>(home) / static_cast<double>(total);
}

TEST(Rebalance, NewWorkloadStaysWhereItsMemoryIsAndItsMemoryFollows) {
    std::vector<ManagedWorkload> ws = {workload(10, 1.0, {{1, 200 * MiB}, {2, 100 * MiB}})};
    RebalanceState state;
    RebalanceOptions options;
    options.budget_burst_bytes = 64 * MiB;
    options.budget_bytes_per_second = 32 * MiB;
    auto d = decide_rebalance(measured(four_nodes(), ws), ws, state, at(0s), options);
    ASSERT_EQ(d.size(), 1U);
    EXPECT_EQ(d[0].action, RebalanceAction::place);
    EXPECT_EQ(d[0].to, NodeSet{1});  // follow-memory: most of it is on node 1
    EXPECT_EQ(d[0].cpus, (CpuSet{2, 3}));
    EXPECT_EQ(d[0].bytes, 100 * MiB);
    EXPECT_NE(d[0].reason.find("rule 'test'"), std::string::npos) << d[0].reason;
    carry_out(ws, d);

    // Memory follows in chunks no larger than the budget allows.
    int seconds = 1;
    for (; seconds < 20 && share_home(ws[0]) < 0.99; ++seconds) {
        auto step = decide_rebalance(measured(four_nodes(), ws), ws, state, at(std::chrono::seconds(seconds)), options);
        for (const auto& s : step) {
            EXPECT_EQ(s.action, RebalanceAction::move_memory) << s.reason;
            EXPECT_LE(s.bytes, 64 * MiB);
        }
        carry_out(ws, step);
    }
    EXPECT_GE(share_home(ws[0]), 0.99);
    EXPECT_GE(seconds, 3);  // 100 MiB at 32 MiB/s after a 64 MiB burst: several steps
    // Home: nothing more to do.
    EXPECT_TRUE(decide_rebalance(measured(four_nodes(), ws), ws, state, at(30s), options).empty());
}

TEST(Rebalance, NodesThatFillUpSendNewWorkloadsElsewhere) {
    PlacementHost host = four_nodes();
    RebalanceState state;
    std::vector<ManagedWorkload> ws;
    // Workloads of 300 MiB arrive one after another, their pages spread over the
    // host (no home yet); a 1 GiB node takes three of them, never a fourth.
    for (int pid = 1; pid <= 12; ++pid) {
        ws.push_back(workload(pid, 0.2, {{0, 75 * MiB}, {1, 75 * MiB}, {2, 75 * MiB}, {3, 75 * MiB}}));
        std::vector<ManagedWorkload> fresh = {ws.back()};
        auto d = decide_rebalance(measured(host, ws), fresh, state, at(std::chrono::seconds(pid)));
        ASSERT_EQ(count(d, RebalanceAction::place), 1) << "workload " << pid;
        ASSERT_EQ(d[0].to.count(), 1) << "workload " << pid;
        int node = *d[0].to.begin();
        ws.back().nodes = d[0].to;
        ws.back().memory_bytes_per_node = {{node, 300 * MiB}};  // the daemon moved it home
    }
    std::map<int, std::uint64_t> per_node;
    for (const ManagedWorkload& w : ws) per_node[*w.nodes.begin()] += 300 * MiB;
    for (const auto& [node, bytes] : per_node) EXPECT_EQ(bytes, 900 * MiB) << "node " << node;
    EXPECT_EQ(per_node.size(), 4U);

    // The host is full: a 13th does not fit on one node and is not put on a full one.
    ws.push_back(workload(13, 0.2, {{0, 50 * MiB}, {1, 50 * MiB}, {2, 50 * MiB}, {3, 50 * MiB}}));
    std::vector<ManagedWorkload> fresh = {ws.back()};
    auto d = decide_rebalance(measured(host, ws), fresh, state, at(20s));
    for (const auto& x : d) EXPECT_GE(x.to.count(), 2) << x.reason;
}

// Two workloads with the same pages per node, named a step apart: the first is
// placed, and its pages have not moved yet when the second comes. The nodes each
// was given.
std::pair<NodeSet, NodeSet> placed_one_after_the_other(const PlacementHost& host,
                                                       const std::map<int, std::uint64_t>& pages) {
    RebalanceState state;
    std::vector<ManagedWorkload> ws = {workload(1, 1.0, pages)};
    auto first = decide_rebalance(measured(host, ws), ws, state, at(1s));
    EXPECT_EQ(count(first, RebalanceAction::place), 1);
    if (first.empty()) return {};
    ws[0].nodes = first[0].to;
    ws.push_back(workload(2, 1.0, pages));
    auto second = decide_rebalance(measured(host, ws), ws, state, at(2s));
    EXPECT_EQ(count(second, RebalanceAction::place), 1);
    if (second.empty()) return {first[0].to, {}};
    return {first[0].to, second[0].to};
}

TEST(Rebalance, MemoryStillOnItsWayHomeIsSpokenFor) {
    // Two workloads of 600 MiB, pages spread over the 4 nodes. The first's node's
    // measured free memory (1 GiB - 300 MiB) would take the second, but 450 MiB of
    // the first are still to come: 1.2 GiB on a 1 GiB node.
    auto [first, second] = placed_one_after_the_other(
        four_nodes(), {{0, 150 * MiB}, {1, 150 * MiB}, {2, 150 * MiB}, {3, 150 * MiB}});
    EXPECT_NE(second, first);
    EXPECT_FALSE(second.empty());
}

// A CPU-less node in the same tier as the others (Debian 12's kernel without HMAT)
// is only a farther node: the daemon brings its pages home, so its free memory is
// no room for a home. Two 400 MiB workloads on 768 MiB nodes go to two nodes.
TEST(Rebalance, ACpuLessNodeOfTheSameTierIsNoRoomForAHome) {
    auto t = synthetic_topology("nodes=3,cores=2,mem=768M,slow=768M");
    ASSERT_TRUE(t);
    for (Node& n : t->nodes) n.memory_tier = 4;  // one tier
    ASSERT_FALSE(t->node(3)->has_cpus());
    auto [first, second] = placed_one_after_the_other(
        make_placement_host(*t), {{0, 100 * MiB}, {1, 100 * MiB}, {2, 100 * MiB}, {3, 100 * MiB}});
    EXPECT_NE(second, first);
    EXPECT_FALSE(second.empty());
    EXPECT_FALSE(second.contains(3));
}

TEST(Rebalance, OverloadedNodeMovesOneWorkloadTheCheapest) {
    // Two workloads on node 0 (2 CPUs) using 2 CPUs each: load 2.0.
    std::vector<ManagedWorkload> ws = {workload(1, 2.0, {{0, 400 * MiB}}, NodeSet{0}),
                                       workload(2, 2.0, {{0, 100 * MiB}}, NodeSet{0})};
    RebalanceState state;
    RebalanceOptions options;
    // Before the overload lasted overload_after: nothing moves (hysteresis).
    EXPECT_EQ(count(decide_rebalance(measured(four_nodes(), ws), ws, state, at(100s), options), RebalanceAction::move), 0);
    EXPECT_EQ(count(decide_rebalance(measured(four_nodes(), ws), ws, state, at(103s), options), RebalanceAction::move), 0);
    auto d = decide_rebalance(measured(four_nodes(), ws), ws, state, at(105s), options);
    ASSERT_EQ(count(d, RebalanceAction::move), 1);
    const RebalanceDecision& move = *std::ranges::find_if(d, [](const auto& x) { return x.action == RebalanceAction::move; });
    EXPECT_EQ(move.pid, 2);  // same relief, less memory to move
    EXPECT_FALSE(move.to.contains(0));
    EXPECT_EQ(move.bytes, 100 * MiB);
    EXPECT_NE(move.reason.find("node 0 overloaded"), std::string::npos) << move.reason;
}

TEST(Rebalance, AWidenedWorkloadMayLeaveANodeThatStaysOverloadedAnIdleOneNever) {
    // Node 0 (2 CPUs) carries a widened workload using a CPU, an idle one, and 3 CPUs
    // of other work: it stays overloaded.
    std::vector<ManagedWorkload> ws = {workload(1, 1.0, {{0, 100 * MiB}}, NodeSet{0}),
                                       workload(2, 0.0, {{0, 10 * MiB}}, NodeSet{0})};
    ws[0].widened = true;
    PlacementHost host = measured(four_nodes(), ws);
    host.vcpus_per_node[0] += 3;
    RebalanceState state;
    RebalanceOptions options;
    options.overload_after = 0s;
    auto d = decide_rebalance(host, ws, state, at(100s), options);
    ASSERT_EQ(count(d, RebalanceAction::move), 1);
    EXPECT_EQ(std::ranges::find_if(d, [](const auto& x) { return x.action == RebalanceAction::move; })->pid, 1);
}

TEST(Rebalance, ABriefSpikeMovesNothing) {
    std::vector<ManagedWorkload> ws = {workload(1, 2.0, {{0, 100 * MiB}}, NodeSet{0}),
                                       workload(2, 2.0, {{0, 100 * MiB}}, NodeSet{0})};
    RebalanceState state;
    decide_rebalance(measured(four_nodes(), ws), ws, state, at(100s));
    ws[0].cpus_used = 1.0;  // the spike ends before overload_after: load 1.0
    ws[1].cpus_used = 0.1;
    decide_rebalance(measured(four_nodes(), ws), ws, state, at(102s));
    ws[0].cpus_used = 2.0;  // and a new one starts: its own overload_after
    ws[1].cpus_used = 2.0;
    EXPECT_EQ(count(decide_rebalance(measured(four_nodes(), ws), ws, state, at(106s)), RebalanceAction::move), 0);
}

TEST(Rebalance, NoWorkloadMovesTwiceWithinItsResidency) {
    // Every node busy: wherever a workload goes, the node stays overloaded.
    PlacementHost host = four_nodes();
    std::vector<ManagedWorkload> ws;
    for (int pid = 1; pid <= 8; ++pid) ws.push_back(workload(pid, 2.0, {{(pid - 1) % 4, 50 * MiB}}, NodeSet{(pid - 1) % 4}));
    RebalanceState state;
    RebalanceOptions options;
    std::map<int, std::vector<int>> moves;  // pid -> seconds it moved at
    for (int s = 0; s < 600; ++s) {
        auto d = decide_rebalance(measured(host, ws), ws, state, at(std::chrono::seconds(s)), options);
        for (const auto& x : d)
            if (x.action == RebalanceAction::move) moves[x.pid].push_back(s);
        carry_out(ws, d);
    }
    for (const auto& [pid, times] : moves)
        for (std::size_t i = 1; i < times.size(); ++i)
            EXPECT_GE(times[i] - times[i - 1], options.min_residency.count()) << "pid " << pid;
}

TEST(Rebalance, WidenedWorkloadsMemoryStaysPut) {
    std::vector<ManagedWorkload> ws = {workload(1, 1.0, {{1, 100 * MiB}, {2, 100 * MiB}}, NodeSet{1})};
    ws[0].widened = true;
    RebalanceState state;
    EXPECT_EQ(count(decide_rebalance(measured(four_nodes(), ws), ws, state, at(0s)), RebalanceAction::move_memory), 0);
    ws[0].widened = false;
    EXPECT_EQ(count(decide_rebalance(measured(four_nodes(), ws), ws, state, at(1s)), RebalanceAction::move_memory), 1);
}

TEST(Rebalance, StraysAfterHomeWaitForTheCooldown) {
    std::vector<ManagedWorkload> ws = {workload(1, 1.0, {{1, 100 * MiB}}, NodeSet{1})};
    RebalanceState state;
    RebalanceOptions options;
    EXPECT_TRUE(decide_rebalance(measured(four_nodes(), ws), ws, state, at(0s), options).empty());
    ws[0].memory_bytes_per_node[2] = 20 * MiB;  // new pages landed elsewhere
    EXPECT_TRUE(decide_rebalance(measured(four_nodes(), ws), ws, state, at(10s), options).empty());
    EXPECT_EQ(count(decide_rebalance(measured(four_nodes(), ws), ws, state, at(30s), options), RebalanceAction::move_memory), 1);
}

TEST(Rebalance, BudgetBoundsTheBytesMovedPerSecond) {
    std::vector<ManagedWorkload> ws;
    for (int pid = 1; pid <= 4; ++pid) ws.push_back(workload(pid, 0.5, {{0, 300 * MiB}}, NodeSet{pid % 4 == 0 ? 1 : pid % 4}));
    RebalanceState state;
    RebalanceOptions options;
    options.budget_burst_bytes = 128 * MiB;
    options.budget_bytes_per_second = 64 * MiB;
    std::uint64_t moved = 0;
    for (int s = 0; s <= 10; ++s) {
        auto d = decide_rebalance(measured(four_nodes(), ws), ws, state, at(std::chrono::seconds(s)), options);
        for (const auto& x : d) moved += x.bytes;
        carry_out(ws, d);
    }
    EXPECT_LE(moved, 128 * MiB + 10 * 64 * MiB);
    EXPECT_GE(moved, 10 * 64 * MiB);  // and the budget is used
}

TEST(Rebalance, AWorkloadThatKeepsGrowing) {
    std::vector<ManagedWorkload> ws = {workload(1, 1.0, {{1, 200 * MiB}})};
    RebalanceState state;
    RebalanceOptions options;
    auto d = decide_rebalance(measured(four_nodes(), ws), ws, state, at(0s), options);
    ASSERT_EQ(count(d, RebalanceAction::place), 1);
    carry_out(ws, d);
    ASSERT_EQ(ws[0].nodes, NodeSet{1});
    // It grows by 20 MiB a second; node 1 (1 GiB) fills and the kernel puts the new
    // pages on node 0.
    std::vector<int> moves;
    for (int s = 1; s <= 150; ++s) {
        std::uint64_t total = (200 + 20 * static_cast<std::uint64_t>(s)) * MiB;
        std::uint64_t home_room = 1000 * MiB;
        std::uint64_t on_home = std::min(total, home_room);
        if (ws[0].nodes.count() == 1) {
            ws[0].memory_bytes_per_node = {{1, on_home}, {0, total - on_home}};
        } else {
            ws[0].memory_bytes_per_node.clear();
            for (int node : ws[0].nodes) ws[0].memory_bytes_per_node[node] = total / ws[0].nodes.count();
        }
        auto step = decide_rebalance(measured(four_nodes(), ws), ws, state, at(std::chrono::seconds(s)), options);
        for (const auto& x : step)
            if (x.action == RebalanceAction::move) {
                moves.push_back(s);
                EXPECT_NE(x.reason.find("outgrew"), std::string::npos) << x.reason;
                EXPECT_GE(x.to.count(), 2);
            }
        carry_out(ws, step);
    }
    ASSERT_FALSE(moves.empty()) << "it never got more nodes";
    EXPECT_GE(moves.front(), 60);  // not before its residency
    for (std::size_t i = 1; i < moves.size(); ++i) EXPECT_GE(moves[i] - moves[i - 1], 60);
}

// The daemon's rules plan with the tiered planner: a CPU-less node is never a home,
// memory goes to the top tier first, and memory on a home's own CPU-less node is home.
TEST(RebalanceTiered, ACpuLessNodeIsNeverAHome) {
    // All of its memory on the CPU-less node 3: follow-memory would pick node 3 if
    // it could be a home; it goes to node 3's socket, node 1, and nothing moves.
    std::vector<ManagedWorkload> ws = {workload(10, 2.0, {{3, 512 * MiB}})};
    RebalanceState state;
    auto d = decide_rebalance(measured(tiered(), ws), ws, state, at(0s));
    ASSERT_EQ(d.size(), 1U);
    EXPECT_EQ(d[0].action, RebalanceAction::place);
    EXPECT_EQ(d[0].to, NodeSet{1});
    EXPECT_EQ(d[0].memory_nodes, (NodeSet{1, 3}));
    EXPECT_EQ(d[0].bytes, 0U);  // on its socket's slow node: home
    carry_out(ws, d);
    for (int s = 1; s < 5; ++s)
        EXPECT_TRUE(decide_rebalance(measured(tiered(), ws), ws, state, at(std::chrono::seconds(s))).empty());
}

TEST(RebalanceTiered, TopOnlyBringsMemoryUpFromTheSlowNode) {
    // The same workload under a rule with memory_tier = "top": the slow node is not
    // home, and its pages move to node 1.
    std::vector<ManagedWorkload> ws = {workload(10, 2.0, {{1, 256 * MiB}, {3, 256 * MiB}})};
    ws[0].memory_tier = MemoryTierUse::top_only;
    RebalanceState state;
    auto d = decide_rebalance(measured(tiered(), ws), ws, state, at(0s));
    ASSERT_EQ(d.size(), 1U);
    EXPECT_EQ(d[0].to, NodeSet{1});
    EXPECT_EQ(d[0].memory_nodes, NodeSet{1});
    EXPECT_EQ(d[0].bytes, 256 * MiB);
    carry_out(ws, d);
    auto step = decide_rebalance(measured(tiered(), ws), ws, state, at(1s));
    ASSERT_EQ(step.size(), 1U);
    EXPECT_EQ(step[0].action, RebalanceAction::move_memory);
    EXPECT_EQ(step[0].from, NodeSet{3});
    EXPECT_EQ(step[0].to, NodeSet{1});
}

TEST(RebalanceTiered, MemoryOnAnotherSocketsSlowNodeMoves) {
    // Placed on node 0 with part of its memory on node 3 (node 1's slow node): that
    // part is not home; it moves to node 0, never to node 2.
    std::vector<ManagedWorkload> ws = {workload(10, 2.0, {{0, 512 * MiB}, {3, 128 * MiB}}, NodeSet{0})};
    RebalanceState state;
    auto d = decide_rebalance(measured(tiered(), ws), ws, state, at(0s));
    ASSERT_EQ(d.size(), 1U);
    EXPECT_EQ(d[0].action, RebalanceAction::move_memory);
    EXPECT_EQ(d[0].from, NodeSet{3});
    EXPECT_EQ(d[0].to, NodeSet{0});
    EXPECT_EQ(d[0].memory_nodes, (NodeSet{0, 2}));
    EXPECT_EQ(d[0].bytes, 64 * MiB);  // one chunk
}

TEST(RebalanceTiered, LargerThanTheTopTier) {
    // 6G on a socket of 4G: top first (the default) places it on one socket with its
    // slow node; top only spreads it over both sockets' fast memory.
    std::vector<ManagedWorkload> ws = {workload(10, 2.0, {{0, 3 * GiB}, {2, 3 * GiB}})};
    RebalanceState any_state;
    auto any = decide_rebalance(measured(tiered(), ws), ws, any_state, at(0s));
    ASSERT_EQ(any.size(), 1U);
    EXPECT_EQ(any[0].to, NodeSet{0});
    EXPECT_EQ(any[0].memory_nodes, (NodeSet{0, 2}));
    EXPECT_EQ(any[0].bytes, 0U);
    ws[0].memory_tier = MemoryTierUse::top_only;
    RebalanceState top_state;
    auto top = decide_rebalance(measured(tiered(), ws), ws, top_state, at(0s));
    ASSERT_EQ(top.size(), 1U);
    EXPECT_EQ(top[0].to, (NodeSet{0, 1}));
    EXPECT_EQ(top[0].memory_nodes, (NodeSet{0, 1}));
}

}  // namespace
}  // namespace affine
