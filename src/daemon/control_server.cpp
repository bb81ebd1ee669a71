#include "control_server.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace affine::daemon {
namespace {

constexpr int cap_sys_nice = 23;
constexpr auto client_timeout = std::chrono::seconds(5);
constexpr std::size_t max_clients = 64;

bool peer_has_cap_sys_nice(int pid) {
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(status, line))
        if (line.starts_with("CapEff:")) {
            unsigned long long caps = std::strtoull(line.c_str() + 7, nullptr, 16);
            return ((caps >> cap_sys_nice) & 1U) != 0;
        }
    return false;
}

void write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                pollfd p{fd, POLLOUT, 0};
                if (::poll(&p, 1, 1000) <= 0) return;  // a client that does not read is dropped
                continue;
            }
            return;
        }
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace

protocol::PeerCredentials peer_credentials(int fd) {
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
    peer.cap_sys_nice = peer_has_cap_sys_nice(cred.pid);
    return peer;
}

Result<ControlServer> ControlServer::listen(const std::string& path, std::size_t max_request_bytes) {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path)
        return failure(fmt::format("socket path {} is longer than {} bytes", path, sizeof addr.sun_path - 1));
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return failure(fmt::format("{} exists and is not a socket; refusing it", path), EEXIST);
        ::unlink(path.c_str());
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return failure(fmt::format("socket: {}", std::strerror(errno)), errno);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::chmod(path.c_str(), 0666) != 0 ||
        ::listen(fd, 64) != 0) {
        int err = errno;
        ::close(fd);
        return failure(fmt::format("listen on {}: {}", path, std::strerror(err)), err);
    }
    return ControlServer(fd, path, max_request_bytes);
}

ControlServer::ControlServer(ControlServer&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)), max_request_bytes_(other.max_request_bytes_),
      clients_(std::move(other.clients_)) {
    other.fd_ = -1;
    other.clients_.clear();
}

ControlServer::~ControlServer() {
    for (auto& c : clients_) ::close(c.fd);
    if (fd_ >= 0) ::close(fd_);
}

void ControlServer::close_and_unlink() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
        ::unlink(path_.c_str());
    }
}

void ControlServer::add_poll_fds(std::vector<pollfd>& fds) const {
    if (fd_ >= 0) fds.push_back({fd_, POLLIN, 0});
    for (const auto& c : clients_) fds.push_back({c.fd, POLLIN, 0});
}

void ControlServer::answer(Client& c, const std::string& line) {
    write_all(c.fd, line + "\n");
    ::close(c.fd);
    c.fd = -1;
}

void ControlServer::serve(const std::vector<pollfd>& fds, const RequestHandler& handler) {
    auto now = std::chrono::steady_clock::now();
    for (const pollfd& p : fds) {
        if (p.revents == 0) continue;
        if (p.fd == fd_) {
            while (clients_.size() < max_clients) {
                int c = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (c < 0) break;
                clients_.push_back({c, {}, now});
            }
            continue;
        }
        auto it = std::ranges::find(clients_, p.fd, &Client::fd);
        if (it == clients_.end()) continue;
        Client& c = *it;
        char buf[4096];
        while (c.fd >= 0) {
            ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) break;
            if (n <= 0) {  // closed before a whole line: nothing to answer
                ::close(c.fd);
                c.fd = -1;
                break;
            }
            c.buffer.append(buf, static_cast<std::size_t>(n));
            auto nl = c.buffer.find('\n');
            if (nl != std::string::npos) {
                std::string line = c.buffer.substr(0, nl);
                answer(c, line.size() > max_request_bytes_
                              ? protocol::error_response(Error{ErrorKind::usage,
                                                               fmt::format("request longer than {} bytes",
                                                                           max_request_bytes_), 0})
                              : handler(line, peer_credentials(c.fd)));
            } else if (c.buffer.size() > max_request_bytes_) {
                answer(c, protocol::error_response(
                              Error{ErrorKind::usage, fmt::format("request longer than {} bytes", max_request_bytes_), 0}));
            }
        }
    }
    for (auto& c : clients_)
        if (c.fd >= 0 && now - c.since > client_timeout) {
            answer(c, protocol::error_response(Error{ErrorKind::usage, "no whole request line within 5 s", 0}));
        }
    std::erase_if(clients_, [](const Client& c) { return c.fd < 0; });
}

}  // namespace affine::daemon
