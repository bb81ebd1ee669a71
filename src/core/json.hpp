// JSON building blocks shared by every `--json` output and every reader of JSON
// files (nlohmann::json, internal).
#pragma once

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/topology.hpp"
#include "integer.hpp"

namespace affine::detail {

using Json = nlohmann::ordered_json;

// `j` as text, `indent` as Json::dump. Text from other processes is made safe where
// it enters (safe_text.hpp); should a string that is not UTF-8 still get here, it is
// written with U+FFFD in its place instead of throwing: a daemon's reply or journal
// never fails on a name.
inline std::string dump_never_throwing(const Json& j, int indent = -1) {
    return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

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

// Reading JSON that came from outside (host files, state files, request lines):
// every field is checked for presence, type and range before it is used, so that
// no nlohmann exception and no wrapped number escapes, and a problem is a usage
// error "<source>: <where>: <why>" naming the field's JSON path.
class JsonReader {
public:
    // `source`: what is being read, as messages name it ("host file h.json").
    explicit JsonReader(std::string source) : source_(std::move(source)) {}

    // `where` is "" at the top level of the document: "SOURCE: WHY".
    [[nodiscard]] std::unexpected<Error> bad(const std::string& where, const std::string& why) const {
        if (where.empty()) return usage_error(fmt::format("{}: {}", source_, why));
        return usage_error(fmt::format("{}: {}: {}", source_, where, why));
    }

    // obj[key]: an integer from `min` to `max`; missing is an error.
    [[nodiscard]] Result<std::int64_t> integer(const Json& obj, const std::string& key, const std::string& where,
                                               std::int64_t min = 0,
                                               std::int64_t max = std::numeric_limits<int>::max()) const {
        if (!obj.is_object() || !obj.contains(key)) return bad(where, fmt::format("missing field \"{}\"", key));
        return integer_value(obj.at(key), field(where, key), min, max);
    }
    // The same, `fallback` when the field is missing.
    [[nodiscard]] Result<std::int64_t> integer_or(const Json& obj, const std::string& key, const std::string& where,
                                                  std::int64_t fallback, std::int64_t min,
                                                  std::int64_t max = std::numeric_limits<std::int64_t>::max()) const {
        if (!obj.is_object() || !obj.contains(key)) return fallback;
        return integer_value(obj.at(key), field(where, key), min, max);
    }
    [[nodiscard]] Result<std::int64_t> integer_value(const Json& v, const std::string& where, std::int64_t min,
                                                     std::int64_t max) const {
        if (!v.is_number_integer()) return bad(where, "expected an integer");
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max))
            return bad(where, fmt::format("must be at most {}", max));
        auto value = v.get<std::int64_t>();
        if (value < min) return bad(where, fmt::format("must be at least {}", min));
        if (value > max) return bad(where, fmt::format("must be at most {}", max));
        return value;
    }

    // obj[key]: a number (integer or not); `fallback` when missing (no fallback: an error).
    [[nodiscard]] Result<double> number(const Json& obj, const std::string& key, const std::string& where,
                                        std::optional<double> fallback = std::nullopt) const {
        if (!obj.is_object() || !obj.contains(key)) {
            if (fallback) return *fallback;
            return bad(where, fmt::format("missing number \"{}\"", key));
        }
        if (!obj.at(key).is_number()) return bad(field(where, key), "expected a number");
        return obj.at(key).get<double>();
    }

    // obj[key]: an object of id keys and whole numbers ({"0": 4096}); empty when missing.
    [[nodiscard]] Result<std::map<int, std::uint64_t>> per_id(const Json& obj, const std::string& key,
                                                              const std::string& where) const {
        std::map<int, std::uint64_t> out;
        if (!obj.is_object() || !obj.contains(key)) return out;
        const Json& v = obj.at(key);
        if (!v.is_object()) return bad(field(where, key), "expected an object");
        for (const auto& [k, n] : v.items()) {
            auto id = id_key(k, field(where, key));
            if (!id) return std::unexpected(id.error());
            auto value = integer_value(n, field(where, key) + "." + k, 0, std::numeric_limits<std::int64_t>::max());
            if (!value) return std::unexpected(value.error());
            out[*id] = static_cast<std::uint64_t>(*value);
        }
        return out;
    }

