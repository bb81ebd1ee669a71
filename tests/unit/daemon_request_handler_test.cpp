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
    Handler() { config.max_request_bytes = 256; }
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
              "\"ids\": -4 is not a process or thread id");
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

}  // namespace
}  // namespace affine::daemon
