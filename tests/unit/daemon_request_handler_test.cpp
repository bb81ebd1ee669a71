// The control socket's requests as the daemon answers them, with made-up peer
// credentials: bad and oversized lines, a peer without the right, status, reload.
#include <gtest/gtest.h>

#include "daemon/request_handler.hpp"
#include "daemon_fixture.hpp"

namespace affine::daemon {
namespace {

using testing::DaemonWorld;

struct Handler {
    DaemonWorld world;
    SoftManager manager = world.manager();
    DaemonConfig config;
    int reloads = 0;
    RequestContext context{manager, config, 42, 0, [] { return DaemonWorld::at(0); },
                           [this]() -> Result<void> {
                               ++reloads;
                               return {};
                           },
                           nullptr, {}};
    Handler() {
        config.max_request_bytes = 256;
        context.fs = &world.fs;
    }
    detail::Json ask(const std::string& line, const protocol::PeerCredentials& peer = testing::user_peer) {
        return detail::Json::parse(handle_request(line, peer, context));
    }
};

TEST(RequestHandler, BadAndOversizedRequestsAreRefused) {
    Handler h;
    auto bad = h.ask("{\"op\":\"set-soft\",");
    EXPECT_EQ(bad["ok"], false);
    EXPECT_EQ(bad["kind"], "usage");
    EXPECT_EQ(bad["error"], "request is not JSON");
    auto big = h.ask("{\"op\":\"status\",\"pad\":\"" + std::string(300, 'x') + "\"}");
    EXPECT_EQ(big["error"], "request longer than 256 bytes");
    EXPECT_EQ(h.ask("{\"op\":\"set-soft\",\"ids\":[-4],\"cpus\":\"0\"}")["error"],
              "request: ids[0]: must be at least 1");
}

TEST(RequestHandler, APeerWithoutTheRightIsRefused) {
    Handler h;
    h.world.process(100, {100}, /*uid=*/0);
    auto r = h.ask("{\"op\":\"set-soft\",\"ids\":[100],\"cpus\":\"0\"}");
    EXPECT_EQ(r["ok"], false);
    EXPECT_EQ(r["kind"], "failed");
    EXPECT_EQ(r["errno"], EPERM);
    EXPECT_EQ(h.world.sys.masks[100], (CpuSet{0, 1}));
    EXPECT_EQ(h.ask("{\"op\":\"reload\"}")["errno"], EPERM);
    EXPECT_EQ(h.reloads, 0);
    EXPECT_EQ(h.ask("{\"op\":\"reload\"}", {1, 0, 0, true})["ok"], true);
    EXPECT_EQ(h.reloads, 1);
}

TEST(RequestHandler, SetThenStatusAndShow) {
    Handler h;
    h.world.process(100, {100, 101});
    auto set = h.ask("{\"op\":\"set-soft\",\"ids\":[100],\"cpus\":\"0\",\"all_threads\":true}");
    ASSERT_EQ(set["ok"], true) << set.dump();
    auto status = h.ask("{\"op\":\"status\"}");
    ASSERT_EQ(status["ok"], true);
    auto s = protocol::daemon_status_from_json(status["status"]);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->daemon_pid, 42);
    ASSERT_EQ(s->workloads.size(), 1U);
    EXPECT_EQ(s->workloads[0].threads.size(), 2U);
    EXPECT_EQ(s->workloads[0].threads[0].applied, CpuSet{0});
    auto show = h.ask("{\"op\":\"show\",\"ids\":[101]}");
    EXPECT_EQ(show["workloads"][0]["pid"], 100);
    EXPECT_TRUE(h.ask("{\"op\":\"show\",\"ids\":[999]}")["workloads"].empty());
}


TEST(RequestHandler, EachUserSeesOnlyTheirOwnWorkloads) {
    Handler h;
    h.world.process(100, {100}, /*uid=*/1000);
    h.world.process(200, {200}, /*uid=*/2000, 6000);
    const protocol::PeerCredentials root{1, 0, 0, true, true};
    ASSERT_EQ(h.ask("{\"op\":\"set-soft\",\"ids\":[100],\"cpus\":\"0\"}", root)["ok"], true);
    ASSERT_EQ(h.ask("{\"op\":\"set-soft\",\"ids\":[200],\"cpus\":\"0\"}", root)["ok"], true);
    auto mine = protocol::daemon_status_from_json(h.ask("{\"op\":\"status\"}")["status"]);
    ASSERT_TRUE(mine);
    ASSERT_EQ(mine->workloads.size(), 1U);
    EXPECT_EQ(mine->workloads[0].pid, 100);
    EXPECT_EQ(mine->other_users_workloads, 1);
    auto all = protocol::daemon_status_from_json(h.ask("{\"op\":\"status\"}", root)["status"]);
    EXPECT_EQ(all->workloads.size(), 2U);
    EXPECT_EQ(all->other_users_workloads, 0);
    const protocol::PeerCredentials tracer{7, 3000, 3000, false, true};  // CAP_SYS_PTRACE
    EXPECT_EQ(protocol::daemon_status_from_json(h.ask("{\"op\":\"status\"}", tracer)["status"])->workloads.size(), 2U);
    auto other = h.ask("{\"op\":\"show\",\"ids\":[200]}");
    EXPECT_EQ(other["ok"], false);
    EXPECT_EQ(other["errno"], EPERM);
    EXPECT_EQ(other["error"], "uid 1000 may not see pid 200, which belongs to uid 2000 (root or CAP_SYS_PTRACE may, as "
                              "for `affine show`)");
    EXPECT_EQ(h.ask("{\"op\":\"show\",\"ids\":[100]}")["workloads"][0]["pid"], 100);
}

TEST(RequestHandler, PerUserLimitsRefuseAndChangeNothing) {
    Handler h;
    h.config.max_workloads_per_user = 1;
    h.config.max_threads_per_user = 3;
    h.world.process(100, {100, 101});
    h.world.process(200, {200}, 1000, 6000);
    h.world.process(300, {300, 301, 302, 303}, 1000, 7000);
    ASSERT_EQ(h.ask("{\"op\":\"set-soft\",\"ids\":[100],\"cpus\":\"0\",\"all_threads\":true}")["ok"], true);
    auto second = h.ask("{\"op\":\"set-soft\",\"ids\":[200],\"cpus\":\"0\"}");
    EXPECT_EQ(second["ok"], false);
    EXPECT_EQ(second["errno"], EAGAIN);
    EXPECT_EQ(second["error"], "uid 1000 has 1 workload managed by the daemon; 1 more would pass the limit of 1 per "
                               "user (max_workloads_per_user)");
    EXPECT_EQ(h.world.sys.masks[200], (CpuSet{0, 1}));
    // Changing a request it has already is no new workload.
    EXPECT_EQ(h.ask("{\"op\":\"set-soft\",\"ids\":[100],\"cpus\":\"1\",\"all_threads\":true}")["ok"], true);
    h.config.max_workloads_per_user = 5;
    auto threads = h.ask("{\"op\":\"set-soft\",\"ids\":[300],\"cpus\":\"0\",\"all_threads\":true}");
    EXPECT_EQ(threads["ok"], false);
    EXPECT_EQ(threads["error"], "uid 1000 has 2 threads managed by the daemon; 4 more would pass the limit of 3 per "
                                "user (max_threads_per_user)");
    EXPECT_EQ(h.world.sys.masks[300], (CpuSet{0, 1}));
    // Root is not counted.
    EXPECT_EQ(h.ask("{\"op\":\"set-soft\",\"ids\":[300],\"cpus\":\"0\",\"all_threads\":true}",
                    {1, 0, 0, true, true})["ok"],
              true);
}

TEST(RequestHandler, UntrustedNamesReachTheAnswerAsSafeText) {
    Handler h;
    h.world.tree.add_task(100, 100, "\xff\xfe", 0x400000, 5000, 0, 1000);
    h.world.sys.masks[100] = CpuSet{0, 1};
    ASSERT_EQ(h.ask("{\"op\":\"set-soft\",\"ids\":[100],\"cpus\":\"0\"}")["ok"], true);
    auto status = h.ask("{\"op\":\"status\"}");
    ASSERT_EQ(status["ok"], true);
    EXPECT_EQ(status["status"]["workloads"][0]["command"], "\\xff\\xfe");
}

}  // namespace
}  // namespace affine::daemon
