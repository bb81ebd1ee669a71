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

#include "linux/sysfs.hpp"
#include "peer_identity.hpp"

namespace affine::daemon {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string refusal(const std::string& message) {
    return protocol::error_response(Error{ErrorKind::failed, message, EAGAIN});
}

}  // namespace

Result<ControlServer> ControlServer::listen(const std::string& path, const ControlLimits& limits) {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path)
        return failure(fmt::format("socket path {} is longer than {} bytes", path, sizeof addr.sun_path - 1));
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return failure(fmt::format("{} exists and is not a socket; refusing it", path), EEXIST);
        ::unlink(path.c_str());
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return failure(fmt::format("socket: {}", std::strerror(errno)), errno);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::chmod(path.c_str(), 0666) != 0 ||
        ::listen(fd.get(), SOMAXCONN) != 0) {
        int err = errno;
        return failure(fmt::format("listen on {}: {}", path, std::strerror(err)), err);
    }
    return ControlServer(std::move(fd), path, limits);
}

void ControlServer::close_and_unlink() {
    if (fd_) {
        fd_.reset();
        ::unlink(path_.c_str());
    }
}

void ControlServer::add_poll_fds(std::vector<pollfd>& fds) const {
    if (fd_) fds.push_back({fd_.get(), POLLIN, 0});
    for (const auto& c : clients_) fds.push_back({c.fd.get(), static_cast<short>(c.answered ? POLLOUT : POLLIN), 0});
}

int ControlServer::poll_timeout_ms() const {
    if (clients_.empty()) return -1;
    auto first = std::ranges::min_element(clients_, {}, &Client::deadline)->deadline;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(first - SteadyClock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 60000));
}

void ControlServer::flush(Client& c) {
    while (!c.out.empty()) {
        ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // the rest when it can take it
        if (n <= 0) break;                                               // gone: nothing more to say
        c.out.erase(0, static_cast<std::size_t>(n));
    }
    c.fd.reset();
}

void ControlServer::answer(Client& c, std::string line, SteadyClock::time_point now) {
    c.in.clear();
    c.in.shrink_to_fit();
    c.out = std::move(line) + "\n";
    c.answered = true;
    c.deadline = now + limits_.request_deadline;
    flush(c);
}

void ControlServer::accept_clients(SteadyClock::time_point now) {
    linux_backend::SysFs proc("/");
    // Every pending connection is taken off the queue, so that none waits behind
    // another uid's: those past their uid's slots are refused at once.
    while (true) {
        UniqueFd fd(::accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return;  // EAGAIN: none left; EMFILE and the like: the rest wait in the queue
        }
        auto peer = peer_identity(fd.get(), proc);
        Client c{std::move(fd), peer, {}, {}, false, now + limits_.request_deadline};
        auto same_uid = static_cast<std::size_t>(
            std::ranges::count_if(clients_, [&](const Client& o) { return o.peer.uid == c.peer.uid; }));
        auto others = static_cast<std::size_t>(
            std::ranges::count_if(clients_, [](const Client& o) { return o.peer.uid != 0; }));
        if (same_uid >= limits_.slots_per_uid) {
            answer(c, refusal(fmt::format("uid {} has {} connections to the daemon open already (at most {} per user); "
                                          "try again when one is answered",
                                          c.peer.uid, same_uid, limits_.slots_per_uid)),
                   now);
        } else if (c.peer.uid != 0 && others >= limits_.max_clients) {
            answer(c, refusal(fmt::format("the daemon has {} connections open (at most {}); try again", others,
                                          limits_.max_clients)),
                   now);
        }
        if (c.fd) clients_.push_back(std::move(c));
    }
}

void ControlServer::read_request(Client& c, const RequestHandler& handler, SteadyClock::time_point now) {
    char buf[4096];
    while (c.fd && !c.answered) {
        ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {  // closed before a whole line: nothing to answer
            c.fd.reset();
            return;
        }
        c.in.append(buf, static_cast<std::size_t>(n));
        auto nl = c.in.find('\n');
        std::size_t length = nl == std::string::npos ? c.in.size() : nl;
        if (length > limits_.max_request_bytes) {
            answer(c,
                   protocol::error_response(Error{
                       ErrorKind::usage, fmt::format("request longer than {} bytes", limits_.max_request_bytes), 0}),
                   now);
        } else if (nl != std::string::npos) {
            std::string line = c.in.substr(0, nl);
            answer(c, handler(line, c.peer), now);
        }
    }
}

void ControlServer::serve(const std::vector<pollfd>& fds, const RequestHandler& handler) {
    auto now = SteadyClock::now();
    for (const pollfd& p : fds) {
        if (p.revents == 0) continue;
        if (p.fd == fd_.get()) {
            accept_clients(now);
            continue;
        }
        auto it = std::ranges::find_if(clients_, [&](const Client& c) { return c.fd.get() == p.fd; });
        if (it == clients_.end()) continue;
        if (it->answered) flush(*it);
        else read_request(*it, handler, now);
    }
    for (auto& c : clients_) {
        if (!c.fd || now < c.deadline) continue;
        if (c.answered) {  // it does not read its answer
            c.fd.reset();
        } else {
            answer(c,
                   protocol::error_response(Error{
                       ErrorKind::usage,
                       fmt::format("no whole request line within {} ms", limits_.request_deadline.count()), 0}),
                   now);
        }
    }
    std::erase_if(clients_, [](const Client& c) { return !c.fd; });
}

}  // namespace affine::daemon
