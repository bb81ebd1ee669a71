#include "request_handler.hpp"

#include <fmt/format.h>

#include <cerrno>

#include "affine/numad_compat.hpp"

namespace affine::daemon {

protocol::DaemonStatus daemon_status(const RequestContext& c) {
    protocol::DaemonStatus s;
    s.daemon_pid = c.daemon_pid;
    s.config = c.config.source;
    s.interval_seconds = static_cast<double>(c.config.interval.count()) / 1000.0;
    s.on_stop = std::string(to_string(c.config.on_stop));
    s.workloads = c.manager.status(true);
    s.releases.assign(c.manager.releases().begin(), c.manager.releases().end());
    if (c.placement != nullptr) {
        s.rules = static_cast<int>(c.placement->rule_count());
        if (s.rules > 0) s.process_events = c.placement->events_description();
        s.placements = c.placement->status();
        s.placement_events.assign(c.placement->events().begin(), c.placement->events().end());
    }
    return s;
}

std::string handle_request(std::string_view line, const protocol::PeerCredentials& peer, RequestContext& c) {
    auto request = protocol::parse_request(line, c.config.max_request_bytes);
    if (!request) return protocol::error_response(request.error());
    switch (request->op) {
    case protocol::Op::status:
        return protocol::ok_response({{"status", protocol::to_json(daemon_status(c))}});
    case protocol::Op::show: {
        detail::Json found = detail::Json::array();
        for (int id : request->ids)
            if (auto w = c.manager.show(id)) found.push_back(protocol::to_json(*w));
        return protocol::ok_response({{"workloads", std::move(found)}});
    }
    case protocol::Op::reload: {
        if (peer.uid != 0 && peer.uid != c.daemon_uid)
            return protocol::error_response(Error{
                ErrorKind::failed,
                fmt::format("uid {} may not reload the daemon's configuration (root or uid {} may)", peer.uid,
                            c.daemon_uid),
                EPERM});
        if (auto r = c.reload(); !r) return protocol::error_response(r.error());
        return protocol::ok_response({{"config", c.config.source}});
    }
    case protocol::Op::advise: {
        if (c.placement == nullptr) return protocol::error_response(failure("this daemon gives no placement advice").error());
        PlacementRequest r = numad_placement_request({request->cpu_hundredths, request->memory_mib});
        auto plan = c.placement->advise(r, request->reserved);
        if (!plan) return protocol::error_response(plan.error());
        std::string nodes = numad_node_list(*plan, c.placement->topology());
        if (c.log)
            c.log(fmt::format("advice for numad -w {}.{:02}:{}{} (uid {}, pid {}): node {}{}",
                              request->cpu_hundredths / 100, request->cpu_hundredths % 100, request->memory_mib,
                              request->reserved.empty() ? "" : " -R " + request->reserved, peer.uid, peer.pid, nodes,
                              plan->fits() ? "" : fmt::format(" ({})", plan->fallback)));
        return protocol::ok_response({{"nodes", nodes},
                                      {"fits", plan->fits()},
                                      {"why", plan->fits() ? std::string() : plan->fallback}});
    }
    case protocol::Op::set_soft: {
        auto r = c.manager.set_soft(*request, peer, c.clock());
        if (!r) return protocol::error_response(r.error());
        return protocol::ok_response(std::move(*r));
    }
    }
    return protocol::error_response(Error{ErrorKind::usage, "unknown request", 0});
}

}  // namespace affine::daemon