    // obj[key]: true or false; `fallback` when missing (no fallback: an error).
    [[nodiscard]] Result<bool> boolean(const Json& obj, const std::string& key, const std::string& where,
                                       std::optional<bool> fallback = std::nullopt) const {
        if (!obj.is_object() || !obj.contains(key)) {
            if (fallback) return *fallback;
            return bad(where, fmt::format("missing boolean \"{}\"", key));
        }
        if (!obj.at(key).is_boolean()) return bad(field(where, key), "expected true or false");
        return obj.at(key).get<bool>();
    }

    // obj[key]: a string; `fallback` when missing (no fallback: an error).
    [[nodiscard]] Result<std::string> string(const Json& obj, const std::string& key, const std::string& where,
                                             std::optional<std::string> fallback = std::nullopt) const {
        if (!obj.is_object() || !obj.contains(key)) {
            if (fallback) return *fallback;
            return bad(where, fmt::format("missing string \"{}\"", key));
        }
        if (!obj.at(key).is_string()) return bad(field(where, key), "expected a string");
        return obj.at(key).get<std::string>();
    }

    // obj[key]: an array; missing or another type is an error.
    [[nodiscard]] Result<const Json*> array(const Json& obj, const std::string& key, const std::string& where) const {
        if (!obj.is_object() || !obj.contains(key) || !obj.at(key).is_array())
            return bad(where, fmt::format("missing array \"{}\"", key));
        return &obj.at(key);
    }

    // obj[key]: an array; an empty one when missing; another type is an error.
    [[nodiscard]] Result<const Json*> array_or_empty(const Json& obj, const std::string& key,
                                                     const std::string& where) const {
        static const Json empty = Json::array();
        if (!obj.is_object() || !obj.contains(key)) return &empty;
        if (!obj.at(key).is_array()) return bad(field(where, key), "expected an array");
        return &obj.at(key);
    }

    // A set of ids: an array of integers from 0 to max_id (id_set.hpp).
    template <typename Tag>
    [[nodiscard]] Result<IdSet<Tag>> id_array(const Json& v, const std::string& where) const {
        if (!v.is_array()) return bad(where, "expected an array of integers");
        IdSet<Tag> set;
        for (std::size_t i = 0; i < v.size(); ++i) {
            auto id = integer_value(v[i], fmt::format("{}[{}]", where, i), 0, max_id);
            if (!id) return bad(fmt::format("{}[{}]", where, i), fmt::format("expected an id from 0 to {}", max_id));
            set.insert(static_cast<int>(*id));
        }
        return set;
    }
    template <typename Tag>
    [[nodiscard]] Result<IdSet<Tag>> id_array(const Json& obj, const std::string& key, const std::string& where) const {
        if (!obj.is_object() || !obj.contains(key)) return bad(where, fmt::format("missing field \"{}\"", key));
        return id_array<Tag>(obj.at(key), field(where, key));
    }

    // An object key that names an id, as in {"3": ...}: digits only, 0 to max_id.
    [[nodiscard]] Result<int> id_key(const std::string& key, const std::string& where) const {
        auto id = parse_integer<int>(key);
        if (!id || *id < 0 || *id > max_id) return bad(where, fmt::format("key \"{}\" is not an id", key));
        return *id;
    }

    // Where a field is: "where.key", or "key" at the top level.
    [[nodiscard]] static std::string field(const std::string& where, const std::string& key) {
        return where.empty() ? key : where + "." + key;
    }

private:
    std::string source_;
};

// The first error of a series of reads: `into(read, field)` stores the value read in
// `field`, or keeps the error when it is the first; `result(value)` is the value when
// every read succeeded.
class FirstError {
public:
    template <typename T, typename U>
    void into(Result<T> read, U& field) {
        if (read) field = static_cast<U>(std::move(*read));
        else if (!error_) error_ = std::move(read.error());
    }
    template <typename T>
    [[nodiscard]] Result<T> result(T value) && {
        if (error_) return std::unexpected(std::move(*error_));
        return value;
    }

private:
    std::optional<Error> error_;
};

Json topology_json(const Topology& topology);
Result<Topology> topology_from_json_value(const Json& json, const std::string& source);

}  // namespace affine::detail
