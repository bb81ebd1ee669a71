// The proc connector socket.
#include "proc_connector.hpp"

#include <fmt/format.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace affine::linux_backend {
namespace {

Result<void> send_listen(int fd, proc_cn_mcast_op op) {
    alignas(nlmsghdr) char buffer[NLMSG_SPACE(sizeof(cn_msg) + sizeof(proc_cn_mcast_op))] = {};
    auto* header = reinterpret_cast<nlmsghdr*>(buffer);
    header->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_cn_mcast_op));
    header->nlmsg_type = NLMSG_DONE;
    header->nlmsg_pid = 0;
    auto* message = static_cast<cn_msg*>(NLMSG_DATA(header));
    message->id.idx = CN_IDX_PROC;
    message->id.val = CN_VAL_PROC;
    message->len = sizeof(proc_cn_mcast_op);
    std::memcpy(message->data, &op, sizeof(op));
    if (::send(fd, buffer, header->nlmsg_len, 0) < 0)
        return failure(fmt::format("subscribe to process events: {}", std::strerror(errno)), errno);
    return {};
}

}  // namespace

Result<ProcConnector> ProcConnector::open() {
    int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (fd < 0) return failure(fmt::format("process events: netlink socket: {}", std::strerror(errno)), errno);
    ProcConnector connector{UniqueFd(fd)};
    sockaddr_nl address{};
    address.nl_family = AF_NETLINK;
    address.nl_groups = CN_IDX_PROC;
    address.nl_pid = 0;  // the kernel assigns the port
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) {
        int err = errno;
        // EPERM: no CAP_NET_ADMIN, or a network namespace other than the initial one.
        return failure(fmt::format("process events: {} (the proc connector needs CAP_NET_ADMIN in the initial "
                                   "namespaces; /proc scans only)",
                                   std::strerror(err)),
                       err);
    }
    if (auto ok = send_listen(fd, PROC_CN_MCAST_LISTEN); !ok) return std::unexpected(ok.error());
    return connector;
}

ProcConnector::~ProcConnector() {
    if (fd_) (void)send_listen(fd_.get(), PROC_CN_MCAST_IGNORE);
}

Result<ProcConnector::ReadResult> ProcConnector::read(const std::function<void(const ProcEvent&)>& on_event) {
    ReadResult result;
    alignas(nlmsghdr) char buffer[8192];
    for (;;) {
        ssize_t got = ::recv(fd_.get(), buffer, sizeof(buffer), 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return result;
            if (errno == ENOBUFS) {
                // The kernel dropped events; the socket keeps working.
                result.lost = true;
                continue;
            }
            return failure(fmt::format("process events: {}", std::strerror(errno)), errno);
        }
        auto length = static_cast<unsigned>(got);
        for (auto* header = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(header, length);
             header = NLMSG_NEXT(header, length)) {
            if (header->nlmsg_type == NLMSG_ERROR || header->nlmsg_type == NLMSG_NOOP) continue;
            if (header->nlmsg_type == NLMSG_OVERRUN) {
                result.lost = true;
                continue;
            }
            auto* message = static_cast<cn_msg*>(NLMSG_DATA(header));
            if (message->id.idx != CN_IDX_PROC || message->id.val != CN_VAL_PROC) continue;
            if (message->len < sizeof(proc_event)) continue;
            proc_event event;
            std::memcpy(&event, message->data, sizeof(event));
            ProcEvent e;
            switch (event.what) {
            case proc_event::PROC_EVENT_FORK:
                e.kind = ProcEvent::Kind::fork;
                e.pid = event.event_data.fork.child_pid;
                e.tgid = event.event_data.fork.child_tgid;
                e.parent_tgid = event.event_data.fork.parent_tgid;
                break;
            case proc_event::PROC_EVENT_EXEC:
                e.kind = ProcEvent::Kind::exec;
                e.pid = event.event_data.exec.process_pid;
                e.tgid = event.event_data.exec.process_tgid;
                break;
            case proc_event::PROC_EVENT_EXIT:
                e.kind = ProcEvent::Kind::exit;
                e.pid = event.event_data.exit.process_pid;
                e.tgid = event.event_data.exit.process_tgid;
                break;
            default: continue;
            }
            on_event(e);
            ++result.events;
        }
    }
}

}  // namespace affine::linux_backend
