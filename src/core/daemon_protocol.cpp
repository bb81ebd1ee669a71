// The control protocol's messages and the kernel's permission rule. Pure.
#include "daemon_protocol.hpp"

#include <fmt/format.h>

#include <cerrno>

#include "affine/set_grammar.hpp"

namespace affine::protocol {

using detail::Json;

namespace {

std::string_view op_name(Op op) {
    switch (op) {
    case Op::set_soft: return "set-soft";
    case Op::status: return "status";
    case Op::show: return "show";
    case Op::reload: return "reload";
    case Op::advise: return "advise";
    }
    return "?";
}

Result<std::vector<int>> read_ids(const Json& j) {
    if (!j.contains("ids") || !j["ids"].is_array() || j["ids"].empty())
        return usage_error("\"ids\" must be a non-empty array of process or thread ids");
    std::vector<int> ids;
    for (const auto& v : j["ids"]) {
        if (!v.is_number_integer() || v.get<long long>() <= 0 || v.get<long long>() > 0x3fffffff)
            return usage_error(fmt::format("\"ids\": {} is not a process or thread id", detail::dump_never_throwing(v)));
        ids.push_back(v.get<int>());
    }
    return ids;
}

Result<bool> read_flag(const Json& j, const char* key) {
    if (!j.contains(key)) return false;
    if (!j[key].is_boolean()) return usage_error(fmt::format("\"{}\" must be true or false", key));
    return j[key].get<bool>();
}

// A set as the status gives it: an array of integers, as every --json output
// gives sets (a list string from an older daemon is read too).
CpuSet cpus_or_empty(const Json& j, const char* key) {
    if (!j.contains(key)) return {};
    if (j[key].is_array()) {
        CpuSet set;
        for (const auto& id : j[key]) set.insert(id.get<int>());
        return set;
    }
    if (!j[key].is_string()) return {};
    auto s = parse_id_list(j[key].get<std::string>());
    return s ? *s : CpuSet{};
}

// A time as every --json output gives it: integer seconds since the epoch.
std::int64_t epoch_seconds(double seconds) { return static_cast<std::int64_t>(seconds); }

std::string string_or(const Json& j, const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

}  // namespace

Result<Request> parse_request(std::string_view line, std::size_t max_bytes) {
    if (line.size() > max_bytes)
        return usage_error(fmt::format("request longer than {} bytes", max_bytes));
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded()) return usage_error("request is not JSON");
    if (!j.is_object()) return usage_error("request is not a JSON object");
    if (!j.contains("op") || !j["op"].is_string()) return usage_error("request has no \"op\"");
    std::string op = j["op"].get<std::string>();
    Request r;
    if (op == "status") {
        r.op = Op::status;
    } else if (op == "reload") {
        r.op = Op::reload;
    } else if (op == "show") {
        r.op = Op::show;
        auto ids = read_ids(j);
        if (!ids) return std::unexpected(ids.error());
        r.ids = std::move(*ids);
    } else if (op == "set-soft") {
        r.op = Op::set_soft;
        auto ids = read_ids(j);
        if (!ids) return std::unexpected(ids.error());
        r.ids = std::move(*ids);
        auto all = read_flag(j, "all_threads");
        if (!all) return std::unexpected(all.error());
        r.all_threads = *all;
        auto children = read_flag(j, "children");
        if (!children) return std::unexpected(children.error());
        r.children = *children;
        if (!j.contains("cpus") || !j["cpus"].is_string())
            return usage_error("\"cpus\" must be a CPU list (\"0-3\") or \"all\"");
        std::string cpus = j["cpus"].get<std::string>();
        if (cpus != "all") {
            auto set = parse_id_list(cpus);
            if (!set || set->empty()) return usage_error(fmt::format("\"cpus\": \"{}\" is not a CPU list", cpus));
            r.cpus = *set;
        }
    } else if (op == "advise") {
        r.op = Op::advise;
        for (auto [key, field] : {std::pair{"cpu_hundredths", &r.cpu_hundredths}, {"memory_mib", &r.memory_mib}}) {
            if (!j.contains(key)) continue;
            if (!j[key].is_number_unsigned())
                return usage_error(fmt::format("\"{}\" must be a whole number at least 0", key));
            *field = j[key].get<std::uint64_t>();
        }
        if (j.contains("reserved")) {
            if (!j["reserved"].is_string()) return usage_error("\"reserved\" must be a CPU set (\"0-1\", \"node:0\")");
            r.reserved = j["reserved"].get<std::string>();
        }
    } else {
        return usage_error(fmt::format("unknown op \"{}\" (known: set-soft, status, show, reload, advise)", op));
    }
    return r;
}

std::string format_request(const Request& r) {
    Json j;
    j["op"] = op_name(r.op);
    if (r.op == Op::set_soft || r.op == Op::show) j["ids"] = r.ids;
    if (r.op == Op::set_soft) {
        j["all_threads"] = r.all_threads;
        j["children"] = r.children;
        j["cpus"] = r.cpus ? to_list(*r.cpus) : std::string("all");
    }
    if (r.op == Op::advise) {
        j["cpu_hundredths"] = r.cpu_hundredths;
        j["memory_mib"] = r.memory_mib;
        if (!r.reserved.empty()) j["reserved"] = r.reserved;
    }
    return detail::dump_never_throwing(j);
}

Result<void> may_set_affinity(const PeerCredentials& peer, const TaskOwner& owner, int tid) {
    if (peer.cap_sys_nice) return {};
    if (peer.uid == owner.real_uid || peer.uid == owner.effective_uid) return {};
    return failure(fmt::format("uid {} may not change the affinity of tid {}, which belongs to uid {}: the kernel "
                               "allows it to the same uid or with CAP_SYS_NICE",
                               peer.uid, tid, owner.real_uid),
                   EPERM);
}

bool may_see_all_workloads(const PeerCredentials& peer) { return peer.uid == 0 || peer.cap_sys_ptrace; }

bool may_see_workload(const PeerCredentials& peer, unsigned owner_uid, unsigned requester_uid) {
    return may_see_all_workloads(peer) || peer.uid == owner_uid || peer.uid == requester_uid;
}

Json to_json(const WorkloadStatus& w) {
    Json j;
    j["pid"] = w.pid;
    j["command"] = w.command;
    j["uid"] = w.uid;
    j["soft"] = detail::ids_json(w.soft);
    j["all_threads"] = w.all_threads;
    j["children"] = w.children;
    j["origin"] = w.origin;
    j["since"] = epoch_seconds(w.since);
    Json threads = Json::array();
    for (const auto& t : w.threads)
        threads.push_back({{"tid", t.tid},
                           {"name", t.name},
                           {"hard", detail::ids_json(t.hard)},
                           {"soft", detail::ids_json(t.soft)},
                           {"applied", detail::ids_json(t.applied)},
                           {"state", t.state},
                           {"since", epoch_seconds(t.since)},
                           {"why", t.why}});
    j["threads"] = std::move(threads);
    j["memory_bytes_per_node"] = detail::per_node_json(w.memory_bytes_per_node);
    return j;
}

Result<WorkloadStatus> workload_from_json(const Json& j) {
    try {
        WorkloadStatus w;
        w.pid = j.at("pid").get<int>();
        w.command = string_or(j, "command");
        w.uid = j.value("uid", 0U);
        w.soft = cpus_or_empty(j, "soft");
        w.all_threads = j.value("all_threads", false);
        w.children = j.value("children", false);
        w.origin = string_or(j, "origin");
        w.since = j.value("since", 0.0);
        for (const auto& t : j.at("threads")) {
            ThreadStatus s;
            s.tid = t.at("tid").get<int>();
            s.name = string_or(t, "name");
            s.hard = cpus_or_empty(t, "hard");
            s.soft = cpus_or_empty(t, "soft");
            s.applied = cpus_or_empty(t, "applied");
            s.state = string_or(t, "state");
            s.since = t.value("since", 0.0);
            s.why = string_or(t, "why");
            w.threads.push_back(std::move(s));
        }
        if (j.contains("memory_bytes_per_node"))
            for (const auto& [node, bytes] : j["memory_bytes_per_node"].items())
                w.memory_bytes_per_node[std::stoi(node)] = bytes.get<std::uint64_t>();
        return w;
    } catch (const std::exception& e) {
        return failure(fmt::format("the daemon sent a workload this affine cannot read: {}", e.what()));
    }
}

Json to_json(const DaemonStatus& s) {
    Json j;
    j["daemon_pid"] = s.daemon_pid;
    j["config"] = s.config;
    j["interval_seconds"] = s.interval_seconds;
    j["on_stop"] = s.on_stop;
    Json workloads = Json::array();
    for (const auto& w : s.workloads) workloads.push_back(to_json(w));
    j["workloads"] = std::move(workloads);
    j["other_users_workloads"] = s.other_users_workloads;
    Json releases = Json::array();
    for (const auto& r : s.releases)
        releases.push_back({{"pid", r.pid}, {"tid", r.tid}, {"when", epoch_seconds(r.when)}, {"reason", r.reason}});
    j["releases"] = std::move(releases);
    j["rules"] = s.rules;
    j["process_events"] = s.process_events;
    Json placements = Json::array();
    for (const auto& p : s.placements)
        placements.push_back({{"pid", p.pid},
                              {"command", p.command},
                              {"rule", p.rule},
                              {"nodes", detail::ids_json(p.nodes)},
                              {"cpus", detail::ids_json(p.cpus)},
                              {"since", epoch_seconds(p.since)},
                              {"reason", p.reason},
                              {"moved_bytes", p.moved_bytes},
                              {"widened", p.widened},
                              {"memory_bytes_per_node", detail::per_node_json(p.memory_bytes_per_node)},
                              {"memory_tier", p.memory_tier},
                              {"memory_nodes", detail::ids_json(p.memory_nodes)},
                              {"memory_bytes_per_tier", detail::per_node_json(p.memory_bytes_per_tier)}});
    j["placements"] = std::move(placements);
    Json events = Json::array();
    for (const auto& e : s.placement_events) events.push_back({{"when", epoch_seconds(e.when)}, {"line", e.line}});
    j["placement_events"] = std::move(events);
    return j;
}

Result<DaemonStatus> daemon_status_from_json(const Json& j) {
    try {
        DaemonStatus s;
        s.daemon_pid = j.value("daemon_pid", 0);
        s.config = string_or(j, "config");
        s.interval_seconds = j.value("interval_seconds", 0.0);
        s.on_stop = string_or(j, "on_stop");
        for (const auto& w : j.at("workloads")) {
            auto ws = workload_from_json(w);
            if (!ws) return std::unexpected(ws.error());
            s.workloads.push_back(std::move(*ws));
        }
        s.other_users_workloads = j.value("other_users_workloads", 0);
        if (j.contains("releases"))
            for (const auto& r : j["releases"])
                s.releases.push_back({r.value("pid", 0), r.value("tid", 0), r.value("when", 0.0), string_or(r, "reason")});
        s.rules = j.value("rules", 0);
        s.process_events = string_or(j, "process_events");
        if (j.contains("placements"))
            for (const auto& p : j["placements"]) {
                PlacementStatus ps;
                ps.pid = p.at("pid").get<int>();
                ps.command = string_or(p, "command");
                ps.rule = string_or(p, "rule");
                for (int n : cpus_or_empty(p, "nodes")) ps.nodes.insert(n);
                ps.cpus = cpus_or_empty(p, "cpus");
                ps.since = p.value("since", 0.0);
                ps.reason = string_or(p, "reason");
                ps.moved_bytes = p.value("moved_bytes", std::uint64_t{0});
                ps.widened = p.value("widened", false);
                if (p.contains("memory_bytes_per_node"))
                    for (const auto& [node, bytes] : p["memory_bytes_per_node"].items())
                        ps.memory_bytes_per_node[std::stoi(node)] = bytes.get<std::uint64_t>();
                ps.memory_tier = string_or(p, "memory_tier");
                for (int n : cpus_or_empty(p, "memory_nodes")) ps.memory_nodes.insert(n);
                if (p.contains("memory_bytes_per_tier"))
                    for (const auto& [tier, bytes] : p["memory_bytes_per_tier"].items())
                        ps.memory_bytes_per_tier[std::stoi(tier)] = bytes.get<std::uint64_t>();
                s.placements.push_back(std::move(ps));
            }
        if (j.contains("placement_events"))
            for (const auto& e : j["placement_events"]) s.placement_events.push_back({e.value("when", 0.0), string_or(e, "line")});
        return s;
    } catch (const std::exception& e) {
        return failure(fmt::format("the daemon sent a status this affine cannot read: {}", e.what()));
    }
}

std::string ok_response(Json body) {
    Json j = Json::object();
    j["ok"] = true;
    for (auto& [k, v] : body.items()) j[k] = v;
    return detail::dump_never_throwing(j);
}

std::string error_response(const Error& error) {
    Json j;
    j["ok"] = false;
    j["kind"] = error.kind == ErrorKind::usage ? "usage" : "failed";
    j["error"] = error.message;
    if (error.code != 0) j["errno"] = error.code;
    return detail::dump_never_throwing(j);
}

Result<Json> parse_response(std::string_view line) {
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean())
        return failure("the daemon's answer is not a response line");
    if (j["ok"].get<bool>()) return j;
    Error e;
    e.kind = string_or(j, "kind") == "usage" ? ErrorKind::usage : ErrorKind::failed;
    e.message = string_or(j, "error");
    e.code = j.value("errno", 0);
    return std::unexpected(e);
}

}  // namespace affine::protocol
