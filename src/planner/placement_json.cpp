#include "placement_json.hpp"

#include <fmt/format.h>

#include <charconv>

#include "affine/size.hpp"

namespace affine {
namespace detail {
namespace {

Json score_json(const PlanScore& s) {
    Json o;
    o["node_count"] = s.node_count;
    o["resident_bytes"] = s.resident_bytes;
    o["worst_distance"] = s.worst_distance;
    o["projected_load"] = s.node_load_den == 0 ? Json(nullptr) : Json(s.projected_load());
    o["mean_load"] = s.load_cpus == 0 ? Json(nullptr) : Json(s.mean_load());
    o["load_vcpus"] = s.load_vcpus;
    o["load_cpus"] = s.load_cpus;
    o["least_free_fraction"] = s.least_free_fraction();
    o["least_free_left_bytes"] = s.least_free_left_bytes;
    o["least_free_total_bytes"] = s.least_free_total_bytes;
    o["free_memory_left_bytes"] = s.free_memory_left_bytes;
    return o;
}

Json text_or_null(const std::string& text) { return text.empty() ? Json(nullptr) : Json(text); }

}  // namespace

Json plan_json(const Plan& plan) {
    Json o;
    o["name"] = plan.name;
    o["fits"] = plan.fits();
    o["outcome"] = to_string(plan.outcome);
    o["policy"] = to_string(plan.policy);
    o["nodes"] = ids_json(plan.nodes);
    o["cpus"] = ids_json(plan.cpus);
    o["affinity"] = to_string(plan.affinity);
    o["soft_cpus"] = ids_json(plan.soft_cpus);
    o["hard_cpus"] = ids_json(plan.hard_cpus);
    o["memory_bytes_per_node"] = per_node_json(plan.memory_bytes_per_node);
    o["memory_bytes_per_tier"] = per_node_json(plan.memory_bytes_per_tier);
    o["vcpus_per_node"] = per_node_json(plan.vcpus_per_node);
    o["score"] = score_json(plan.score);
    o["search"] = to_string(plan.search);
    Json runners = Json::array();
    for (const RunnerUp& r : plan.runners_up) {
        Json j;
        j["nodes"] = ids_json(r.nodes);
        j["lost_on"] = to_string(r.lost_on);
        j["reason"] = r.reason;
        j["score"] = score_json(r.score);
        runners.push_back(std::move(j));
    }
    o["runners_up"] = std::move(runners);
    o["why_not_fewer_nodes"] = text_or_null(plan.why_not_fewer_nodes);
    o["fallback"] = text_or_null(plan.fallback);
    return o;
}

Json placement_host_json(const PlacementHost& host) {
    const Topology& t = host.topology;
    CpuSet usable = (t.online_cpus() & t.allowed_cpus) - host.reserved;
    Json nodes = Json::array();
    for (const Node& n : t.nodes) {
        int cpus = (n.cpus & usable).count();
        int vcpus = 0;
        if (auto it = host.vcpus_per_node.find(n.id); it != host.vcpus_per_node.end()) vcpus = it->second;
        Json j;
        j["id"] = n.id;
        j["usable_cpus"] = ids_json(n.cpus & usable);
        j["memory_total_bytes"] = n.memory_total_bytes;
        j["memory_free_bytes"] = n.memory_free_bytes;
        j["vcpus"] = vcpus;
        j["load"] = cpus == 0 ? Json(nullptr) : Json(static_cast<double>(vcpus) / cpus);
        nodes.push_back(std::move(j));
    }
    Json o;
    o["source"] = t.source;
    o["reserved_cpus"] = ids_json(host.reserved);
    o["nodes"] = std::move(nodes);
    return o;
}

}  // namespace detail

namespace {

std::unexpected<Error> bad_request(const std::string& field, const std::string& why) {
    return usage_error(fmt::format("placement request: \"{}\": {}", field, why));
}

Result<std::uint64_t> size_field(const detail::Json& v, const std::string& field) {
    if (v.is_number_unsigned() || (v.is_number_integer() && v.get<long long>() > 0)) {
        auto bytes = v.get<std::uint64_t>();
        if (bytes == 0) return bad_request(field, "must be more than 0 bytes");
        return bytes;
    }
    if (v.is_string()) {
        auto size = parse_size(v.get<std::string>());
        if (!size) return bad_request(field, size.error().message);
        return *size;
    }
    return bad_request(field, "expected a size (\"2G\") or a number of bytes");
}

}  // namespace

Result<PlacementRequest> placement_request_from_json(std::string_view line, PlacementPolicy default_policy) {
    detail::Json j = detail::Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return usage_error("placement request: expected one JSON object per line, such as "
                           "{\"name\": \"vm1\", \"vcpus\": 2, \"memory\": \"2G\"}");
    PlacementRequest r;
    r.policy = default_policy;
    if (!j.contains("vcpus")) return bad_request("vcpus", "missing (vcpus and memory are required)");
    if (!j.contains("memory")) return bad_request("memory", "missing (vcpus and memory are required)");
    for (const auto& [key, value] : j.items()) {
        if (key == "name") {
            if (!value.is_string()) return bad_request(key, "expected a string");
            r.name = value.get<std::string>();
        } else if (key == "vcpus") {
            if (!value.is_number_integer() || value.get<long long>() < 1 || value.get<long long>() > (1 << 20))
                return bad_request(key, "expected an integer of at least 1");
            r.vcpus = value.get<int>();
        } else if (key == "memory") {
            auto bytes = size_field(value, key);
            if (!bytes) return std::unexpected(bytes.error());
            r.memory_bytes = *bytes;
        } else if (key == "cores") {
            if (!value.is_boolean()) return bad_request(key, "expected true or false");
            r.unit = value.get<bool>() ? VcpuUnit::core : VcpuUnit::cpu;
        } else if (key == "policy") {
            if (!value.is_string()) return bad_request(key, "expected a policy name");
            auto policy = parse_placement_policy(value.get<std::string>());
            if (!policy) return std::unexpected(policy.error());
            r.policy = *policy;
        } else if (key == "resident") {
            if (!value.is_object()) return bad_request(key, "expected an object {\"<node>\": size}");
            for (const auto& [node_text, bytes_json] : value.items()) {
                int node = -1;
                auto [ptr, ec] = std::from_chars(node_text.data(), node_text.data() + node_text.size(), node);
                if (ec != std::errc{} || ptr != node_text.data() + node_text.size() || node < 0)
                    return bad_request(key, fmt::format("key \"{}\" is not a node id", node_text));
                auto bytes = size_field(bytes_json, key + "." + node_text);
                if (!bytes) return std::unexpected(bytes.error());
                r.resident_bytes_per_node[node] = *bytes;
            }
        } else {
            return bad_request(key, "unknown field (expected name, vcpus, memory, cores, policy, resident)");
        }
    }
    return r;
}

std::string plan_to_json(const Plan& plan) { return detail::plan_json(plan).dump(); }

std::string placement_host_to_json(const PlacementHost& host) { return detail::placement_host_json(host).dump(); }

}  // namespace affine
