// The daemon's placement loop over a made-up procfs and fake system calls: a
// workload a rule names is placed (soft affinity through the SoftManager, origin
// "rule 'NAME'") and its memory follows in bounded steps; one no rule names, an
// excluded one, one someone pinned and pid 1 are untouched; a node that is full
// sends a workload elsewhere; a workload that outgrows its node is re-placed; a
// process whose start no event reported is found by the scan that lost events
// trigger; a workload someone else re-pins is released and never taken again.
#include <gtest/gtest.h>

#include "affine/size.hpp"
#include "daemon/placement_manager.hpp"
#include "daemon_fixture.hpp"

namespace affine::daemon {
namespace {

using testing::DaemonWorld;
using namespace std::chrono_literals;

constexpr std::uint64_t page = 4096;
constexpr std::uint64_t MiB = std::uint64_t{1} << 20;
constexpr std::uint64_t base = 0x7f0000000000;

struct PlacementWorld : DaemonWorld {
    SoftManager soft = manager();
    PlacementManager placement;
    CpuLoad idle{{0.0, 0.0}};

    RebalanceOptions options = small_steps();

    PlacementWorld() : placement(env, soft, [this](const std::string& l) { log.push_back(l); }) {
        sys.pid = 999;  // the daemon
        sys.moved = [this](int pid) { sync(pid); };
        node_free(0, 4096 * MiB);
        node_free(1, 4096 * MiB);
    }
    static RebalanceOptions small_steps() {
        RebalanceOptions o;
        o.chunk_bytes = 4 * MiB;
        o.min_residency = 0s;
        o.overload_after = 0s;
        return o;
    }
    void rules(std::vector<std::string> comm, std::vector<std::string> exclude = {}) {
        PlacementRules r;
        PlacementRule rule;
        rule.name = "db";
        rule.match.comm = std::move(comm);
        r.rules.push_back(rule);
        r.exclude.comm = std::move(exclude);
        placement.configure(r, {}, Millis{500}, options);
    }
    void node_free(int node, std::uint64_t bytes) const {
        tree.write(fmt::format("/sys/devices/system/node/node{}/meminfo", node),
                   fmt::format("Node {} MemTotal: {} kB\nNode {} MemFree: {} kB\nNode {} Inactive(file): 0 kB\n", node,
                               4096 * 1024, node, bytes / 1024, node));
    }
    // A process with one thread, its pages on nodes as given (MiB per node), its
    // mask `mask`, and its CPU time so far.
    void start(int pid, const std::string& comm, std::map<int, std::uint64_t> mib_per_node, CpuSet mask = {0, 1},
               unsigned long flags = 0x400000, std::uint64_t utime = 0) {
        tree.add_task(pid, pid, comm, flags, 5000);
        sys.masks[pid] = mask;
        memory(pid, comm, std::move(mib_per_node), flags, utime);
    }
    // Its pages now (it grew, or something moved them).
    void memory(int pid, const std::string& comm, std::map<int, std::uint64_t> mib_per_node,
                unsigned long flags = 0x400000, std::uint64_t utime = 0) {
        auto& pages = sys.pages[pid];
        pages.clear();
        std::uint64_t address = base;
        for (auto [node, mib] : mib_per_node)
            for (std::uint64_t i = 0; i < mib * MiB / page; ++i, address += page) pages[address] = node;
        tree.write(fmt::format("/proc/{}/maps", pid),
                   fmt::format("{:x}-{:x} rw-p 00000000 00:00 0 \n", base, address));
        tree.write(fmt::format("/proc/{}/task/{}/cgroup", pid, pid), "0::/system.slice/db.service\n");
        stat(pid, comm, flags, utime);
        sync(pid);
    }
    void stat(int pid, const std::string& comm, unsigned long flags, std::uint64_t utime) const {
        std::uint64_t rss = sys.pages.contains(pid) ? sys.pages.at(pid).size() : 0;
        std::string line = fmt::format("{} ({}) S 1 {} {} 0 -1 {} 0 0 0 0 {} 0 0 0 20 0 1 0 5000 100 {} 0 0 0 0 0 0 0 "
                                       "0 0 0 0 0 0 17 0 0 0 0 0 0",
                                       pid, comm, pid, pid, flags, utime, rss);
        tree.write(fmt::format("/proc/{}/stat", pid), line);
        tree.write(fmt::format("/proc/{}/task/{}/stat", pid, pid), line);
    }
    // numa_maps from where the fake's pages are now.
    void sync(int pid) const {
        std::map<int, std::uint64_t> count;
        for (auto [address, node] : sys.pages.at(pid)) ++count[node];
        std::string line = fmt::format("{:x} default anon={}", base, sys.pages.at(pid).size());
        for (auto [node, n] : count) line += fmt::format(" N{}={}", node, n);
        tree.write(fmt::format("/proc/{}/numa_maps", pid), line + " kernelpagesize_kB=4\n");
    }
    // migrate_pages moves every page on its `from` nodes to the first of `to`.
    void migrate_moves_all() {
        sys.migrate = [this](int pid, const NodeSet& from, const NodeSet& to) -> long {
            for (auto& [address, node] : sys.pages[pid])
                if (from.contains(node)) node = *to.begin();
            sync(pid);
            return 0;
        };
    }
    std::uint64_t pages_on(int pid, int node) const {
        std::uint64_t n = 0;
        for (auto [address, where] : sys.pages.at(pid)) n += where == node ? 1 : 0;
        return n;
    }
    void tick(long long ms, const CpuLoad& load = CpuLoad{{0.0, 0.0}}, const std::vector<double>& waiting = {}) {
        for (const auto& [pid, pages] : sys.pages)
            if (tree.read(fmt::format("/proc/{}/stat", pid)) != "") sync(pid);
        soft.tick(at(ms), load);
        placement.tick(at(ms), load, waiting);
    }
};

TEST(PlacementManager, NothingIsPlacedWithoutARule) {
    PlacementWorld w;
    w.start(100, "db", {{1, 16}});
    w.tick(1000);
    w.tick(2000);
    EXPECT_EQ(w.sys.set_calls, 0);
    EXPECT_EQ(w.sys.move_pages_calls, 0);
    EXPECT_TRUE(w.placement.status().empty());
}

TEST(PlacementManager, AWorkloadARuleNamesIsPlacedWhereItsMemoryIs) {
    PlacementWorld w;
    w.rules({"db"});
    w.start(100, "db", {{1, 16}});
    w.tick(1000);
    EXPECT_EQ(w.sys.masks[100], CpuSet{1});
    const Workload* managed = w.soft.find(100);
    ASSERT_NE(managed, nullptr);
    EXPECT_EQ(managed->origin, "rule 'db'");
    auto status = w.placement.status();
    ASSERT_EQ(status.size(), 1U);
    EXPECT_EQ(status[0].nodes, NodeSet{1});
    EXPECT_EQ(status[0].rule, "db");
    EXPECT_NE(status[0].reason.find("rule 'db' names db (pid 100): placed on node 1"), std::string::npos);
    EXPECT_TRUE(w.logged("place pid 100: rule 'db' names db (pid 100)"));
    ASSERT_FALSE(w.placement.events().empty());
    // Its memory is home already: nothing moves.
    w.tick(1500);
    EXPECT_EQ(w.pages_on(100, 1), 16 * MiB / page);
}

// A workload "db" that a rule places: 12M on a nearly full node 0 and 4M on node 1
// (which has the memory the planner needs).
void start_db_outside(PlacementWorld& w) {
    w.rules({"db"});
    w.node_free(0, 1 * MiB);
    w.start(100, "db", {{0, 12}, {1, 4}});
}

TEST(PlacementManager, MemoryFollowsInBoundedSteps) {
    PlacementWorld w;
    start_db_outside(w);
    w.tick(1000);
    ASSERT_EQ(w.placement.status().at(0).nodes, NodeSet{1});
    // Each step moves at most chunk_bytes (4 MiB).
    w.tick(1500);
    EXPECT_EQ(w.pages_on(100, 1), 8 * MiB / page);
    w.tick(2000);
    EXPECT_EQ(w.pages_on(100, 1), 12 * MiB / page);
    for (int i = 0; i < 4; ++i) w.tick(2500 + 500 * i);
    EXPECT_EQ(w.pages_on(100, 1), 16 * MiB / page);
    EXPECT_EQ(w.placement.status().at(0).moved_bytes, 12 * MiB);
    EXPECT_TRUE(w.logged("move-memory pid 100"));
}

// start_db_outside, its pages on node 0 the ones NUMA balancing has marked: move_pages
// reports them absent, migrate_pages moves them.
void start_db_with_hidden_pages(PlacementWorld& w) {
    start_db_outside(w);
    for (auto [address, node] : w.sys.pages[100])
        if (node == 0) w.sys.hidden_pages.insert(address);
}

TEST(PlacementManager, PagesMovePagesCannotSeeMoveWithMigratePages) {
    PlacementWorld w;
    start_db_with_hidden_pages(w);
    w.migrate_moves_all();
    w.tick(1000);
    ASSERT_EQ(w.placement.status().at(0).nodes, NodeSet{1});
    w.tick(1500);
    EXPECT_EQ(w.pages_on(100, 1), 16 * MiB / page);
    ASSERT_EQ(w.sys.migrations.size(), 1U);
    EXPECT_EQ(w.sys.migrations[0], std::make_tuple(100, NodeSet{0}, NodeSet{1}));
    EXPECT_TRUE(w.logged("move_pages saw none of it (pages NUMA balancing marked); migrate_pages moved 12M from "
                         "node 0 to node 1"));
    EXPECT_EQ(w.placement.status().at(0).moved_bytes, 12 * MiB);
    for (int i = 0; i < 4; ++i) w.tick(2000 + 500 * i);
    EXPECT_EQ(w.sys.migrations.size(), 1U);  // home: nothing more
}

TEST(PlacementManager, PagesHiddenAgainMoveAtTheNextScanNotACooldownLater) {
    PlacementWorld w;
    start_db_with_hidden_pages(w);
    // Each migrate_pages gets half of what is left there: the rest was marked again
    // by NUMA balancing meanwhile.
    w.sys.migrate = [&](int pid, const NodeSet& from, const NodeSet& to) -> long {
        std::uint64_t there = 0;
        for (auto& [address, node] : w.sys.pages[pid]) there += from.contains(node) ? 1 : 0;
        std::uint64_t moving = std::max<std::uint64_t>(there / 2, 1);
        for (auto& [address, node] : w.sys.pages[pid])
            if (from.contains(node) && moving > 0) {
                node = *to.begin();
                --moving;
            }
        w.sync(pid);
        return 0;
    };
    w.tick(1000);
    w.tick(1500);
    ASSERT_EQ(w.sys.migrations.size(), 1U);
    EXPECT_EQ(w.pages_on(100, 1), 10 * MiB / page);
    w.tick(2000);
    EXPECT_EQ(w.sys.migrations.size(), 2U);  // not memory_cooldown (30 s) later
    EXPECT_EQ(w.pages_on(100, 1), 13 * MiB / page);
}

// A scan that sees only a little of what numa_maps counts outside moves the rest
// with migrate_pages at its end: the few pages it sees do not hold back the many it
// cannot.
TEST(PlacementManager, MostlyHiddenPagesMoveWithMigratePagesAtTheEndOfTheFirstScan) {
    PlacementWorld w;
    start_db_with_hidden_pages(w);
    w.sys.hidden_pages.erase(base);  // one page of node 0 is visible
    w.migrate_moves_all();
    w.tick(1000);
    ASSERT_EQ(w.placement.status().at(0).nodes, NodeSet{1});
    w.tick(1500);
    ASSERT_EQ(w.sys.migrations.size(), 1U);
    EXPECT_EQ(w.pages_on(100, 1), 16 * MiB / page);
    EXPECT_TRUE(w.logged("move_pages saw only 4K of it (pages NUMA balancing marked); migrate_pages moved"));
}

// The kernel moves a transparent huge page whole for one address, and move_pages
// reports that one address: what moved is counted from numa_maps (status, log and
// the move budget).
TEST(PlacementManager, HugePagesCountAsWhatCameHome) {
    PlacementWorld w;
    w.sys.huge_page_bytes = 2 * MiB;
    start_db_outside(w);
    w.tick(1000);
    ASSERT_EQ(w.placement.status().at(0).nodes, NodeSet{1});
    w.tick(1500);
    std::uint64_t home = w.pages_on(100, 1) * page;
    EXPECT_GT(home, 4 * MiB);
    EXPECT_EQ(w.placement.status().at(0).moved_bytes, home - 4 * MiB);
    EXPECT_TRUE(w.sys.migrations.empty());  // what moved was seen: nothing is hidden
    EXPECT_TRUE(w.logged(fmt::format("moved {} to node 1", format_size(home - 4 * MiB))));
}

TEST(PlacementManager, NonMatchingExcludedPinnedAndPidOneAreUntouched) {
    PlacementWorld w;
    w.rules({"db", "db-backup"}, {"db-backup"});
    w.start(100, "other", {{0, 16}});
    w.start(101, "db-backup", {{0, 16}});  // the rule names it, the global exclusion wins
    w.tick(1000);
    w.start(103, "db", {{0, 16}}, CpuSet{0});  // someone pinned it to CPU 0 (its cpuset allows 0-1)
    w.start(1, "db", {{0, 16}});
    w.start(104, "db", {{0, 16}}, CpuSet{0, 1}, 0x00200000);  // a kernel thread named db
    w.tick(2000);
    w.tick(62000);  // the full refresh looks at everything again
    EXPECT_EQ(w.sys.set_calls, 0);
    EXPECT_EQ(w.sys.move_pages_calls, 0);
    EXPECT_TRUE(w.placement.status().empty());
    EXPECT_EQ(w.sys.masks[103], CpuSet{0});
}

TEST(PlacementManager, AUsersRequestIsNotTakenByARule) {
    PlacementWorld w;
    w.rules({"db"});
    w.start(100, "db", {{0, 16}});
    ASSERT_TRUE(w.soft.set_soft(testing::soft_request({100}, CpuSet{1}), testing::user_peer, DaemonWorld::at(500)));
    w.tick(1000);
    EXPECT_TRUE(w.placement.status().empty());
    EXPECT_EQ(w.sys.masks[100], CpuSet{1});
    EXPECT_NE(w.soft.find(100)->origin.find("pin --soft"), std::string::npos);
}

TEST(PlacementManager, AWorkloadThatOutgrowsItsNodeIsMovedWhereItFits) {
    PlacementWorld w;
    w.rules({"db"});
    w.start(100, "db", {{0, 16}});
    w.tick(1000);
    ASSERT_EQ(w.placement.status().at(0).nodes, NodeSet{0});
    // It grew: node 0 filled up and most of its pages landed on node 1.
    w.node_free(0, 0);
    w.memory(100, "db", {{0, 16}, {1, 48}});
    w.tick(2000);
    auto s = w.placement.status().at(0);
    EXPECT_EQ(s.nodes, NodeSet{1});
    EXPECT_NE(s.reason.find("outgrew node 0"), std::string::npos) << s.reason;
    EXPECT_EQ(w.sys.masks[100], CpuSet{1});
    for (int i = 0; i < 8; ++i) w.tick(2500 + 500 * i);
    EXPECT_EQ(w.pages_on(100, 1), 64 * MiB / page);
}

TEST(PlacementManager, AnOverloadedNodeSendsOneWorkloadAwayOncePerResidency) {
    PlacementWorld w;
    w.options.min_residency = 60s;
    w.rules({"db"});
    w.start(100, "db", {{0, 16}});
    w.tick(1000);
    ASSERT_EQ(w.placement.status().at(0).nodes, NodeSet{0});
    // Node 0's CPU is busy and two more tasks wait for it; node 1 idles. The
    // workload uses a CPU (an idle one would free nothing by moving).
    CpuLoad busy0{{1.0, 0.0}};
    std::vector<double> waiting0{2.0, 0.0};
    w.stat(100, "db", 0x400000, 100);
    w.tick(2000, busy0, waiting0);
    EXPECT_EQ(w.placement.status().at(0).nodes, NodeSet{0});  // placed a second ago: it stays
    w.stat(100, "db", 0x400000, 6050);
    w.tick(61000, busy0, waiting0);
    w.stat(100, "db", 0x400000, 6100);
    w.tick(61500, busy0, waiting0);
    auto s = w.placement.status().at(0);
    EXPECT_EQ(s.nodes, NodeSet{1});
    EXPECT_NE(s.reason.find("node 0 overloaded"), std::string::npos) << s.reason;
    EXPECT_EQ(w.sys.masks[100], CpuSet{1});
    for (int i = 0; i < 6; ++i) w.tick(62000 + 500 * i);
    EXPECT_EQ(w.pages_on(100, 1), 16 * MiB / page);
    // Now node 1 is overloaded: not moved again within its residency.
    CpuLoad busy1{{0.0, 1.0}};
    std::vector<double> waiting1{0.0, 2.0};
    w.tick(70000, busy1, waiting1);
    w.tick(90000, busy1, waiting1);
    EXPECT_EQ(w.placement.status().at(0).nodes, NodeSet{1});
    EXPECT_EQ(w.sys.masks[100], CpuSet{1});
}

TEST(PlacementManager, LostEventsAreCaughtUpByAScan) {
    PlacementWorld w;
    w.rules({"db"});
    w.placement.set_events(true, "process events");
    w.tick(1000);  // the first scan: nothing to place
    w.start(100, "db", {{0, 16}});  // started, but its events were lost
    w.tick(2000);
    EXPECT_TRUE(w.placement.status().empty());
    w.placement.on_events_lost();
    w.tick(2500);
    ASSERT_EQ(w.placement.status().size(), 1U);
    EXPECT_TRUE(w.logged("process events were lost"));
    // A fork event is seen at the next step, without a scan.
    w.start(200, "db", {{1, 16}});
    w.placement.on_event({linux_backend::ProcEvent::Kind::fork, 200, 200, 1});
    w.tick(3000);
    EXPECT_EQ(w.placement.status().size(), 2U);
    EXPECT_EQ(w.sys.masks[200], CpuSet{1});
}

// A process a rule names but that is too small is looked at again from its stat
// alone, and less often while it does not grow; once it is big enough it is placed
// at its next look.
TEST(PlacementManager, ATooSmallProcessCostsOneFilePerLook) {
    PlacementWorld w;
    PlacementRules r;
    PlacementRule rule;
    rule.name = "db";
    rule.match.comm = {"db"};
    rule.min_memory_bytes = 64 * MiB;
    r.rules.push_back(rule);
    w.placement.configure(r, {}, Millis{500}, w.options);
    w.placement.set_events(true, "process events");
    w.start(100, "db", {{0, 16}});
    w.tick(0);  // the first scan: a full look, too small
    EXPECT_TRUE(w.placement.status().empty());
    std::vector<std::string> paths;
    w.fs.record_reads(&paths);
    int looks = 0;
    for (long long ms = 500; ms <= 30'000; ms += 500) {
        std::size_t before = paths.size();
        w.tick(ms);
        bool looked = false;
        for (std::size_t i = before; i < paths.size(); ++i)
            if (paths[i].starts_with("/proc/100/")) {
                EXPECT_EQ(paths[i], "/proc/100/stat") << ms;  // its stat only
                looked = true;
            }
        looks += looked ? 1 : 0;
    }
    w.fs.record_reads(nullptr);
    // 2 s apart until five looks found it no bigger (2 ... 10 s), then 10 s apart
    // (20, 30 s): 7 looks in 30 s instead of 15.
    EXPECT_EQ(looks, 7);
    EXPECT_TRUE(w.placement.status().empty());
    w.memory(100, "db", {{1, 96}});  // it grew
    w.tick(40'000);
    ASSERT_EQ(w.placement.status().size(), 1U);
    EXPECT_EQ(w.sys.masks[100], CpuSet{1});
}

// The minute's full refresh (for owners and cgroups, which change without an event)
// reads one file of a process too small for every rule, named or not; a process big
// enough for some rule gets the full look, and a cgroup move is seen there.
TEST(PlacementManager, TheRefreshOfAProcessTooSmallForEveryRuleReadsOneFile) {
    PlacementWorld w;
    PlacementRules r;
    PlacementRule db;
    db.name = "db";
    db.match.comm = {"db"};
    db.min_memory_bytes = 64 * MiB;
    PlacementRule batch;
    batch.name = "batch";
    batch.match.cgroup = {"/batch.slice"};
    batch.min_memory_bytes = 24 * MiB;
    r.rules = {db, batch};
    w.placement.configure(r, {}, Millis{500}, w.options);
    w.placement.set_events(true, "process events");
    w.start(100, "db", {{0, 16}});     // named by db, too small for both rules
    w.start(200, "other", {{0, 16}});  // named by none, too small for both
    w.start(300, "job", {{0, 32}});    // named by none: big enough for batch
    w.tick(0);
    EXPECT_TRUE(w.placement.status().empty());
    w.tree.write("/proc/300/task/300/cgroup", "0::/batch.slice/job.scope\n");  // moved: no event says so
    std::vector<std::string> paths;
    w.tick(59'000);
    w.fs.record_reads(&paths);
    w.tick(61'000);  // the refresh
    w.fs.record_reads(nullptr);
    auto read_of = [&](int pid) {
        std::vector<std::string> files;
        for (const auto& p : paths)
            if (p.starts_with(fmt::format("/proc/{}/", pid))) files.push_back(p);
        return files;
    };
    EXPECT_EQ(read_of(100), std::vector<std::string>{"/proc/100/stat"});
    EXPECT_EQ(read_of(200), std::vector<std::string>{"/proc/200/task/200/stat"});
    EXPECT_GT(read_of(300).size(), 3U);
    ASSERT_EQ(w.placement.status().size(), 1U);
    EXPECT_EQ(w.placement.status()[0].pid, 300);
    // Grown past a rule's size: the next refresh takes the full look.
    w.memory(200, "other", {{0, 32}});
    w.tree.write("/proc/200/task/200/cgroup", "0::/batch.slice/other.scope\n");
    w.tick(121'000);
    EXPECT_EQ(w.placement.status().size(), 2U);
}

TEST(PlacementManager, AWorkloadSomeoneRepinsIsReleasedAndNeverTakenAgain) {
    PlacementWorld w;
    w.rules({"db"});
    w.start(100, "db", {{0, 16}});
    w.tick(1000);
    ASSERT_EQ(w.sys.masks[100], CpuSet{0});
    w.sys.masks[100] = CpuSet{1};  // taskset
    w.tick(2000);
    EXPECT_TRUE(w.placement.status().empty());
    EXPECT_TRUE(w.logged("rule 'db' leaves it alone from now on"));
    w.tick(62000);
    EXPECT_EQ(w.sys.masks[100], CpuSet{1});
    EXPECT_TRUE(w.placement.status().empty());
}

TEST(PlacementManager, AWorkloadThatExitsIsForgotten) {
    PlacementWorld w;
    w.rules({"db"});
    w.start(100, "db", {{0, 16}});
    w.tick(1000);
    ASSERT_EQ(w.placement.status().size(), 1U);
    w.tree.remove_task(100, 100);
    std::filesystem::remove_all(w.tree.root() + "/proc/100");
    w.sys.pages.erase(100);
    w.tick(2000);
    EXPECT_TRUE(w.placement.status().empty());
}

TEST(PlacementManager, AdviceComesFromTheLiveView) {
    PlacementWorld w;
    w.node_free(0, 8 * MiB);
    w.tick(1000);
    PlacementRequest r;
    r.vcpus = 1;
    r.memory_bytes = 64 * MiB;
    auto plan = w.placement.advise(r, "");
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->nodes, NodeSet{1});
    auto reserved = w.placement.advise(r, "1");
    ASSERT_TRUE(reserved);
    EXPECT_FALSE(reserved->cpus.contains(1));
    EXPECT_EQ(w.placement.advise(r, "0-1").error().kind, ErrorKind::usage);
    EXPECT_EQ(w.placement.advise(r, "7").error().kind, ErrorKind::usage);
}

TEST(PlacementManager, AdviceWithAndWithoutTheDaemonAgreeOnTheSameLoad) {
    // Two readings of the kernel's accounting 500 ms apart: CPU 0 busy with two more
    // tasks waiting on its run queue, CPU 1 idle.
    PlacementWorld w;
    w.tree.write("/proc/stat", "cpu0 100 0 0 900 0 0 0 0 0 0\ncpu1 0 0 0 1000 0 0 0 0 0 0\n");
    w.tree.write("/proc/schedstat", "cpu0 0 0 0 0 0 0 0 1000000000 0\ncpu1 0 0 0 0 0 0 0 0 0\n");
    auto stat_before = linux_backend::read_cpu_times(w.fs);
    auto delays_before = linux_backend::read_cpu_run_delays(w.fs);
    w.tree.write("/proc/stat", "cpu0 150 0 0 900 0 0 0 0 0 0\ncpu1 0 0 0 1050 0 0 0 0 0 0\n");
    w.tree.write("/proc/schedstat", "cpu0 0 0 0 0 0 0 0 2000000000 0\ncpu1 0 0 0 0 0 0 0 0 0\n");
    auto stat_after = linux_backend::read_cpu_times(w.fs);
    ASSERT_TRUE(stat_before && stat_after);
    CpuLoad load = cpu_load_between(*stat_before, *stat_after);
    auto waiting = waiting_between(delays_before, linux_backend::read_cpu_run_delays(w.fs), Millis{500});
    // The daemon: its interval's readings, its live view.
    w.tick(1000, load, waiting);
    PlacementRequest r;
    r.vcpus = 1;
    r.memory_bytes = 64 * MiB;
    auto daemon_plan = w.placement.advise(r, "");
    // numad -w without a daemon (live_host.cpp): the same readers and measure.
    std::map<int, std::uint64_t> free;
    for (const Node& node : w.host.nodes) free[node.id] = *linux_backend::node_available_bytes(w.fs, node.id);
    PlacementHost cold = measured_placement_host(w.host, free, load, waiting, {});
    EXPECT_EQ(cold.vcpus_per_node.at(0), 3);  // busy plus two waiting
    EXPECT_EQ(cold.vcpus_per_node.at(1), 0);
    auto cold_plan = plan_placement(cold, r);
    ASSERT_TRUE(daemon_plan && cold_plan);
    EXPECT_EQ(daemon_plan->nodes, cold_plan->nodes);
    EXPECT_EQ(daemon_plan->cpus, cold_plan->cpus);
    EXPECT_EQ(daemon_plan->nodes, NodeSet{1});
}

}  // namespace
}  // namespace affine::daemon
