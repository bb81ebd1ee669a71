// The plugin service of `affine nri`: every message type it is sent, answered and
// decoded back; and the socket edge against a runtime played over a socket pair.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "nri/plugin.hpp"
#include "nri/plugin_connection.hpp"
#include "nri/session.hpp"
#include "nri_api.pb.h"

namespace affine::nri {
namespace {

namespace api = ::nri::pkg::api::v1alpha1;

PlacementHost two_nodes() { return make_placement_host(*synthetic_topology("nodes=2,cores=4,mem=8G")); }

RpcRequest call(const std::string& method, const google::protobuf::MessageLite& m) {
    return {std::string(plugin_service_name), method, m.SerializeAsString(), 0};
}

api::PodSandbox pod(const std::string& name, std::map<std::string, std::string> annotations = {}) {
    api::PodSandbox p;
    p.set_id("pod-" + name);
    p.set_name(name);
    p.set_namespace_("default");
    for (auto& [k, v] : annotations) (*p.mutable_annotations())[k] = v;
    return p;
}

api::Container container(const std::string& id, int cpus, bool guaranteed) {
    api::Container c;
    c.set_id(id);
    c.set_name(id);
    c.set_pod_sandbox_id("pod-" + id);
    auto* cpu = c.mutable_linux()->mutable_resources()->mutable_cpu();
    cpu->mutable_shares()->set_value(static_cast<std::uint64_t>(cpus) * 1024);
    cpu->mutable_period()->set_value(100000);
    if (guaranteed) cpu->mutable_quota()->set_value(cpus * 100000);
    c.mutable_linux()->mutable_resources()->mutable_memory()->mutable_limit()->set_value(1 << 30);
    return c;
}

api::CreateContainerResponse create(Plugin& plugin, const api::PodSandbox& p, const api::Container& c) {
    api::CreateContainerRequest in;
    *in.mutable_pod() = p;
    *in.mutable_container() = c;
    PluginAnswer a = plugin.handle(call("CreateContainer", in));
    EXPECT_EQ(a.response.code, 0) << a.response.message;
    api::CreateContainerResponse out;
    EXPECT_TRUE(out.ParseFromString(a.response.payload));
    return out;
}

TEST(NriPlugin, ConfigureSubscribesToEventsEveryRuntimeKnows) {
    Plugin plugin(two_nodes());
    api::ConfigureRequest in;
    in.set_runtime_name("containerd");
    in.set_runtime_version("1.7.24");
    PluginAnswer a = plugin.handle(call("Configure", in));
    ASSERT_EQ(a.response.code, 0);
    api::ConfigureResponse out;
    ASSERT_TRUE(out.ParseFromString(a.response.payload));
    EXPECT_EQ(out.events(), subscribed_events());
    // NRI v0.6 refuses bits above REMOVE_CONTAINER (11).
    EXPECT_EQ(out.events() & ~((1 << 11) - 1), 0);
    EXPECT_NE(out.events() & (1 << (api::CREATE_CONTAINER - 1)), 0);
    EXPECT_NE(a.log.at(0).find("containerd 1.7.24"), std::string::npos);
}

// Names come from the runtime: a line break or an escape sequence in one never
// reaches the log as such.
TEST(NriPlugin, LogLinesAreSafeWhateverTheNames) {
    Plugin plugin(two_nodes());
    api::ConfigureRequest in;
    in.set_runtime_name("containerd\nforged line");
    in.set_runtime_version("\x1b[31m1.7");
    PluginAnswer a = plugin.handle(call("Configure", in));
    ASSERT_EQ(a.log.size(), 1u);
    EXPECT_EQ(a.log[0].find('\n'), std::string::npos);
    EXPECT_EQ(a.log[0].find('\x1b'), std::string::npos);
    auto c = container("web\nx", 1, false);
    api::CreateContainerRequest create_in;
    *create_in.mutable_pod() = pod("web\ry");
    *create_in.mutable_container() = c;
    a = plugin.handle(call("CreateContainer", create_in));
    ASSERT_EQ(a.response.code, 0);
    for (const auto& line : a.log) EXPECT_EQ(line.find_first_of("\n\r"), std::string::npos) << line;
}

TEST(NriPlugin, CreateAdjustsCpusetAndMemsAndUpdatesOthers) {
    Plugin plugin(two_nodes());
    auto web = create(plugin, pod("web"), container("web", 1, false));
    EXPECT_EQ(web.adjust().linux().resources().cpu().cpus(), "0-3");
    EXPECT_EQ(web.adjust().linux().resources().cpu().mems(), "0");
    auto db = create(plugin, pod("db"), container("db", 2, true));
    EXPECT_EQ(db.adjust().linux().resources().cpu().cpus(), "4-5");
    auto cache = create(plugin, pod("cache"), container("cache", 3, true));
    EXPECT_EQ(cache.adjust().linux().resources().cpu().cpus(), "0-2");
    ASSERT_EQ(cache.update_size(), 1);
    EXPECT_EQ(cache.update(0).container_id(), "web");
    EXPECT_TRUE(cache.update(0).ignore_failure());
    EXPECT_EQ(cache.update(0).linux().resources().cpu().cpus(), "3");

    // UpdateContainer asking another cpuset gets ours back.
    api::UpdateContainerRequest update;
    *update.mutable_container() = container("db", 2, true);
    update.mutable_linux_resources()->mutable_cpu()->set_cpus("0-7");
    PluginAnswer u = plugin.handle(call("UpdateContainer", update));
    api::UpdateContainerResponse uout;
    ASSERT_TRUE(uout.ParseFromString(u.response.payload));
    ASSERT_EQ(uout.update_size(), 1);
    EXPECT_EQ(uout.update(0).linux().resources().cpu().cpus(), "4-5");

    // An update that names no cpuset (no CPU manager) leaves it alone.
    update.mutable_linux_resources()->mutable_cpu()->clear_cpus();
    ASSERT_TRUE(uout.ParseFromString(plugin.handle(call("UpdateContainer", update)).response.payload));
    EXPECT_EQ(uout.update_size(), 0);

    // StopContainer frees cache's CPUs: web gets them back in the answer.
    api::StopContainerRequest stop;
    *stop.mutable_pod() = pod("cache");
    *stop.mutable_container() = container("cache", 3, true);
    PluginAnswer s = plugin.handle(call("StopContainer", stop));
    api::StopContainerResponse sout;
    ASSERT_TRUE(sout.ParseFromString(s.response.payload));
    ASSERT_EQ(sout.update_size(), 1);
    EXPECT_EQ(sout.update(0).linux().resources().cpu().cpus(), "0-3");

    // NRI v0.6 reports a removal through StateChange: its updates go out unsolicited.
    auto again = create(plugin, pod("cache2"), container("cache2", 3, true));
    EXPECT_EQ(again.adjust().linux().resources().cpu().cpus(), "0-2");
    api::StateChangeEvent removed;
    removed.set_event(api::REMOVE_CONTAINER);
    *removed.mutable_container() = container("cache2", 3, true);
    EXPECT_EQ(plugin.handle(call("StateChange", removed)).response.code, 0);
    auto unsolicited = plugin.take_unsolicited_updates();
    ASSERT_TRUE(unsolicited);
    api::UpdateContainersRequest req;
    ASSERT_TRUE(req.ParseFromString(*unsolicited));
    ASSERT_EQ(req.update_size(), 1);
    EXPECT_EQ(req.update(0).container_id(), "web");
    EXPECT_EQ(req.update(0).linux().resources().cpu().cpus(), "0-3");
    EXPECT_FALSE(plugin.take_unsolicited_updates());
}

TEST(NriPlugin, AnnotationsChoosePolicyAndSoft) {
    Plugin plugin(two_nodes());
    auto soft = create(plugin, pod("s", {{"affine/soft", "true"}}), container("s", 2, true));
    EXPECT_EQ(soft.adjust().linux().resources().cpu().cpus(), "0-7");
    // Started: its pid goes to the daemon with the planned node's CPUs, through the
    // new API's PostStartContainer and v0.6's StateChange alike.
    api::PostStartContainerRequest started;
    *started.mutable_pod() = pod("s");
    *started.mutable_container() = container("s", 2, true);
    started.mutable_container()->set_pid(4242);
    PluginAnswer post = plugin.handle(call("PostStartContainer", started));
    ASSERT_EQ(post.soft.size(), 1u);
    EXPECT_EQ(post.soft[0].pid, 4242);
    EXPECT_EQ(to_list(post.soft[0].cpus), "0-3");
    EXPECT_EQ(post.soft[0].container, "default/s/s");
    api::StateChangeEvent change;
    change.set_event(api::POST_START_CONTAINER);
    *change.mutable_pod() = started.pod();
    *change.mutable_container() = started.container();
    EXPECT_EQ(plugin.handle(call("StateChange", change)).soft.size(), 1u);
    change.set_event(api::START_CONTAINER);
    EXPECT_TRUE(plugin.handle(call("StateChange", change)).soft.empty());
    api::CreateContainerRequest bad;
    *bad.mutable_pod() = pod("b", {{"affine/policy", "fastest"}});
    *bad.mutable_container() = container("b", 1, false);
    PluginAnswer a = plugin.handle(call("CreateContainer", bad));
    EXPECT_EQ(a.response.code, static_cast<int>(RpcCode::invalid_argument));
    EXPECT_NE(a.response.message.find("affine/policy"), std::string::npos);
}

TEST(NriPlugin, SynchronizeInPartsAndEveryOtherMessage) {
    Plugin plugin(two_nodes());
    api::SynchronizeRequest part;
    *part.add_pods() = pod("late");
    *part.add_containers() = container("late", 2, true);
    part.set_more(true);
    PluginAnswer first = plugin.handle(call("Synchronize", part));
    api::SynchronizeResponse out;
    ASSERT_TRUE(out.ParseFromString(first.response.payload));
    EXPECT_TRUE(out.more());
    EXPECT_EQ(out.update_size(), 0);
    api::SynchronizeRequest last;
    PluginAnswer done = plugin.handle(call("Synchronize", last));
    ASSERT_TRUE(out.ParseFromString(done.response.payload));
    ASSERT_EQ(out.update_size(), 1);  // created while the plugin was down: placed now
    EXPECT_EQ(out.update(0).linux().resources().cpu().cpus(), "0-1");

    for (const char* event : {"RunPodSandbox", "StopPodSandbox", "RemovePodSandbox", "PostCreateContainer",
                              "StartContainer", "PostStartContainer", "PostUpdateContainer", "RemoveContainer"})
        EXPECT_EQ(plugin.handle(call(event, api::Empty{})).response.code, 0) << event;
    EXPECT_TRUE(plugin.handle(call("Shutdown", api::Empty{})).shutdown);
    EXPECT_EQ(plugin.handle(call("ValidateContainerAdjustment", api::Empty{})).response.code,
              static_cast<int>(RpcCode::unimplemented));
    RpcRequest garbage{std::string(plugin_service_name), "CreateContainer", "\x0a\x7f", 0};
    EXPECT_EQ(plugin.handle(garbage).response.code, static_cast<int>(RpcCode::invalid_argument));
    RpcRequest other{"some.Other", "Configure", "", 0};
    EXPECT_EQ(plugin.handle(other).response.code, static_cast<int>(RpcCode::unimplemented));
}

// Message decoding under damage (the fuzz target explores it too; this runs in every
// build, the sanitizer one included): valid messages of every method, truncated and
// with bytes changed by a fixed-seed generator. Every call is answered, none crashes,
// the placement stays consistent.
TEST(NriPlugin, DamagedMessagesAreAnsweredNeverFatal) {
    Plugin plugin(two_nodes());
    api::CreateContainerRequest create;
    *create.mutable_pod() = pod("p", {{"affine/policy", "best-effort"}});
    *create.mutable_container() = container("c", 1, true);
    api::SynchronizeRequest sync;
    *sync.add_pods() = pod("p");
    *sync.add_containers() = container("c", 2, true);
    sync.mutable_containers(0)->mutable_linux()->mutable_resources()->mutable_cpu()->set_cpus("0-1");
    api::StateChangeEvent change;
    change.set_event(api::REMOVE_CONTAINER);
    *change.mutable_container() = container("c", 1, true);
    api::UpdateContainerRequest update;
    *update.mutable_container() = container("c", 1, true);
    api::StopContainerRequest stop;
    *stop.mutable_container() = container("c", 1, true);
    api::ConfigureRequest configure;
    configure.set_runtime_name("containerd");
    std::vector<std::pair<std::string, std::string>> messages = {
        {"CreateContainer", create.SerializeAsString()}, {"Synchronize", sync.SerializeAsString()},
        {"StateChange", change.SerializeAsString()},     {"UpdateContainer", update.SerializeAsString()},
        {"StopContainer", stop.SerializeAsString()},     {"Configure", configure.SerializeAsString()}};
    std::uint32_t state = 12345;
    auto next = [&] { return state = state * 1103515245u + 12345u; };
    for (int round = 0; round < 3000; ++round) {
        auto [method, bytes] = messages[next() % messages.size()];
        if (next() % 3 == 0) bytes.resize(next() % (bytes.size() + 1));
        for (int flips = next() % 4; flips > 0 && !bytes.empty(); --flips)
            bytes[next() % bytes.size()] = static_cast<char>(next());
        PluginAnswer a = plugin.handle({std::string(plugin_service_name), method, bytes, 0});
        if (a.response.code == 0 && method == "CreateContainer") {
            api::CreateContainerResponse out;
            EXPECT_TRUE(out.ParseFromString(a.response.payload));
        }
        (void)plugin.take_unsolicited_updates();
        for (const auto& [id, c] : plugin.placer().containers())
            if (c.mode == CpuMode::exclusive)
                for (const auto& [other, o] : plugin.placer().containers())
                    if (other != id) {
                        EXPECT_FALSE(o.assigned.cpus.intersects(c.exclusive));
                    }
    }
}

// The runtime's side, written from the protocol: accept the registration, configure,
// create a container, close.
TEST(NriConnection, RegistersAndServesOverASocket) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    Plugin plugin(two_nodes());
    std::atomic<bool> stop{false};
    std::vector<std::string> log;
    Result<ConnectionEnd> end = ConnectionEnd::stopped;
    std::thread runner([&] {
        end = serve_connection(fds[0], plugin, ConnectionOptions{}, [&](const std::string& l) { log.push_back(l); }, stop);
    });
    MuxDecoder mux;
    TtrpcDecoder runtime_conn, plugin_conn;
    auto read_frames = [&](std::uint32_t conn) {
        char buf[65536];
        while (true) {
            ssize_t n = ::read(fds[1], buf, sizeof buf);
            if (n <= 0) return std::vector<TtrpcFrame>{};
            auto frames = mux.feed(std::string_view(buf, static_cast<std::size_t>(n)));
            EXPECT_TRUE(frames);
            std::vector<TtrpcFrame> out;
            for (auto& f : *frames) {
                EXPECT_EQ(f.conn, conn);
                auto t = (conn == 1 ? plugin_conn : runtime_conn).feed(f.payload);
                out.insert(out.end(), t->begin(), t->end());
            }
            if (!out.empty()) return out;
        }
    };
    auto reg = read_frames(runtime_service_conn);
    ASSERT_EQ(reg.size(), 1u);
    auto request = decode_rpc_request(reg[0].payload);
    ASSERT_TRUE(request);
    EXPECT_EQ(request->method, "RegisterPlugin");
    api::RegisterPluginRequest r;
    ASSERT_TRUE(r.ParseFromString(request->payload));
    EXPECT_EQ(r.plugin_name(), "affine");
    EXPECT_EQ(r.plugin_idx(), "90");
    auto send = [&](std::uint32_t conn, std::uint32_t stream, TtrpcType type, const std::string& envelope) {
        std::string bytes = *encode_mux_frame(conn, *encode_ttrpc_frame(stream, type, envelope));
        ASSERT_EQ(::write(fds[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    };
    send(runtime_service_conn, reg[0].stream, TtrpcType::response, encode_rpc_response({0, "", ""}));
    api::CreateContainerRequest create;
    *create.mutable_pod() = pod("web");
    *create.mutable_container() = container("web", 2, true);
    send(plugin_service_conn, 1, TtrpcType::request, encode_rpc_request(call("CreateContainer", create)));
    auto answer = read_frames(plugin_service_conn);
    ASSERT_EQ(answer.size(), 1u);
    EXPECT_EQ(answer[0].stream, 1u);
    auto response = decode_rpc_response(answer[0].payload);
    ASSERT_TRUE(response);
    api::CreateContainerResponse out;
    ASSERT_TRUE(out.ParseFromString(response->payload));
    EXPECT_EQ(out.adjust().linux().resources().cpu().cpus(), "0-1");
    ::close(fds[1]);
    runner.join();
    ::close(fds[0]);
    ASSERT_TRUE(end);
    EXPECT_EQ(*end, ConnectionEnd::closed);
    EXPECT_EQ(log.at(0), "registered as 90-affine");
}

}  // namespace
}  // namespace affine::nri
