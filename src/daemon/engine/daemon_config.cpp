// The daemon's configuration: TOML through toml++ (one configuration for the whole
// program: core/toml.hpp), checked key by key with the line of each error.
#include "core/toml.hpp"

#include "daemon_config.hpp"
#include "placement_rules_toml.hpp"
#include "core/rounding.hpp"
#include "core/safe_text.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include "affine/set_grammar.hpp"
#include "affine/size.hpp"

namespace affine {

std::string_view to_string(OnStop on_stop) { return on_stop == OnStop::restore ? "restore" : "leave"; }

Result<Millis> parse_duration(std::string_view text) {
    auto bad = [&] {
        return usage_error(fmt::format("bad duration \"{}\": expected a number and a unit, as 500ms, 2s, 1.5s or 1m",
                                       text));
    };
    std::size_t unit_at = 0;
    while (unit_at < text.size() && (std::isdigit(static_cast<unsigned char>(text[unit_at])) != 0 || text[unit_at] == '.'))
        ++unit_at;
    if (unit_at == 0) return bad();
    double value = 0;
    auto number = text.substr(0, unit_at);
    // strtod (libc++ 16 has no floating-point from_chars, and affine may be built with it).
    // The text is digits and dots only (checked above), so the locale cannot matter.
    std::string digits(number);
    char* end = nullptr;
    value = std::strtod(digits.c_str(), &end);
    if (end != digits.c_str() + digits.size()) return bad();
    std::string_view unit = text.substr(unit_at);
    double ms = 0;
    if (unit == "ms") ms = value;
    else if (unit == "s") ms = value * 1000;
    else if (unit == "m") ms = value * 60000;
    else return bad();
    if (!std::isfinite(ms) || ms > 1e9) return bad();
    return Millis{static_cast<long long>(detail::round_to_whole(ms))};
}

std::string format_duration(Millis ms) {
    if (ms.count() % 60000 == 0 && ms.count() != 0) return fmt::format("{}m", ms.count() / 60000);
    if (ms.count() % 1000 == 0 && ms.count() != 0) return fmt::format("{}s", ms.count() / 1000);
    return fmt::format("{}ms", ms.count());
}

namespace {

// Reads one table's keys, each once, and says where a bad one is.
class TableReader {
public:
    TableReader(const toml::table& table, const std::string& source, std::string where)
        : table_(table), source_(source), where_(std::move(where)) {}

    std::unexpected<Error> error_at(const toml::node& node, const std::string& message) const {
        return std::unexpected(detail::toml_error_at(source_, node.source().begin.line, message));
    }
    std::unexpected<Error> error_here(const std::string& message) const {
        return std::unexpected(detail::toml_error_at(source_, table_.source().begin.line, message));
    }

    const toml::node* take(std::string_view key) {
        seen_.insert(std::string(key));
        return table_.get(key);
    }

