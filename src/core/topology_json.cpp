#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "json.hpp"

namespace affine {
namespace detail {
namespace {

Json optional_json(const std::optional<int>& v) { return v ? Json(*v) : Json(nullptr); }

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
        nodes.push_back({{"id", n.id},
                         {"cpus", ids_json(n.cpus)},
                         {"memory_total_bytes", n.memory_total_bytes},
                         {"memory_free_bytes", n.memory_free_bytes},
                         {"distances", distances},
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
