// What the daemon answers on its control socket: each request line, with the
// peer's credentials, becomes one response line. The permission checks are the
// kernel's (protocol::may_set_affinity) and run inside SoftManager::set_soft.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "daemon/engine/daemon_config.hpp"
#include "daemon/engine/daemon_protocol.hpp"
#include "placement_manager.hpp"
#include "soft_manager.hpp"

namespace affine::daemon {

struct RequestContext {
    SoftManager& manager;
    const DaemonConfig& config;
    int daemon_pid = 0;
    unsigned daemon_uid = 0;
    std::function<Clock()> clock;
    // Reloads the configuration file; the error says why it was refused.
    std::function<Result<void>()> reload;
    // The placement loop: its placements in the status, and numad -w advice.
    const PlacementManager* placement = nullptr;
    // The daemon's log (advice given is logged); may be empty.
    Log log;
    // Where the threads of a process are read (the per-user thread limit counts the
    // threads a request would add); without it each id counts as one thread.
    const linux_backend::SysFs* fs = nullptr;
};

// The answer to one request line of `peer`, whose identity the control server
// established when it accepted the connection. A user's `set-soft` past
// max_workloads_per_user or max_threads_per_user is refused (EAGAIN); `show` of a
// workload the peer may not see (protocol::may_see_workload) is refused (EPERM).
std::string handle_request(std::string_view line, const protocol::PeerCredentials& peer, RequestContext& context);

// The daemon's status as `affine daemon status` shows it to `peer`: the workloads
// it may see, a count of the others.
protocol::DaemonStatus daemon_status(const RequestContext& context, const protocol::PeerCredentials& peer);

}  // namespace affine::daemon