    Result<std::optional<std::string>> string(std::string_view key) {
        const toml::node* n = take(key);
        if (n == nullptr) return std::nullopt;
        if (auto s = n->value<std::string>()) return *s;
        return error_at(*n, fmt::format("{}{} must be a string", where_, key));
    }
    Result<std::optional<double>> number(std::string_view key, double min, double max) {
        const toml::node* n = take(key);
        if (n == nullptr) return std::nullopt;
        auto v = n->value<double>();
        if (!v) return error_at(*n, fmt::format("{}{} must be a number", where_, key));
        if (!(*v >= min && *v <= max))
            return error_at(*n, fmt::format("{}{} = {} is out of range ({} to {})", where_, key, *v, min, max));
        return *v;
    }
    Result<std::optional<long long>> integer(std::string_view key, long long min, long long max) {
        const toml::node* n = take(key);
        if (n == nullptr) return std::nullopt;
        if (!n->is_integer()) return error_at(*n, fmt::format("{}{} must be an integer", where_, key));
        long long v = *n->value<long long>();
        if (v < min || v > max)
            return error_at(*n, fmt::format("{}{} = {} is out of range ({} to {})", where_, key, v, min, max));
        return v;
    }
    Result<std::optional<Millis>> duration(std::string_view key, Millis min, Millis max) {
        auto text = string(key);
        if (!text) return std::unexpected(text.error());
        if (!*text) return std::nullopt;
        const toml::node& n = *table_.get(key);
        auto d = parse_duration(**text);
        if (!d) return error_at(n, fmt::format("{}{}: {}", where_, key, d.error().message));
        if (*d < min || *d > max)
            return error_at(n, fmt::format("{}{} = \"{}\" is out of range ({} to {})", where_, key, **text,
                                           format_duration(min), format_duration(max)));
        return *d;
    }
    // A size: "64M" (the size grammar) or a number of bytes.
    Result<std::optional<std::uint64_t>> size(std::string_view key, std::uint64_t min, std::uint64_t max) {
        const toml::node* n = take(key);
        if (n == nullptr) return std::nullopt;
        std::uint64_t bytes = 0;
        if (auto i = n->value<long long>(); i && n->is_integer() && *i >= 0) {
            bytes = static_cast<std::uint64_t>(*i);
        } else if (auto text = n->value<std::string>()) {
            auto parsed = parse_size(*text);
            if (!parsed) return error_at(*n, fmt::format("{}{}: {}", where_, key, parsed.error().message));
            bytes = *parsed;
        } else {
            return error_at(*n, fmt::format("{}{} must be a size (\"64M\") or a number of bytes", where_, key));
        }
        if (bytes < min || bytes > max)
            return error_at(*n, fmt::format("{}{} = {} is out of range ({} to {})", where_, key, format_size(bytes),
                                           format_size(min), format_size(max)));
        return bytes;
    }
    Result<std::optional<CpuSet>> cpus(std::string_view key, const Topology& host) {
        auto text = string(key);
        if (!text) return std::unexpected(text.error());
        if (!*text || (*text)->empty()) return std::nullopt;
        auto set = parse_cpu_set(**text, host);
        if (!set) return error_at(*table_.get(key), fmt::format("{}{}: {}", where_, key, set.error().message));
        return *set;
    }
    // Every key not taken is unknown: a typo must not pass as a default.
    Result<void> no_other_keys(std::string_view allowed) const {
        for (const auto& [key, node] : table_)
            if (!seen_.contains(std::string(key.str())))
                return error_at(node, fmt::format("unknown key {}{} (known: {})", where_, key.str(), allowed));
        return {};
    }

private:
    const toml::table& table_;
    const std::string& source_;
    std::string where_;
    std::set<std::string> seen_;
};

#define AFFINE_TRY(var, expr)                                   \
    auto var = (expr);                                          \
    if (!var) return std::unexpected(std::move(var.error()))

Result<void> read_tuning(TableReader& r, SoftAffinityTuning& t) {
    const Millis ms{1};
    const Millis hour{3600 * 1000};
    AFFINE_TRY(wait, r.number("wait_threshold", 0.01, 1.0));
    if (*wait) t.wait_threshold = **wait;
    AFFINE_TRY(widen, r.duration("widen_after", Millis{0}, hour));
    if (*widen) t.widen_after = **widen;
    AFFINE_TRY(idle, r.number("idle_threshold", 0.01, 1.0));
    if (*idle) t.idle_threshold = **idle;
    AFFINE_TRY(room, r.number("return_room", 0.01, 1.0));
    if (*room) t.return_room = **room;
    AFFINE_TRY(narrow, r.duration("narrow_after", ms, hour));
    if (*narrow) t.narrow_after = **narrow;
    AFFINE_TRY(dwell, r.duration("min_dwell", Millis{0}, hour));
    if (*dwell) t.min_dwell = **dwell;
    AFFINE_TRY(window, r.duration("flap_window", Millis{0}, hour));
    if (*window) t.flap_window = **window;
    AFFINE_TRY(backoff, r.duration("max_backoff", ms, hour));
    if (*backoff) t.max_backoff = **backoff;
    return r.no_other_keys("wait_threshold, widen_after, idle_threshold, return_room, narrow_after, min_dwell, "
                           "flap_window, max_backoff");
}

Result<void> read_placement(TableReader& r, RebalanceOptions& o) {
    const Millis hour{3600 * 1000};
    AFFINE_TRY(residency, r.duration("min_residency", Millis{0}, hour));
    if (*residency) o.min_residency = **residency;
    AFFINE_TRY(load, r.number("overload_load", 0.1, 16.0));
    if (*load) o.overload_load = **load;
    AFFINE_TRY(after, r.duration("overload_after", Millis{0}, hour));
    if (*after) o.overload_after = **after;
    AFFINE_TRY(drift, r.number("drift_share", 0.1, 1.0));
    if (*drift) o.drift_share = **drift;
    AFFINE_TRY(cooldown, r.duration("memory_cooldown", Millis{0}, hour));
    if (*cooldown) o.memory_cooldown = **cooldown;
    const std::uint64_t page = 4096;
    const std::uint64_t tib = std::uint64_t{1} << 40;
    AFFINE_TRY(chunk, r.size("move_chunk", page, tib));
    if (*chunk) o.chunk_bytes = **chunk;
    AFFINE_TRY(budget, r.size("move_budget", page, tib));
    if (*budget) o.budget_bytes_per_second = **budget;
    AFFINE_TRY(burst, r.size("move_burst", page, tib));
    if (*burst) o.budget_burst_bytes = **burst;
    return r.no_other_keys("min_residency, overload_load, overload_after, drift_share, memory_cooldown, move_chunk, "
                           "move_budget, move_burst");
}

}  // namespace

Result<DaemonConfig> parse_daemon_config(std::string_view text, const std::string& path, const Topology& host) {
    // The file name reaches the log, the status and error messages.
    const std::string source = detail::safe_text(path);
    DaemonConfig config;
    config.source = source;
    auto parsed = detail::parse_toml(text, source);
    if (!parsed) return std::unexpected(parsed.error());
    const toml::table& root = *parsed;
    TableReader r(root, source, "");
    AFFINE_TRY(interval, r.duration("interval", Millis{100}, Millis{60000}));
    if (*interval) config.interval = **interval;
    AFFINE_TRY(on_stop, r.string("on_stop"));
    if (*on_stop) {
        if (**on_stop == "restore") config.on_stop = OnStop::restore;
        else if (**on_stop == "leave") config.on_stop = OnStop::leave;
        else return r.error_at(*root.get("on_stop"), fmt::format("on_stop = \"{}\": expected \"restore\" or \"leave\"",
                                                                 **on_stop));
    }
    AFFINE_TRY(reserved, r.cpus("reserved_cpus", host));
    if (*reserved) {
        if ((host.online_cpus() - **reserved).empty())
            return r.error_at(*root.get("reserved_cpus"), "reserved_cpus leaves no online CPU for managed threads");
        config.reserved_cpus = **reserved;
    }
    AFFINE_TRY(housekeeping, r.cpus("housekeeping_cpus", host));
    if (*housekeeping) config.housekeeping_cpus = **housekeeping;
    AFFINE_TRY(max_request, r.integer("max_request_bytes", 1024, 1 << 24));
    if (*max_request) config.max_request_bytes = static_cast<std::size_t>(**max_request);
    AFFINE_TRY(max_workloads, r.integer("max_workloads_per_user", 1, 1 << 20));
    if (*max_workloads) config.max_workloads_per_user = static_cast<std::size_t>(**max_workloads);
    AFFINE_TRY(max_threads, r.integer("max_threads_per_user", 1, 1 << 22));
    if (*max_threads) config.max_threads_per_user = static_cast<std::size_t>(**max_threads);

    if (const toml::node* soft = r.take("soft_affinity")) {
        const toml::table* table = soft->as_table();
        if (table == nullptr) return r.error_at(*soft, "soft_affinity must be a table ([soft_affinity])");
        TableReader tr(*table, source, "soft_affinity.");
        if (auto t = read_tuning(tr, config.tuning); !t) return std::unexpected(t.error());
    }
    if (const toml::node* placement = r.take("placement")) {
        const toml::table* table = placement->as_table();
        if (table == nullptr) return r.error_at(*placement, "placement must be a table ([placement])");
        TableReader tr(*table, source, "placement.");
        if (auto p = read_placement(tr, config.placement); !p) return std::unexpected(p.error());
    }
    // The placement rules and exclusions have one reader, shared with their tests.
    for (std::string_view key : detail::placement_rule_keys) r.take(key);
    auto rules = detail::placement_rules_from_toml(root, source);
    if (!rules) return std::unexpected(rules.error());
    config.rules = std::move(*rules);
    if (auto other = r.no_other_keys("interval, on_stop, reserved_cpus, housekeeping_cpus, max_request_bytes, "
                                     "max_workloads_per_user, max_threads_per_user, [soft_affinity], [placement], [[rule]], exclude_comm, exclude_cgroup, exclude_uid");
        !other)
        return std::unexpected(other.error());
    return config;
}

}  // namespace affine
