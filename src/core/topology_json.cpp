#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "json.hpp"

namespace affine {
namespace detail {
namespace {

template <typename T>
Json optional_json(const std::optional<T>& v) {
    return v ? Json(*v) : Json(nullptr);
}

Json access_json(const MemoryAccess& a) {
    return {{"class", a.access_class},
            {"initiators", ids_json(a.initiators)},
            {"read_bandwidth_mbps", optional_json(a.read_bandwidth_mbps)},
            {"write_bandwidth_mbps", optional_json(a.write_bandwidth_mbps)},
            {"read_latency_ns", optional_json(a.read_latency_ns)},
            {"write_latency_ns", optional_json(a.write_latency_ns)}};
}

Json cache_json(const MemorySideCache& c) {
    return {{"level", c.level},
            {"size_bytes", c.size_bytes},
            {"line_bytes", c.line_bytes},
            {"indexing", to_string(c.indexing)},
            {"write_policy", to_string(c.write_policy)}};
}

// Reading a host file: every problem is reported with the JSON path of the field.
class HostFileReader : JsonReader {
public:
    explicit HostFileReader(std::string source) : JsonReader("host file " + source), source_(std::move(source)) {}

    Result<Topology> read(const Json& json) const {
        if (!json.is_object()) return bad("top level", "expected an object");
        if (!json.contains("cpus") || !json["cpus"].is_array()) return bad("top level", "missing array \"cpus\"");
        if (!json.contains("nodes") || !json["nodes"].is_array()) return bad("top level", "missing array \"nodes\"");
        Topology t;
        t.source = source_;
        for (std::size_t i = 0; i < json["cpus"].size(); ++i) {
            const Json& c = json["cpus"][i];
            std::string where = fmt::format("cpus[{}]", i);
            if (!c.is_object()) return bad(where, "expected an object");
            Cpu cpu;
            auto id = integer(c, "id", where);
            if (!id) return std::unexpected(id.error());
            auto node = integer(c, "node", where, -1);  // -1: an offline CPU of unknown node
            if (!node) return std::unexpected(node.error());
            auto core = integer(c, "core", where, -1);
            if (!core) return std::unexpected(core.error());
            auto package = integer(c, "package", where, -1);
            if (!package) return std::unexpected(package.error());
            if (!c.contains("online") || !c["online"].is_boolean()) return bad(where, "missing boolean \"online\"");
            cpu.id = static_cast<int>(*id);
            cpu.node = static_cast<int>(*node);
            cpu.core = static_cast<int>(*core);
            cpu.package = static_cast<int>(*package);
            cpu.online = c["online"].get<bool>();
            for (auto [key, field] : {std::pair{"die", &cpu.die}, {"l3", &cpu.l3}}) {
                if (!c.contains(key) || c[key].is_null()) continue;
                auto value = integer(c, key, where);
                if (!value) return std::unexpected(value.error());
                *field = static_cast<int>(*value);
            }
            t.cpus.push_back(cpu);
        }
        for (std::size_t i = 0; i < json["nodes"].size(); ++i) {
            const Json& n = json["nodes"][i];
            std::string where = fmt::format("nodes[{}]", i);
            if (!n.is_object()) return bad(where, "expected an object");
            Node node;
            auto id = integer(n, "id", where);
            if (!id) return std::unexpected(id.error());
            node.id = static_cast<int>(*id);
            if (!n.contains("cpus")) return bad(where, "missing field \"cpus\"");
            auto cpus = id_array<CpuTag>(n["cpus"], where + ".cpus");
            if (!cpus) return std::unexpected(cpus.error());
            node.cpus = *cpus;
            auto total = integer(n, "memory_total_bytes", where, 0, std::numeric_limits<std::int64_t>::max());
            if (!total) return std::unexpected(total.error());
            auto free = integer(n, "memory_free_bytes", where, 0, std::numeric_limits<std::int64_t>::max());
            if (!free) return std::unexpected(free.error());
            if (*free > *total) return bad(where, "memory_free_bytes exceeds memory_total_bytes");
            node.memory_total_bytes = static_cast<std::uint64_t>(*total);
            node.memory_free_bytes = static_cast<std::uint64_t>(*free);
            if (!n.contains("distances") || !n["distances"].is_object())
                return bad(where, "missing object \"distances\"");
            for (const auto& [key, value] : n["distances"].items()) {
                // Any node number here; checked_topology says which are out of range.
                auto to = parse_integer<int>(key);
                if (!to || *to < 0) return bad(where + ".distances", fmt::format("key \"{}\" is not a node id", key));
                auto d = integer_value(value, fmt::format("{}.distances.{}", where, key), 0,
                                       std::numeric_limits<int>::max());
                if (!d) return std::unexpected(d.error());
                node.distances[*to] = static_cast<int>(*d);
            }
            if (auto tiers = read_tiering(n, where, node); !tiers) return std::unexpected(tiers.error());
            t.nodes.push_back(std::move(node));
        }
        auto checked = checked_topology(std::move(t), "host file " + source_);
        if (!checked) return std::unexpected(checked.error());
        t = std::move(*checked);
        t.allowed_cpus = t.online_cpus();
        t.allowed_nodes = t.all_nodes();
        if (json.contains("allowed_cpus")) {
            auto s = id_array<CpuTag>(json["allowed_cpus"], "allowed_cpus");
            if (!s) return std::unexpected(s.error());
            t.allowed_cpus = *s;
        }
        if (json.contains("allowed_nodes")) {
            auto s = id_array<NodeTag>(json["allowed_nodes"], "allowed_nodes");
            if (!s) return std::unexpected(s.error());
            t.allowed_nodes = *s;
        }
        if (json.contains("numa_balancing") && json["numa_balancing"].is_boolean())
            t.numa_balancing = json["numa_balancing"].get<bool>();
        return t;
    }

private:
    // The optional tiered-memory fields of a node: memory_tier, access and
    // memory_side_caches (null or missing: not known).
    Result<void> read_tiering(const Json& n, const std::string& where, Node& node) const {
        if (n.contains("memory_tier") && !n["memory_tier"].is_null()) {
            auto tier = integer(n, "memory_tier", where, 0, max_id);
            if (!tier) return std::unexpected(tier.error());
            node.memory_tier = static_cast<int>(*tier);
        }
        constexpr auto unbounded = std::numeric_limits<std::int64_t>::max();
        auto figure = [&](const Json& obj, const char* key, const std::string& at,
                          std::optional<std::uint64_t>& out) -> Result<void> {
            if (!obj.contains(key) || obj[key].is_null()) return {};
            auto v = integer(obj, key, at, 1, unbounded);
            if (!v) return std::unexpected(v.error());
            out = static_cast<std::uint64_t>(*v);
            return {};
        };
        if (n.contains("access")) {
            auto list = array(n, "access", where);
            if (!list) return std::unexpected(list.error());
            for (std::size_t i = 0; i < (*list)->size(); ++i) {
                const Json& a = (**list)[i];
                std::string at = fmt::format("{}.access[{}]", where, i);
                MemoryAccess access;
                auto access_class = integer(a, "class", at, 0, 1);
                if (!access_class) return std::unexpected(access_class.error());
                access.access_class = static_cast<int>(*access_class);
                auto initiators = id_array<NodeTag>(a, "initiators", at);
                if (!initiators) return std::unexpected(initiators.error());
                access.initiators = *initiators;
                for (auto [key, field] : {std::pair{"read_bandwidth_mbps", &access.read_bandwidth_mbps},
                                          {"write_bandwidth_mbps", &access.write_bandwidth_mbps},
                                          {"read_latency_ns", &access.read_latency_ns},
                                          {"write_latency_ns", &access.write_latency_ns}})
                    if (auto ok = figure(a, key, at, *field); !ok) return ok;
                node.access.push_back(std::move(access));
            }
        }
        if (n.contains("memory_side_caches")) {
            auto list = array(n, "memory_side_caches", where);
            if (!list) return std::unexpected(list.error());
            for (std::size_t i = 0; i < (*list)->size(); ++i) {
                const Json& c = (**list)[i];
                std::string at = fmt::format("{}.memory_side_caches[{}]", where, i);
                MemorySideCache cache;
                auto level = integer(c, "level", at, 1, max_id);
                if (!level) return std::unexpected(level.error());
                auto size = integer(c, "size_bytes", at, 0, unbounded);
                if (!size) return std::unexpected(size.error());
                auto line = integer(c, "line_bytes", at, 0, unbounded);
                if (!line) return std::unexpected(line.error());
                auto indexing = string(c, "indexing", at, "unknown");
                if (!indexing) return std::unexpected(indexing.error());
                auto policy = string(c, "write_policy", at, "unknown");
                if (!policy) return std::unexpected(policy.error());
                auto indexing_value = cache_indexing_named(*indexing);
                if (!indexing_value)
                    return bad(at + ".indexing", fmt::format("\"{}\" is not direct-mapped, indexed, other or unknown", *indexing));
                auto policy_value = cache_write_policy_named(*policy);
                if (!policy_value)
                    return bad(at + ".write_policy",
                               fmt::format("\"{}\" is not write-back, write-through, other or unknown", *policy));
                cache.level = static_cast<int>(*level);
                cache.size_bytes = static_cast<std::uint64_t>(*size);
                cache.line_bytes = static_cast<std::uint64_t>(*line);
                cache.indexing = *indexing_value;
                cache.write_policy = *policy_value;
                node.memory_side_caches.push_back(cache);
            }
        }
        return {};
    }

