// JSON building blocks shared by every `--json` output (nlohmann::json, internal).
#pragma once

#include <nlohmann/json.hpp>

#include <map>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/topology.hpp"

namespace affine::detail {

using Json = nlohmann::ordered_json;

// A set as a JSON array of integers, lowest first.
template <typename Tag>
Json ids_json(const IdSet<Tag>& set) {
    Json a = Json::array();
    for (int id : set) a.push_back(id);
    return a;
}

// A per-node map {"<node id>": value} (JSON object keys are strings).
template <typename Value>
Json per_node_json(const std::map<int, Value>& values) {
    Json o = Json::object();
    for (const auto& [node, v] : values) o[std::to_string(node)] = v;
    return o;
}

Json topology_json(const Topology& topology);
Result<Topology> topology_from_json_value(const Json& json, const std::string& source);

}  // namespace affine::detail
