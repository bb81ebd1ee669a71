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

// Requests are read like every other JSON input (core/json.hpp): errors name the
// field, as in "request: ids[0]: must be at least 1".
const detail::JsonReader request_reader{"request"};

Result<std::vector<int>> read_ids(const Json& j) {
    auto ids = request_reader.array(j, "ids", "");
    if (!ids) return std::unexpected(ids.error());
    if ((*ids)->empty()) return request_reader.bad("ids", "expected at least one process or thread id");
    std::vector<int> out;
    for (std::size_t i = 0; i < (*ids)->size(); ++i) {
        auto id = request_reader.integer_value((**ids)[i], fmt::format("ids[{}]", i), 1, 0x3fffffff);
        if (!id) return std::unexpected(id.error());
        out.push_back(static_cast<int>(*id));
    }
    return out;
}

// A time as every --json output gives it: integer seconds since the epoch.
std::int64_t epoch_seconds(double seconds) { return static_cast<std::int64_t>(seconds); }

}  // namespace

Result<Request> parse_request(std::string_view line, std::size_t max_bytes) {
    if (line.size() > max_bytes)
        return usage_error(fmt::format("request longer than {} bytes", max_bytes));
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded()) return usage_error("request is not JSON");
    if (!j.is_object()) return usage_error("request is not a JSON object");
    auto op = request_reader.string(j, "op", "");
    if (!op) return std::unexpected(op.error());
    Request r;
    detail::FirstError first;
    if (*op == "status") {
        r.op = Op::status;
    } else if (*op == "reload") {
        r.op = Op::reload;
    } else if (*op == "show") {
        r.op = Op::show;
        first.into(read_ids(j), r.ids);
    } else if (*op == "set-soft") {
        r.op = Op::set_soft;
        first.into(read_ids(j), r.ids);
        first.into(request_reader.boolean(j, "all_threads", "", false), r.all_threads);
        first.into(request_reader.boolean(j, "children", "", false), r.children);
        auto cpus = request_reader.string(j, "cpus", "", "");
        if (!cpus) return std::unexpected(cpus.error());
        if (cpus->empty()) return request_reader.bad("", "missing \"cpus\": a CPU list (\"0-3\") or \"all\"");
        if (*cpus != "all") {
            auto set = parse_id_list(*cpus);
            if (!set || set->empty())
                return request_reader.bad("cpus", fmt::format("\"{}\" is not a CPU list (\"0-3\") or \"all\"", *cpus));
            r.cpus = *set;
        }
    } else if (*op == "advise") {
        r.op = Op::advise;
        first.into(request_reader.integer_or(j, "cpu_hundredths", "", 0, 0), r.cpu_hundredths);
        first.into(request_reader.integer_or(j, "memory_mib", "", 0, 0), r.memory_mib);
        first.into(request_reader.string(j, "reserved", "", ""), r.reserved);
    } else {
        return request_reader.bad("", fmt::format("unknown op \"{}\" (known: set-soft, status, show, reload, advise)", *op));
    }
    return std::move(first).result(std::move(r));
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

namespace {

// The daemon's answers are read field by field, as every JSON input is (JsonReader):
// an answer this affine cannot read is an error naming the field, never a throw.
const detail::JsonReader answer_reader("the daemon's answer");

Result<WorkloadStatus> read_workload(const Json& j, const std::string& where) {
    const auto& r = answer_reader;
    WorkloadStatus w;
    detail::FirstError first;
    first.into(r.integer(j, "pid", where, 1), w.pid);
    first.into(r.string(j, "command", where, ""), w.command);
    first.into(r.integer_or(j, "uid", where, 0, 0, std::numeric_limits<unsigned>::max()), w.uid);
    first.into(r.id_array<CpuTag>(j, "soft", where), w.soft);
    first.into(r.boolean(j, "all_threads", where, false), w.all_threads);
    first.into(r.boolean(j, "children", where, false), w.children);
    first.into(r.string(j, "origin", where, ""), w.origin);
    first.into(r.number(j, "since", where, 0.0), w.since);
    first.into(r.per_id(j, "memory_bytes_per_node", where), w.memory_bytes_per_node);
    const Json* threads = nullptr;
    first.into(r.array(j, "threads", where), threads);
    if (threads != nullptr)
        for (std::size_t i = 0; i < threads->size(); ++i) {
            const Json& t = (*threads)[i];
            std::string at = fmt::format("{}.threads[{}]", where, i);
            ThreadStatus ts;
            first.into(r.integer(t, "tid", at, 1), ts.tid);
            first.into(r.string(t, "name", at, ""), ts.name);
            first.into(r.id_array<CpuTag>(t, "hard", at), ts.hard);
            first.into(r.id_array<CpuTag>(t, "soft", at), ts.soft);
            first.into(r.id_array<CpuTag>(t, "applied", at), ts.applied);
            first.into(r.string(t, "state", at, ""), ts.state);
            first.into(r.number(t, "since", at, 0.0), ts.since);
            first.into(r.string(t, "why", at, ""), ts.why);
            w.threads.push_back(std::move(ts));
        }
    return std::move(first).result(std::move(w));
}

// An answer that does not read is the daemon's failure, not the user's mistake.
template <typename T>
Result<T> as_failure(Result<T> read) {
    if (!read) read.error().kind = ErrorKind::failed;
    return read;
}

}  // namespace