    std::string source_;
};

}  // namespace

Json topology_json(const Topology& topology) {
    Json cpus = Json::array();
    for (const Cpu& c : topology.cpus) {
        cpus.push_back({{"id", c.id}, {"online", c.online}, {"node", c.node}, {"core", c.core},
                        {"package", c.package}, {"die", optional_json(c.die)}, {"l3", optional_json(c.l3)}});
    }
    Json nodes = Json::array();
    for (const Node& n : topology.nodes) {
        Json distances = Json::object();
        for (const auto& [to, d] : n.distances) distances[std::to_string(to)] = d;
        Json access = Json::array();
        for (const MemoryAccess& a : n.access) access.push_back(access_json(a));
        Json caches = Json::array();
        for (const MemorySideCache& c : n.memory_side_caches) caches.push_back(cache_json(c));
        nodes.push_back({{"id", n.id},
                         {"cpus", ids_json(n.cpus)},
                         {"memory_total_bytes", n.memory_total_bytes},
                         {"memory_free_bytes", n.memory_free_bytes},
                         {"distances", distances},
                         {"memory_tier", optional_json(n.memory_tier)},
                         {"access", std::move(access)},
                         {"memory_side_caches", std::move(caches)},
                         {"has_cpus", n.has_cpus()},
                         {"has_memory", n.has_memory()},
                         {"cores", topology.cores_of(n.id).size()}});
    }
    Json out;
    out["source"] = topology.source;
    out["cpus"] = std::move(cpus);
    out["nodes"] = std::move(nodes);
    out["allowed_cpus"] = ids_json(topology.allowed_cpus);
    out["allowed_nodes"] = ids_json(topology.allowed_nodes);
    out["numa_balancing"] = topology.numa_balancing ? Json(*topology.numa_balancing) : Json(nullptr);
    return out;
}

Result<Topology> topology_from_json_value(const Json& json, const std::string& source) {
    return HostFileReader(source).read(json);
}

}  // namespace detail

std::string topology_to_json(const Topology& topology) { return detail::topology_json(topology).dump(2); }

Result<Topology> topology_from_json(std::string_view json_text, const std::string& source) {
    auto json = detail::Json::parse(json_text, nullptr, false);
    if (json.is_discarded()) return usage_error(fmt::format("host file {}: not valid JSON", source));
    return detail::topology_from_json_value(json, source);
}

}  // namespace affine
