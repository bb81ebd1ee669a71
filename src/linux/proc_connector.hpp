// The kernel's process events (the proc connector: NETLINK_CONNECTOR, CN_IDX_PROC):
// fork, exec and exit of every process, within milliseconds. Internal to the Linux
// backend; the daemon feeds what it reads into a ProcessTracker.
//
// Unavailable in a non-initial network or pid namespace and without CAP_NET_ADMIN:
// open() then fails and the daemon works from /proc scans alone. The kernel drops
// events when the socket's buffer is full; read() then reports `lost` and the caller
// must scan.
#pragma once

#include <functional>

#include "affine/error.hpp"
#include "os/unique_fd.hpp"

namespace affine::linux_backend {

struct ProcEvent {
    enum class Kind { fork, exec, exit };
    Kind kind = Kind::fork;
    int pid = 0;   // the thread the event is about
    int tgid = 0;  // its process
    int parent_tgid = 0;  // fork only: the process that forked
    // Whether the event is about a whole process (fork of a new process, exec, exit
    // of the thread group leader) rather than one thread.
    [[nodiscard]] bool about_process() const { return pid == tgid; }
};

class ProcConnector {
public:
    // Opens the socket and subscribes (non-blocking). Failed error, with the reason
    // in the user's terms (no CAP_NET_ADMIN, another namespace), when not available.
    static Result<ProcConnector> open();

    ProcConnector(ProcConnector&&) noexcept = default;
    ProcConnector& operator=(ProcConnector&&) noexcept = default;
    ~ProcConnector();  // stops listening

    // The socket, for poll(): readable when events wait.
    [[nodiscard]] int fd() const { return fd_.get(); }

    struct ReadResult {
        int events = 0;     // events passed to the callback
        bool lost = false;  // the kernel dropped events (ENOBUFS): scan /proc
    };
    // Reads every waiting message without blocking and calls `on_event` for each
    // fork, exec and exit. Failed error for any other socket error.
    Result<ReadResult> read(const std::function<void(const ProcEvent&)>& on_event);

private:
    explicit ProcConnector(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace affine::linux_backend
