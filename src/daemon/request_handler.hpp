// What the daemon answers on its control socket: each request line, with the
// peer's credentials, becomes one response line. The permission checks are the
// kernel's (protocol::may_set_affinity) and run inside SoftManager::set_soft.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "../core/daemon_config.hpp"
#include "../core/daemon_protocol.hpp"
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
};

std::string handle_request(std::string_view line, const protocol::PeerCredentials& peer, RequestContext& context);

// The daemon's status as `affine daemon status` shows it.
protocol::DaemonStatus daemon_status(const RequestContext& context);

}  // namespace affine::daemon
