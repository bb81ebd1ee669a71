// The control socket: a unix stream socket in the state directory, mode 0666 (the
// daemon decides each request from the peer's identity, as the kernel would). One
// request line per connection, answered with one line.
//
// No client can hold up another or the daemon's loop:
// - who the peer is, is read once at accept (peer_identity.hpp);
// - each uid has a few connection slots (root always has its own); a connection
//   past them is answered with a refusal and closed at once;
// - a request must arrive whole within the request deadline, or the connection is
//   answered with a refusal and dropped; a line longer than the limit is refused;
// - nothing blocks: requests are read and answers written without waiting, an
//   answer the client does not read is dropped at the deadline.
#pragma once

#include <poll.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "os/unique_fd.hpp"
#include "daemon/engine/daemon_protocol.hpp"
#include "affine/error.hpp"

namespace affine::daemon {

// Turns one request line from a peer into one response line (no newlines).
using RequestHandler = std::function<std::string(std::string_view line, const protocol::PeerCredentials& peer)>;

struct ControlLimits {
    std::size_t max_request_bytes = 65536;
    std::size_t slots_per_uid = 8;        // open connections per uid
    std::size_t max_clients = 64;         // open connections of all uids but root
    std::chrono::milliseconds request_deadline{2000};  // to send a whole request, and to read the answer
};

class ControlServer {
public:
    // Binds `path` (a stale socket of a previous daemon is removed: the caller holds
    // the instance lock).
    static Result<ControlServer> listen(const std::string& path, const ControlLimits& limits);

    void set_max_request_bytes(std::size_t bytes) { limits_.max_request_bytes = bytes; }
    // The descriptors to poll, listening socket first.
    void add_poll_fds(std::vector<pollfd>& fds) const;
    // Accepts, reads, answers and writes whatever `fds` says is ready; drops
    // clients past their deadline.
    void serve(const std::vector<pollfd>& fds, const RequestHandler& handler);
    // How long the loop may sleep before a client's deadline passes; -1 for none.
    [[nodiscard]] int poll_timeout_ms() const;
    // Removes the socket file.
    void close_and_unlink();

private:
    struct Client {
        UniqueFd fd;
        protocol::PeerCredentials peer;
        std::string in;
        std::string out;          // the answer not yet written
        bool answered = false;
        std::chrono::steady_clock::time_point deadline;
    };
    ControlServer(UniqueFd fd, std::string path, const ControlLimits& limits)
        : fd_(std::move(fd)), path_(std::move(path)), limits_(limits) {}
    void accept_clients(std::chrono::steady_clock::time_point now);
    void read_request(Client& c, const RequestHandler& handler);
    void answer(Client& c, std::string line);
    static void flush(Client& c);

    UniqueFd fd_;
    std::string path_;
    ControlLimits limits_;
    std::vector<Client> clients_;
};

}  // namespace affine::daemon