Result<WorkloadStatus> workload_from_json(const Json& j) { return as_failure(read_workload(j, "workload")); }

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
    const auto& r = answer_reader;
    const std::string where = "status";
    DaemonStatus s;
    detail::FirstError first;
    first.into(r.integer_or(j, "daemon_pid", where, 0, 0), s.daemon_pid);
    first.into(r.string(j, "config", where, ""), s.config);
    first.into(r.number(j, "interval_seconds", where, 0.0), s.interval_seconds);
    first.into(r.string(j, "on_stop", where, ""), s.on_stop);
    first.into(r.integer_or(j, "other_users_workloads", where, 0, 0), s.other_users_workloads);
    first.into(r.integer_or(j, "rules", where, 0, 0), s.rules);
    first.into(r.string(j, "process_events", where, ""), s.process_events);
    const Json* workloads = nullptr;
    first.into(r.array(j, "workloads", where), workloads);
    for (std::size_t i = 0; workloads != nullptr && i < workloads->size(); ++i) {
        WorkloadStatus w;
        first.into(read_workload((*workloads)[i], fmt::format("{}.workloads[{}]", where, i)), w);
        s.workloads.push_back(std::move(w));
    }
    // Lists an older daemon did not send are empty.
    const Json* releases = nullptr;
    const Json* placements = nullptr;
    const Json* events = nullptr;
    first.into(r.array_or_empty(j, "releases", where), releases);
    first.into(r.array_or_empty(j, "placements", where), placements);
    first.into(r.array_or_empty(j, "placement_events", where), events);
    for (std::size_t i = 0; releases != nullptr && i < releases->size(); ++i) {
        const Json& e = (*releases)[i];
        std::string at = fmt::format("{}.releases[{}]", where, i);
        ReleaseEvent re;
        first.into(r.integer(e, "pid", at, 1), re.pid);
        first.into(r.integer(e, "tid", at, 1), re.tid);
        first.into(r.number(e, "when", at, 0.0), re.when);
        first.into(r.string(e, "reason", at, ""), re.reason);
        s.releases.push_back(std::move(re));
    }
    for (std::size_t i = 0; placements != nullptr && i < placements->size(); ++i) {
        const Json& p = (*placements)[i];
        std::string at = fmt::format("{}.placements[{}]", where, i);
        PlacementStatus ps;
        first.into(r.integer(p, "pid", at, 1), ps.pid);
        first.into(r.string(p, "command", at, ""), ps.command);
        first.into(r.string(p, "rule", at, ""), ps.rule);
        first.into(r.id_array<NodeTag>(p, "nodes", at), ps.nodes);
        first.into(r.id_array<CpuTag>(p, "cpus", at), ps.cpus);
        first.into(r.number(p, "since", at, 0.0), ps.since);
        first.into(r.string(p, "reason", at, ""), ps.reason);
        first.into(r.integer_or(p, "moved_bytes", at, 0, 0), ps.moved_bytes);
        first.into(r.boolean(p, "widened", at, false), ps.widened);
        first.into(r.per_id(p, "memory_bytes_per_node", at), ps.memory_bytes_per_node);
        first.into(r.string(p, "memory_tier", at, ""), ps.memory_tier);
        first.into(r.id_array<NodeTag>(p, "memory_nodes", at), ps.memory_nodes);
        first.into(r.per_id(p, "memory_bytes_per_tier", at), ps.memory_bytes_per_tier);
        s.placements.push_back(std::move(ps));
    }
    for (std::size_t i = 0; events != nullptr && i < events->size(); ++i) {
        const Json& e = (*events)[i];
        std::string at = fmt::format("{}.placement_events[{}]", where, i);
        PlacementEvent pe;
        first.into(r.number(e, "when", at, 0.0), pe.when);
        first.into(r.string(e, "line", at, ""), pe.line);
        s.placement_events.push_back(std::move(pe));
    }
    return as_failure(std::move(first).result(std::move(s)));
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
    const auto& r = answer_reader;
    Error e;
    std::string kind;
    detail::FirstError first;
    first.into(r.string(j, "kind", "response", "failed"), kind);
    first.into(r.string(j, "error", "response", ""), e.message);
    first.into(r.integer_or(j, "errno", "response", 0, 0, 4095), e.code);
    if (auto read = std::move(first).result(0); !read) return as_failure(Result<Json>(std::unexpected(read.error())));
    e.kind = kind == "usage" ? ErrorKind::usage : ErrorKind::failed;
    return std::unexpected(e);
}

}  // namespace affine::protocol
