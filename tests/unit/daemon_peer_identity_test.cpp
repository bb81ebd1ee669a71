// The peer of a control connection, from the kernel: a socket pair within this
// process is its own peer, so what the kernel says can be compared with getuid,
// getpid and this process's CapEff.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <fstream>
#include <string>

#include "daemon/peer_identity.hpp"

namespace affine::daemon {
namespace {

TEST(PeerIdentity, EffectiveCapabilitiesAreReadInHex) {
    EXPECT_EQ(effective_capabilities("Name:\tx\nCapEff:\t0000000000800000\n"), std::uint64_t{1} << cap_sys_nice);
    EXPECT_EQ(effective_capabilities("CapEff:\t000001ffffffffff\n"), 0x1ffffffffffULL);
    EXPECT_FALSE(effective_capabilities("CapPrm:\t0\n"));
    EXPECT_FALSE(effective_capabilities("CapEff:\tzz\n"));
}

TEST(PeerIdentity, TheKernelSaysWhoIsConnected) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    auto peer = peer_identity(fds[0], linux_backend::SysFs("/"));
    EXPECT_EQ(peer.pid, ::getpid());
    EXPECT_EQ(peer.uid, ::geteuid());
    EXPECT_EQ(peer.gid, ::getegid());
    std::ifstream status("/proc/self/status");
    std::string text((std::istreambuf_iterator<char>(status)), std::istreambuf_iterator<char>());
    auto caps = effective_capabilities(text);
    ASSERT_TRUE(caps);
    EXPECT_EQ(peer.cap_sys_nice, ((*caps >> cap_sys_nice) & 1U) != 0);
    EXPECT_EQ(peer.cap_sys_ptrace, ((*caps >> cap_sys_ptrace) & 1U) != 0);
    ::close(fds[0]);
    ::close(fds[1]);
}

// A message carrying one descriptor (SCM_RIGHTS); `fd` -1 to receive one.
struct FdMessage {
    char byte = 0;
    iovec io{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    explicit FdMessage(int fd) {
        msg.msg_iov = &io;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        if (fd < 0) return;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    [[nodiscard]] int fd() const {
        int fd = -1;
        std::memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
        return fd;
    }
};

TEST(PeerIdentity, APeerThatExitedHasNoCapability) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    // A child makes a connected pair (it is the peer of both ends), hands one end
    // over and exits.
    pid_t child = ::fork();
    if (child == 0) {
        int s[2];
        ::socketpair(AF_UNIX, SOCK_STREAM, 0, s);
        FdMessage m(s[1]);
        ::sendmsg(fds[1], &m.msg, 0);
        ::_exit(0);
    }
    FdMessage m(-1);
    ASSERT_EQ(::recvmsg(fds[0], &m.msg, 0), 1);
    int theirs = m.fd();
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);  // reaped: its pid may be anyone's now
    auto peer = peer_identity(theirs, linux_backend::SysFs("/"));
    EXPECT_EQ(peer.pid, child);
    EXPECT_FALSE(peer.cap_sys_nice);
    EXPECT_FALSE(peer.cap_sys_ptrace);
    ::close(theirs);
    ::close(fds[0]);
    ::close(fds[1]);
}

}  // namespace
}  // namespace affine::daemon
