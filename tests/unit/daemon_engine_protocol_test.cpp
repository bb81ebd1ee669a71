// The control protocol: requests good and bad, oversized lines, the kernel's
// permission rule, and status and responses through JSON and back.
#include <gtest/gtest.h>

#include "daemon/engine/daemon_protocol.hpp"

namespace affine::protocol {
namespace {

std::string error_of(std::string_view line, std::size_t max = 1024) {
    auto r = parse_request(line, max);
    EXPECT_FALSE(r) << line;
    return r ? std::string() : r.error().message;
}

TEST(DaemonProtocol, SetSoftRoundTrip) {
    Request r;
    r.op = Op::set_soft;
    r.ids = {4312, 4313};
    r.all_threads = true;
    r.cpus = CpuSet{0, 1, 2, 3, 8};
    auto back = parse_request(format_request(r), 1024);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->op, Op::set_soft);
    EXPECT_EQ(back->ids, r.ids);
    EXPECT_TRUE(back->all_threads);
    EXPECT_FALSE(back->children);
    EXPECT_EQ(back->cpus, r.cpus);
    r.cpus.reset();  // "all": no preference
    EXPECT_NE(format_request(r).find("\"cpus\":\"all\""), std::string::npos);
    EXPECT_FALSE(parse_request(format_request(r), 1024)->cpus);
}

TEST(DaemonProtocol, BadRequestsAreRefusedWithTheReason) {
    EXPECT_EQ(error_of(std::string(2000, ' '), 1024), "request longer than 1024 bytes");
    EXPECT_EQ(error_of("{\"op\":"), "request is not JSON");
    EXPECT_EQ(error_of("[1,2]"), "request is not a JSON object");
    EXPECT_EQ(error_of("{}"), "request: missing string \"op\"");
    EXPECT_EQ(error_of("{\"op\":\"kill\"}"), "request: unknown op \"kill\" (known: set-soft, status, show, reload, advise)");
    EXPECT_EQ(error_of("{\"op\":\"set-soft\",\"cpus\":\"0\"}"),
              "request: missing array \"ids\"");
    EXPECT_EQ(error_of("{\"op\":\"set-soft\",\"ids\":[0],\"cpus\":\"0\"}"), "request: ids[0]: must be at least 1");
    EXPECT_EQ(error_of("{\"op\":\"set-soft\",\"ids\":[\"1\"],\"cpus\":\"0\"}"),
              "request: ids[0]: expected an integer");
    EXPECT_EQ(error_of("{\"op\":\"set-soft\",\"ids\":[5]}"), "request: missing \"cpus\": a CPU list (\"0-3\") or \"all\"");
    EXPECT_EQ(error_of("{\"op\":\"set-soft\",\"ids\":[5],\"cpus\":\"0-x\"}"), "request: cpus: \"0-x\" is not a CPU list (\"0-3\") or \"all\"");
    EXPECT_EQ(error_of("{\"op\":\"set-soft\",\"ids\":[5],\"cpus\":\"0\",\"all_threads\":1}"),
              "request: all_threads: expected true or false");
    EXPECT_EQ(error_of("{\"op\":\"show\",\"ids\":[]}"), "request: ids: expected at least one process or thread id");
    EXPECT_EQ(error_of("{\"op\":\"advise\",\"memory_mib\":-1}"), "request: memory_mib: must be at least 0");
    EXPECT_EQ(error_of("{\"op\":\"advise\",\"reserved\":3}"), "request: reserved: expected a string");
}

TEST(DaemonProtocol, TheKernelsPermissionRule) {
    TaskOwner root_task{0, 0};
    TaskOwner user_task{1000, 1000};
    TaskOwner setuid_task{1000, 0};  // real uid 1000 running a setuid-root program
    PeerCredentials user{77, 1000, 1000, false};
    PeerCredentials root{78, 0, 0, true};
    PeerCredentials nice_user{79, 1001, 1001, true};
    EXPECT_TRUE(may_set_affinity(user, user_task, 5));
    EXPECT_TRUE(may_set_affinity(user, setuid_task, 5));  // euid of the caller = real uid of the target
    EXPECT_TRUE(may_set_affinity(root, user_task, 5));
    EXPECT_TRUE(may_set_affinity(nice_user, root_task, 5));
    auto refused = may_set_affinity(user, root_task, 5);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, EPERM);
    EXPECT_EQ(refused.error().message, "uid 1000 may not change the affinity of tid 5, which belongs to uid 0: the "
                                       "kernel allows it to the same uid or with CAP_SYS_NICE");
}

TEST(DaemonProtocol, StatusThroughJsonAndBack) {
    DaemonStatus s;
    s.daemon_pid = 10;
    s.config = "/etc/affine/daemon.conf";
    s.interval_seconds = 0.5;
    s.on_stop = "restore";
    WorkloadStatus w;
    w.pid = 4312;
    w.command = "job";
    w.soft = CpuSet{0};
    w.all_threads = true;
    w.threads.push_back({4312, "job", CpuSet{0, 1}, CpuSet{0}, CpuSet{0, 1}, "widened", 12.5, "waited 50%"});
    w.memory_bytes_per_node = {{0, 4096}, {1, 8192}};
    s.workloads.push_back(w);
    s.releases.push_back({4312, 4313, 11.0, "release tid 4313"});
    auto back = daemon_status_from_json(to_json(s));
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_EQ(back->workloads.size(), 1U);
    const auto& t = back->workloads[0].threads.at(0);
    EXPECT_EQ(t.applied, (CpuSet{0, 1}));
    EXPECT_EQ(t.state, "widened");
    EXPECT_EQ(t.why, "waited 50%");
    EXPECT_EQ(back->workloads[0].memory_bytes_per_node.at(1), 8192U);
    EXPECT_EQ(back->releases.at(0).tid, 4313);
}

TEST(DaemonProtocol, Responses) {
    auto ok = parse_response(ok_response({{"config", "x"}}));
    ASSERT_TRUE(ok);
    EXPECT_EQ((*ok)["config"], "x");
    auto refused = parse_response(error_response(Error{ErrorKind::usage, "request is not JSON", 0}));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, ErrorKind::usage);
    EXPECT_EQ(refused.error().message, "request is not JSON");
    auto failed = parse_response(error_response(Error{ErrorKind::failed, "no", EPERM}));
    EXPECT_EQ(failed.error().kind, ErrorKind::failed);
    EXPECT_EQ(failed.error().code, EPERM);
    EXPECT_FALSE(parse_response("hello"));
}

}  // namespace
}  // namespace affine::protocol
