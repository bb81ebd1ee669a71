// The control socket: a unix stream socket in the state directory, mode 0666 (the
// daemon checks each peer's credentials per request, as the kernel would). One
// request line per connection, answered with one line; a line longer than the
// limit, or a client silent for too long, is refused and disconnected.
#pragma once

#include <poll.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "../core/daemon_protocol.hpp"
#include "affine/error.hpp"

namespace affine::daemon {

// The peer of connection `fd`: SO_PEERCRED, and CAP_SYS_NICE from the peer's
// /proc/PID/status CapEff (the credentials seam; tests make up their own).
protocol::PeerCredentials peer_credentials(int fd);

// Turns one request line from a peer into one response line (no newlines).
using RequestHandler = std::function<std::string(std::string_view line, const protocol::PeerCredentials& peer)>;

class ControlServer {
public:
    // Binds `path` (a stale socket of a previous daemon is removed: the caller holds
    // the instance lock).
    static Result<ControlServer> listen(const std::string& path, std::size_t max_request_bytes);
    ControlServer(ControlServer&& other) noexcept;
    ControlServer& operator=(ControlServer&&) = delete;
    ~ControlServer();

    void set_max_request_bytes(std::size_t bytes) { max_request_bytes_ = bytes; }
    // The descriptors to poll, listening socket first.
    void add_poll_fds(std::vector<pollfd>& fds) const;
    // Accepts, reads and answers whatever `fds` says is ready; drops slow clients.
    void serve(const std::vector<pollfd>& fds, const RequestHandler& handler);
    // Removes the socket file.
    void close_and_unlink();

private:
    struct Client {
        int fd = -1;
        std::string buffer;
        std::chrono::steady_clock::time_point since;
    };
    ControlServer(int fd, std::string path, std::size_t max_request_bytes)
        : fd_(fd), path_(std::move(path)), max_request_bytes_(max_request_bytes) {}
    void answer(Client& c, const std::string& line);

    int fd_ = -1;
    std::string path_;
    std::size_t max_request_bytes_;
    std::vector<Client> clients_;
};

}  // namespace affine::daemon
