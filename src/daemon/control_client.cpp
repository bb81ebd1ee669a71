#include "control_client.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "os/unique_fd.hpp"
#include "state_dir.hpp"

namespace affine::daemon {

DaemonReply ask_daemon(const protocol::Request& request, const std::string& state_dir) {
    const std::string dir = state_dir_path(state_dir);
    std::string path = socket_path(dir);
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path) return {failure(fmt::format("socket path {} is too long", path))};
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return {failure(fmt::format("socket: {}", std::strerror(errno)), errno)};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int err = errno;
        if (err == ENOENT || err == ECONNREFUSED)
            // The service runs with the default directory; another one needs its own daemon.
            return {failure(fmt::format("no affine daemon runs (nothing listens on {}); {}", path,
                                        dir == "/run/affine"
                                            ? "start it with `systemctl start affine`, or run `affine daemon` as root"
                                            : fmt::format("start one for this state directory with `affine daemon "
                                                          "--state-dir {}`",
                                                          dir)),
                            err),
                    true};
        return {failure(fmt::format("connect to the affine daemon at {}: {}", path, std::strerror(err)), err)};
    }
    timeval timeout{30, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    std::string line = protocol::format_request(request) + "\n";
    std::size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::send(fd.get(), line.data() + done, line.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return {failure(fmt::format("send to the affine daemon: {}", std::strerror(errno)), errno)};
        done += static_cast<std::size_t>(n);
    }
    std::string answer;
    char buf[65536];
    while (answer.find('\n') == std::string::npos) {
        ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return {failure(fmt::format("no answer from the affine daemon: {}", std::strerror(errno)), errno)};
        if (n == 0) break;
        answer.append(buf, static_cast<std::size_t>(n));
    }
    auto nl = answer.find('\n');
    if (nl == std::string::npos) return {failure("the affine daemon closed the connection without an answer")};
    return {protocol::parse_response(std::string_view(answer).substr(0, nl))};
}

}  // namespace affine::daemon
