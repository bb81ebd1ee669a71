#include "peer_identity.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <charconv>

#include "core/integer.hpp"
#include "linux/procfs.hpp"
#include "os/unique_fd.hpp"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // Linux 6.5; older C libraries do not name it
#endif

namespace affine::daemon {
namespace {

// The pid the pidfd `pidfd` names now (its fdinfo "Pid:" line): -1 once that
// process has exited and been reaped, so a pid reused since is never taken for it.
std::optional<int> pid_of_pidfd(const linux_backend::SysFs& fs, int pidfd) {
    auto info = fs.read(fmt::format("/proc/self/fdinfo/{}", pidfd));
    if (!info) return std::nullopt;
    auto pid = linux_backend::status_field(*info, "Pid");
    if (!pid) return std::nullopt;
    return detail::parse_integer<int>(*pid);
}

// Now, in clock ticks since boot: the unit of a task's start time in /proc/PID/stat.
unsigned long long boot_ticks_now() {
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    auto hz = static_cast<unsigned long long>(::sysconf(_SC_CLK_TCK));
    return static_cast<unsigned long long>(ts.tv_sec) * hz +
           static_cast<unsigned long long>(ts.tv_nsec) * hz / 1000000000ULL;
}

}  // namespace

std::optional<std::uint64_t> effective_capabilities(std::string_view status) {
    auto field = linux_backend::status_field(status, "CapEff");
    if (!field || field->empty()) return std::nullopt;
    std::uint64_t caps = 0;
    auto [end, ec] = std::from_chars(field->data(), field->data() + field->size(), caps, 16);
    if (ec != std::errc() || end != field->data() + field->size()) return std::nullopt;
    return caps;
}

namespace {

// The effective capabilities of the process `pidfd` names (pid `pid`), nullopt when
// they cannot be established (see peer_identity.hpp).
std::optional<std::uint64_t> capabilities_through(const linux_backend::SysFs& fs, int pidfd, int pid,
                                                  bool from_socket) {
    if (!from_socket) {
        // pidfd_open names whoever has the pid now: a process that started after the
        // connection was accepted is not the peer.
        auto stat = linux_backend::read_task_stat(fs, pid);
        if (!stat || stat->start_time > boot_ticks_now()) return std::nullopt;
    }
    auto status = linux_backend::read_task_status(fs, pid);
    if (!status) return std::nullopt;
    // The status read was the peer's only if the pidfd still names that pid now.
    if (pid_of_pidfd(fs, pidfd) != pid) return std::nullopt;
    return effective_capabilities(*status);
}

}  // namespace

protocol::PeerCredentials peer_identity(int fd, const linux_backend::SysFs& fs) {
    protocol::PeerCredentials peer;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        peer.uid = static_cast<unsigned>(-1);  // nobody: refused everything that needs a right
        return peer;
    }
    peer.pid = cred.pid;
    peer.uid = cred.uid;
    peer.gid = cred.gid;
    if (cred.pid <= 0) return peer;  // a peer in another pid namespace: its uid only

    int received = -1;
    len = sizeof received;
    bool from_socket = ::getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &received, &len) == 0 && received >= 0;
    UniqueFd pidfd(from_socket ? received : static_cast<int>(::syscall(SYS_pidfd_open, cred.pid, 0)));
    if (!pidfd) return peer;
    auto caps = capabilities_through(fs, pidfd.get(), cred.pid, from_socket);
    if (!caps) return peer;
    peer.cap_sys_nice = ((*caps >> cap_sys_nice) & 1U) != 0;
    peer.cap_sys_ptrace = ((*caps >> cap_sys_ptrace) & 1U) != 0;
    return peer;
}

}  // namespace affine::daemon
