#include "request_handler.hpp"

#include <fmt/format.h>

#include <cerrno>

#include "affine/numad_compat.hpp"
#include "linux/procfs.hpp"

namespace affine::daemon {
namespace {

bool visible_to(const protocol::PeerCredentials& peer, const Workload& w) {
    return protocol::may_see_workload(peer, w.uid, w.requester_uid);
}

// A user's requests stay within the configured limits: one user cannot have the
// daemon manage the whole host. Root and the daemon's own rules are not counted.
Result<void> within_user_limits(const protocol::Request& r, const protocol::PeerCredentials& peer,
                                const RequestContext& c) {
    if (peer.uid == 0 || !r.cpus) return {};
    std::size_t workloads = 0;
    std::size_t threads = 0;
    for (const auto& [pid, w] : c.manager.workloads())
        if (w.requester_uid == peer.uid) {
            ++workloads;
            threads += w.threads.size();
        }
    std::size_t asked = 0;
    std::size_t new_workloads = 0;
    for (int id : r.ids) {
        auto pid = c.fs != nullptr ? linux_backend::thread_group_of(*c.fs, id) : std::optional<int>(id);
        if (pid && c.manager.find(*pid) != nullptr) continue;  // a change of a request it has already
        ++new_workloads;
        asked += r.all_threads && pid && c.fs != nullptr ? linux_backend::list_threads(*c.fs, *pid).size() : 1;
    }
    if (workloads + new_workloads > c.config.max_workloads_per_user)
        return failure(fmt::format("uid {} has {} workload{} managed by the daemon; {} more would pass the limit of {} "
                                   "per user (max_workloads_per_user)",
                                   peer.uid, workloads, workloads == 1 ? "" : "s", new_workloads,
                                   c.config.max_workloads_per_user),
                       EAGAIN);
    if (threads + asked > c.config.max_threads_per_user)
        return failure(fmt::format("uid {} has {} thread{} managed by the daemon; {} more would pass the limit of {} "
                                   "per user (max_threads_per_user)",
                                   peer.uid, threads, threads == 1 ? "" : "s", asked, c.config.max_threads_per_user),
                       EAGAIN);
    return {};
}

}  // namespace

protocol::DaemonStatus daemon_status(const RequestContext& c, const protocol::PeerCredentials& peer) {
    protocol::DaemonStatus s;
    s.daemon_pid = c.daemon_pid;
    s.config = c.config.source;
    s.interval_seconds = static_cast<double>(c.config.interval.count()) / 1000.0;
    s.on_stop = std::string(to_string(c.config.on_stop));
    const bool all = protocol::may_see_all_workloads(peer);
    s.workloads = c.manager.status(true, [&](const Workload& w) { return visible_to(peer, w); });
    s.other_users_workloads = static_cast<int>(c.manager.workload_count() - s.workloads.size());
    auto shown = [&](int pid) {
        const Workload* w = c.manager.find(pid);
        return all || (w != nullptr && visible_to(peer, *w));
    };
    for (const auto& r : c.manager.releases())
        if (shown(r.pid)) s.releases.push_back(r);
    if (c.placement != nullptr) {
        s.rules = static_cast<int>(c.placement->rule_count());
        if (s.rules > 0) s.process_events = c.placement->events_description();
        for (auto& p : c.placement->status())
            if (shown(p.pid)) s.placements.push_back(std::move(p));
        // The decisions name other users' processes: for those who may see them all.
        if (all) s.placement_events.assign(c.placement->events().begin(), c.placement->events().end());
    }
    return s;
}

std::string handle_request(std::string_view line, const protocol::PeerCredentials& peer, RequestContext& c) {
    auto request = protocol::parse_request(line, c.config.max_request_bytes);
    if (!request) return protocol::error_response(request.error());
    switch (request->op) {
    case protocol::Op::status:
        return protocol::ok_response({{"status", protocol::to_json(daemon_status(c, peer))}});
    case protocol::Op::show: {
        detail::Json found = detail::Json::array();
        for (int id : request->ids) {
            auto w = c.manager.show(id);
            if (!w) continue;
            const Workload* managed = c.manager.find(w->pid);
            if (managed != nullptr && !visible_to(peer, *managed))
                return protocol::error_response(Error{
                    ErrorKind::failed,
                    fmt::format("uid {} may not see pid {}, which belongs to uid {} (root or CAP_SYS_PTRACE may, "
                                "as for `affine show`)",
                                peer.uid, w->pid, w->uid),
                    EPERM});
            found.push_back(protocol::to_json(*w));
        }
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
        if (auto allowed = within_user_limits(*request, peer, c); !allowed) {
            if (c.log) c.log(fmt::format("refused a request of uid {} (pid {}): {}", peer.uid, peer.pid, allowed.error().message));
            return protocol::error_response(allowed.error());
        }
        auto r = c.manager.set_soft(*request, peer, c.clock());
        if (!r) return protocol::error_response(r.error());
        return protocol::ok_response(std::move(*r));
    }
    }
    return protocol::error_response(Error{ErrorKind::usage, "unknown request", 0});
}

}  // namespace affine::daemon
