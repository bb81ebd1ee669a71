// Placement rules from the daemon's TOML configuration.
#include "placement_rules_toml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <set>

#include "affine/size.hpp"
#include "core/safe_text.hpp"

namespace affine::detail {
namespace {

constexpr std::string_view rule_keys[] = {"name",        "comm",         "cgroup",         "uid",
                                          "min_memory",  "min_cpu",      "policy",         "memory_tier",
                                          "exclude_comm", "exclude_cgroup", "exclude_uid"};

struct Reader {
    std::string_view source;

    std::unexpected<Error> error(const toml::node& at, std::string_view key, std::string_view why) const {
        return std::unexpected(toml_error_at(source, at.source().begin.line, fmt::format("{}: {}", key, why)));
    }

    // A value or a non-empty array of values, each given to `take`.
    Result<void> one_or_many(const toml::node& node, std::string_view key,
                             const std::function<Result<void>(const toml::node&)>& take) const {
        if (const toml::array* array = node.as_array()) {
            if (array->empty()) return error(node, key, "an empty array matches nothing");
            for (const toml::node& n : *array)
                if (auto ok = take(n); !ok) return ok;
            return {};
        }
        return take(node);
    }

    // A string or an array of strings.
    Result<std::vector<std::string>> strings(const toml::node& node, std::string_view key) const {
        std::vector<std::string> values;
        auto take = [&](const toml::node& n) -> Result<void> {
            auto s = n.value<std::string>();
            if (!s || !n.is_string()) return error(n, key, "expected a string or an array of strings");
            if (s->empty()) return error(n, key, "an empty string matches nothing");
            values.push_back(*s);
            return {};
        };
        if (auto ok = one_or_many(node, key, take); !ok) return std::unexpected(ok.error());
        return values;
    }

    // A uid or an array of uids.
    Result<std::vector<unsigned>> uids(const toml::node& node, std::string_view key) const {
        std::vector<unsigned> values;
        auto take = [&](const toml::node& n) -> Result<void> {
            auto v = n.value_exact<std::int64_t>();
            if (!v || *v < 0 || *v > 0xfffffffe) return error(n, key, "expected a uid (0 to 4294967294) or an array of uids");
            values.push_back(static_cast<unsigned>(*v));
            return {};
        };
        if (auto ok = one_or_many(node, key, take); !ok) return std::unexpected(ok.error());
        return values;
    }

    Result<void> exclusions(const toml::table& table, WorkloadSelector& into) const {
        if (const toml::node* n = table.get("exclude_comm")) {
            auto v = strings(*n, "exclude_comm");
            if (!v) return std::unexpected(v.error());
            into.comm = *v;
        }
        if (const toml::node* n = table.get("exclude_cgroup")) {
            auto v = strings(*n, "exclude_cgroup");
            if (!v) return std::unexpected(v.error());
            into.cgroup = *v;
        }
        if (const toml::node* n = table.get("exclude_uid")) {
            auto v = uids(*n, "exclude_uid");
            if (!v) return std::unexpected(v.error());
            into.uid = *v;
        }
        return {};
    }

    Result<PlacementRule> rule(const toml::table& table) const {
        for (const auto& [key, value] : table)
            if (std::ranges::find(rule_keys, key.str()) == std::end(rule_keys))
                return error(value, fmt::format("[[rule]] {}", key.str()),
                             "unknown key (allowed: name, comm, cgroup, uid, min_memory, min_cpu, policy, "
                             "memory_tier, exclude_comm, exclude_cgroup, exclude_uid)");
        PlacementRule r;
        const toml::node* name = table.get("name");
        if (!name) return error(table, "[[rule]]", "every rule needs a name (for the log and `affine daemon status`)");
        auto name_text = name->value<std::string>();
        if (!name->is_string() || !name_text || name_text->empty()) return error(*name, "name", "expected a non-empty string");
        r.name = detail::safe_text(*name_text);  // it reaches the log, the status and --json
        if (const toml::node* n = table.get("comm")) {
            auto v = strings(*n, "comm");
            if (!v) return std::unexpected(v.error());
            r.match.comm = *v;
        }
        if (const toml::node* n = table.get("cgroup")) {
            auto v = strings(*n, "cgroup");
            if (!v) return std::unexpected(v.error());
            for (const std::string& path : *v)
                if (!path.starts_with('/')) return error(*n, "cgroup", fmt::format("'{}' is not a cgroup path (starts with /)", path));
            r.match.cgroup = *v;
        }
        if (const toml::node* n = table.get("uid")) {
            auto v = uids(*n, "uid");
            if (!v) return std::unexpected(v.error());
            r.match.uid = *v;
        }
        if (const toml::node* n = table.get("min_memory")) {
            if (auto bytes = n->value_exact<std::int64_t>(); bytes && *bytes >= 0) {
                r.min_memory_bytes = static_cast<std::uint64_t>(*bytes);
            } else if (auto text = n->value_exact<std::string>()) {
                auto size = parse_size(*text);
                if (!size) return error(*n, "min_memory", size.error().message);
                r.min_memory_bytes = *size;
            } else {
                return error(*n, "min_memory", "expected a size such as \"300M\" or a number of bytes");
            }
        }
        if (const toml::node* n = table.get("min_cpu")) {
            auto cpus = n->value<double>();
            if (!cpus || !(n->is_floating_point() || n->is_integer()) || *cpus < 0.0 || *cpus > 1e6)
                return error(*n, "min_cpu", "expected a number of CPUs such as 0.5");
            r.min_cpu = *cpus;
        }
        if (const toml::node* n = table.get("policy")) {
            auto text = n->value_exact<std::string>();
            if (!text) return error(*n, "policy", "expected a string: best-effort, best-effort-hard or prio-mem-only");
            auto policy = parse_placement_policy(*text);
            if (!policy) return error(*n, "policy", policy.error().message);
            if (*policy == PlacementPolicy::any)
                return error(*n, "policy", "'any' places nothing; leave the workload out of the rules instead");
            r.policy = *policy;
        }
        if (const toml::node* n = table.get("memory_tier")) {
            auto text = n->value_exact<std::string>();
            if (!text) return error(*n, "memory_tier", "expected a string: top or any");
            auto use = parse_memory_tier_use(*text);
            if (!use) return error(*n, "memory_tier", use.error().message);
            r.memory_tier = *use;
        }
        if (auto ok = exclusions(table, r.exclude); !ok) return std::unexpected(ok.error());
        return r;
    }
};

}  // namespace

Result<PlacementRules> placement_rules_from_toml(const toml::table& root, std::string_view source) {
    Reader reader{source};
    PlacementRules rules;
    if (auto ok = reader.exclusions(root, rules.exclude); !ok) return std::unexpected(ok.error());
    const toml::node* list = root.get("rule");
    if (!list) return rules;
    const toml::array* array = list->as_array();
    if (!array || !array->is_array_of_tables())
        return reader.error(*list, "rule", "expected [[rule]] tables");
    std::set<std::string> names;
    for (const toml::node& node : *array) {
        auto rule = reader.rule(*node.as_table());
        if (!rule) return std::unexpected(rule.error());
        if (!names.insert(rule->name).second)
            return reader.error(node, "name", fmt::format("two rules are named '{}'", rule->name));
        rules.rules.push_back(std::move(*rule));
    }
    return rules;
}

Result<PlacementRules> placement_rules_from_toml_text(std::string_view text, std::string_view source) {
    auto root = parse_toml(text, source);
    if (!root) return std::unexpected(root.error());
    return placement_rules_from_toml(*root, source);
}

}  // namespace affine::detail
