// The proc connector on the live kernel, observing only processes this test starts.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "daemon/engine/process_tracker.hpp"
#include "linux/proc_connector.hpp"

namespace affine::linux_backend {
namespace {

TEST(ProcConnector, SeesForkExecAndExitOfAChildItStarts) {
    auto connector = ProcConnector::open();
    if (!connector) GTEST_SKIP() << connector.error().message;

    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        execl("/bin/true", "true", static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);

    // Only this child's events are looked at; everything else on the host is ignored.
    std::vector<ProcEvent::Kind> seen;
    bool lost = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    detail::ProcessTracker tracker;
    tracker.set_events_available(true);
    while (std::chrono::steady_clock::now() < deadline && seen.size() < 3) {
        pollfd p{connector->fd(), POLLIN, 0};
        ::poll(&p, 1, 100);
        auto read = connector->read([&](const ProcEvent& e) {
            if (e.tgid != child || !e.about_process()) return;
            seen.push_back(e.kind);
            if (e.kind == ProcEvent::Kind::fork) tracker.on_fork(e.tgid);
            if (e.kind == ProcEvent::Kind::exec) tracker.on_exec(e.tgid);
            if (e.kind == ProcEvent::Kind::exit) tracker.on_exit(e.tgid);
        });
        ASSERT_TRUE(read) << read.error().message;
        lost = lost || read->lost;
    }
    if (lost && seen.size() < 3) GTEST_SKIP() << "the kernel dropped events on a busy host";
    EXPECT_EQ(seen, (std::vector<ProcEvent::Kind>{ProcEvent::Kind::fork, ProcEvent::Kind::exec, ProcEvent::Kind::exit}));
    EXPECT_EQ(tracker.take_exited(), (std::vector<detail::ProcessKey>{{child, 0}}));
    EXPECT_EQ(tracker.size(), 0U);
}

}  // namespace
}  // namespace affine::linux_backend
