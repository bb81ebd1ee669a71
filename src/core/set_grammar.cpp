#include "affine/set_grammar.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <vector>

namespace affine {
namespace {

enum class Domain { cpus, nodes };

// The location terms beside node:, as hwloc-calc and xl name them; N indexes the
// level's groups in hwloc's logical order (Topology::groups).
struct Location {
    std::string_view singular, plural;  // with the colon: "core:", "cores:"
    Level level;
    std::string_view noun, none;  // "cores", and what "this host shows no ..." says
};
constexpr std::array<Location, 5> locations = {{
    {"core:", "cores:", Level::core, "cores", "cores"},
    {"socket:", "sockets:", Level::package, "sockets", "packages"},
    {"package:", "packages:", Level::package, "packages", "packages"},
    {"die:", "dies:", Level::die, "dies", "dies (one per package, or none)"},
    {"l3:", "l3s:", Level::l3, "L3 caches", "L3 caches"},
}};

template <typename Tag>
class Parser {
public:
    // Without a host (`host` null) ids are not checked and host terms are refused.
    Parser(std::string_view text, const Topology* host, Domain domain)
        : text_(text), host_(host), domain_(domain) {}

    Result<IdSet<Tag>> parse() {
        if (text_.empty()) return error(0, "it is empty");
        if (host_ == nullptr) return parse_plain();
        if (is_hex_mask()) return parse_hex_mask();
        IdSet<Tag> result;
        bool first = true;
        while (true) {
            std::size_t term_start = pos_;
            bool remove = consume('^');
            auto atom = parse_atom();
            if (!atom) return std::unexpected(atom.error());
            if (remove && first) {
                return error(term_start, fmt::format("\"^\" at column {} removes from nothing; "
                                                     "start with a set, e.g. all,{}",
                                                     term_start + 1, text_.substr(term_start)));
            }
            if (remove)
                result -= *atom;
            else
                result |= *atom;
            first = false;
            if (pos_ == text_.size()) break;
            if (!consume(',')) return expected_at(pos_, "\",\" or the end");
        }
        if (result.empty()) return error(text_.size(), "the set is empty");
        return result;
    }

private:
    using Set = IdSet<Tag>;

    // Ids and ranges only, as the kernel prints lists; an empty set is allowed.
    Result<Set> parse_plain() {
        Set result;
        while (pos_ < text_.size()) {
            auto span = range();
            if (!span) return std::unexpected(span.error());
            for (auto id = span->first; id <= span->last; id += span->stride) result.insert(static_cast<int>(id));
            if (pos_ < text_.size() && !consume(',')) return expected_at(pos_, "\",\" or the end");
        }
        return result;
    }

    [[nodiscard]] std::string_view what() const {
        return domain_ == Domain::cpus ? "CPU list" : "node list";
    }
    std::unexpected<Error> error(std::size_t /*pos*/, std::string_view why) const {
        return usage_error(fmt::format("bad {} \"{}\": {}", what(), text_, why));
    }
    std::unexpected<Error> expected_at(std::size_t pos, std::string_view expected) const {
        return usage_error(
            fmt::format("bad {} \"{}\": expected {} at column {}", what(), text_, expected, pos + 1));
    }

    bool consume(char c) {
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool consume_word(std::string_view word) {
        if (text_.substr(pos_, word.size()) == word) {
            pos_ += word.size();
            return true;
        }
        return false;
    }

    Result<std::int64_t> number() {
        std::size_t start = pos_;
        while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
        if (pos_ == start) return expected_at(start, "a number");
        std::int64_t value = 0;
        auto [ptr, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, value);
        if (ec != std::errc{} || value > max_id)
            return error(start, fmt::format("number {} at column {} is too large (at most {})",
                                            text_.substr(start, pos_ - start), start + 1, max_id));
        return value;
    }

    struct Span {
        std::int64_t first, last, stride;
        std::size_t column;
    };

    // N | A-B | A-B:S
    Result<Span> range() {
        std::size_t start = pos_;
        auto first = number();
        if (!first) return std::unexpected(first.error());
        Span span{*first, *first, 1, start};
        if (consume('-')) {
            auto last = number();
            if (!last) return std::unexpected(last.error());
            if (*last < *first)
                return error(start, fmt::format("range {}-{} at column {} runs backwards", *first,
                                                *last, start + 1));
            span.last = *last;
            if (consume(':')) {
                std::size_t stride_at = pos_;
                auto stride = number();
                if (!stride) return std::unexpected(stride.error());
                if (*stride == 0)
                    return error(stride_at,
                                 fmt::format("stride 0 at column {} (use 1 or more)", stride_at + 1));
                span.stride = *stride;
            }
        }
        return span;
    }

    Result<Set> parse_atom() {
        std::size_t start = pos_;
        if (consume_word("all")) return domain_ == Domain::cpus ? cast(host_->all_cpus()) : cast(host_->all_nodes());
        if (consume_word("nodes:") || consume_word("node:")) {
            auto span = range();
            if (!span) return std::unexpected(span.error());
            auto nodes = node_ids(*span);
            if (!nodes) return std::unexpected(nodes.error());
            return domain_ == Domain::cpus ? cast(host_->cpus_of(*nodes)) : cast(*nodes);
        }
        // hwloc's own names: pu:N and numa:N, logical indexes as hwloc-calc reads them.
        if (consume_word("pus:") || consume_word("pu:") || consume_word("numas:") || consume_word("numa:")) {
            bool pu = text_[start] == 'p';
            auto span = range();
            if (!span) return std::unexpected(span.error());
            const auto& order = pu ? pu_order() : numa_order();
            CpuSet cpus;
            NodeSet nodes;
            for (auto index = span->first; index <= span->last; index += span->stride) {
                if (index >= static_cast<std::int64_t>(order.size()))
                    return error(span->column, fmt::format("{} {} at column {} does not exist ({}: {})",
                                                           pu ? "pu" : "numa", index, span->column + 1,
                                                           pu ? "online PUs" : "NUMA nodes with memory",
                                                           order.empty() ? std::string("none")
                                                                         : fmt::format("0-{}", order.size() - 1)));
                int id = order[static_cast<std::size_t>(index)];
                if (pu) cpus.insert(id);
                else nodes.insert(id);
            }
            if (!pu) return domain_ == Domain::cpus ? cast(host_->cpus_of(nodes)) : cast(nodes);
            return domain_ == Domain::cpus ? cast(cpus) : cast(host_->nodes_of(cpus));
        }
        for (const Location& where : locations) {
            if (consume_word(where.plural) || consume_word(where.singular)) {
                auto span = range();
                if (!span) return std::unexpected(span.error());
                auto cpus = location_cpus(where, *span);
                if (!cpus) return std::unexpected(cpus.error());
                return domain_ == Domain::cpus ? cast(*cpus) : cast(host_->nodes_of(*cpus));
            }
        }
        if (pos_ == text_.size() || !std::isdigit(static_cast<unsigned char>(text_[pos_])))
            return expected_at(start, "a number, a range, \"all\", or node:N, core:N, socket:N, die:N, l3:N, pu:N, numa:N");
        auto span = range();
        if (!span) return std::unexpected(span.error());
        if (domain_ == Domain::nodes) {
            auto nodes = node_ids(*span);
            if (!nodes) return std::unexpected(nodes.error());
            return cast(*nodes);
        }
        return cpu_ids(*span);
    }

    // The CPUs of the `span`-th groups of a level, in hwloc's logical order.
    Result<CpuSet> location_cpus(const Location& where, const Span& span) {
        const auto& groups = groups_of(where.level);
        CpuSet cpus;
        for (auto index = span.first; index <= span.last; index += span.stride) {
            if (index >= static_cast<std::int64_t>(groups.size())) {
                std::string have = groups.empty() ? fmt::format("this host shows no {}", where.none)
                                   : groups.size() == 1 ? fmt::format("{}: 0", where.noun)
                                                        : fmt::format("{}: 0-{}", where.noun, groups.size() - 1);
                return error(span.column, fmt::format("{} {} at column {} does not exist ({})", where.singular.substr(0, where.singular.size() - 1),
                                                      index, span.column + 1, have));
            }
            cpus |= groups[static_cast<std::size_t>(index)];
        }
        return cpus;
    }
    // The online CPUs in hwloc's logical PU order: core by core in the cores' order.
    const std::vector<int>& pu_order() {
        if (!pus_) {
            pus_.emplace();
            CpuSet seen;
            for (const CpuSet& core : groups_of(Level::core))
                for (int cpu : core) pus_->push_back(cpu), seen.insert(cpu);
            for (int cpu : host_->online_cpus() - seen) pus_->push_back(cpu);  // no core known
        }
        return *pus_;
    }
    // The nodes in hwloc's logical NUMA order: hwloc shows only nodes with memory;
    // those with online CPUs in the order of their first PU, then the others by id.
    const std::vector<int>& numa_order() {
        if (!numas_) {
            numas_.emplace();
            const NodeSet memory = host_->nodes_with_memory();
            NodeSet seen;
            for (int cpu : pu_order())
                if (const Cpu* c = host_->cpu(cpu);
                    c != nullptr && c->node >= 0 && memory.contains(c->node) && !seen.contains(c->node)) {
                    numas_->push_back(c->node);
                    seen.insert(c->node);
                }
            for (int node : memory - seen) numas_->push_back(node);
        }
        return *numas_;
    }
    const std::vector<CpuSet>& groups_of(Level level) {
        auto& cached = groups_[static_cast<std::size_t>(level)];
        if (!cached) cached = host_->groups(level);
        return *cached;
    }

    // The ids of `span`, each of which must exist on the host as a node or a CPU.
    template <typename IdsTag>
    Result<IdSet<IdsTag>> existing_ids(const Span& span) {
        constexpr bool nodes = std::is_same_v<IdsTag, NodeTag>;
        IdSet<IdsTag> set;
        for (auto id = span.first; id <= span.last; id += span.stride) {
            bool exists = nodes ? host_->node(static_cast<int>(id)) != nullptr : host_->cpu(static_cast<int>(id)) != nullptr;
            if (!exists)
                return error(span.column, fmt::format("{} {} at column {} does not exist ({}: {})", nodes ? "node" : "CPU",
                                                      id, span.column + 1, nodes ? "nodes" : "CPUs",
                                                      nodes ? to_list(host_->all_nodes()) : to_list(host_->all_cpus())));
            set.insert(static_cast<int>(id));
        }
        return set;
    }
    Result<NodeSet> node_ids(const Span& span) { return existing_ids<NodeTag>(span); }
    Result<Set> cpu_ids(const Span& span) {
        auto ids = existing_ids<CpuTag>(span);
        if (!ids) return std::unexpected(ids.error());
        return cast(*ids);
    }

    template <typename Other>
    static Set cast(const IdSet<Other>& other) {
        return Set::from_words(other.words());
    }

    [[nodiscard]] bool is_hex_mask() const {
        return text_.size() >= 2 && text_[0] == '0' && (text_[1] == 'x' || text_[1] == 'X');
    }

    Result<Set> parse_hex_mask() {
        auto mask = parse_cpu_mask(text_);
        if (!mask) return usage_error(fmt::format("bad {} \"{}\": {}", what(), text_,
                                                  mask.error().message));
        Set set = cast(*mask);
        for (int id : set) {
            bool exists = domain_ == Domain::cpus ? host_->cpu(id) != nullptr : host_->node(id) != nullptr;
            if (!exists) {
                return error(0, fmt::format("bit {} names {} {}, which does not exist ({}: {})", id,
                                            domain_ == Domain::cpus ? "CPU" : "node", id,
                                            domain_ == Domain::cpus ? "CPUs" : "nodes",
                                            domain_ == Domain::cpus ? to_list(host_->all_cpus())
                                                                    : to_list(host_->all_nodes())));
            }
        }
        if (set.empty()) return error(0, "the mask is zero (it names no CPU)");
        return set;
    }

    std::string_view text_;
    const Topology* host_;
    Domain domain_;
    std::size_t pos_ = 0;
    std::array<std::optional<std::vector<CpuSet>>, 4> groups_;  // per Level, computed when named
    std::optional<std::vector<int>> pus_, numas_;
};

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Hex digits (high first, commas allowed between 32-bit groups) into an id set.
Result<CpuSet> parse_hex_digits(std::string_view text, std::size_t offset) {
    std::string digits;
    std::size_t group_len = 0;
    bool first_group = true;
    for (std::size_t i = offset; i < text.size(); ++i) {
        char c = text[i];
        if (c == ',') {
            if (group_len == 0 || (!first_group && group_len != 8))
                return usage_error(fmt::format("expected 8 hex digits before \",\" at column {} "
                                               "(the kernel's 32-bit groups)",
                                               i + 1));
            if (group_len > 8)
                return usage_error(fmt::format("group before column {} has more than 8 hex digits",
                                               i + 1));
            first_group = false;
            group_len = 0;
            continue;
        }
        if (hex_value(c) < 0)
            return usage_error(fmt::format("expected a hex digit at column {}", i + 1));
        digits.push_back(c);
        ++group_len;
    }
    if (digits.empty()) return usage_error(fmt::format("expected a hex digit at column {}", offset + 1));
    if (!first_group && group_len != 8)
        return usage_error(fmt::format("expected 8 hex digits in the last group, at column {}",
                                       text.size() - group_len + 1));
    // Leading zeros are harmless; significant digits beyond max_id are refused.
    auto significant = digits.find_first_not_of('0');
    if (significant != std::string::npos &&
        static_cast<std::int64_t>(digits.size() - significant) * 4 > max_id + 1)
        return usage_error("mask is too large");
    CpuSet set;
    int bit = 0;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it, bit += 4) {
        int v = hex_value(*it);
        for (int b = 0; b < 4; ++b)
            if ((v >> b) & 1) set.insert(bit + b);
    }
    return set;
}

}  // namespace

Result<CpuSet> parse_cpu_set(std::string_view text, const Topology& host) {
    return Parser<CpuTag>(text, &host, Domain::cpus).parse();
}

Result<NodeSet> parse_node_set(std::string_view text, const Topology& host) {
    return Parser<NodeTag>(text, &host, Domain::nodes).parse();
}

Result<CpuSet> parse_id_list(std::string_view text) {
    auto trimmed = text.substr(0, text.find_last_not_of(" \t\n") + 1);
    if (trimmed.empty() || trimmed.find_first_not_of(" \t\n") == std::string_view::npos) return CpuSet{};
    return Parser<CpuTag>(trimmed, nullptr, Domain::cpus).parse();
}

Result<CpuSet> parse_cpu_mask(std::string_view text) {
    if (text.empty()) return usage_error("the mask is empty");
    if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        return parse_hex_digits(text, 2);
    // Decimal, as in the classic `bind PID MASK`: up to 64 bits.
    std::uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range)
        return usage_error(fmt::format("decimal mask {} does not fit in 64 bits; use a hex mask (0x...)",
                                       text));
    if (ec != std::errc{} || ptr != text.data() + text.size()) {
        auto column = ec != std::errc{} ? 1 : static_cast<std::size_t>(ptr - text.data()) + 1;
        return usage_error(
            fmt::format("expected a decimal or 0x hex mask, found \"{}\" at column {}", text, column));
    }
    const std::uint64_t word = value;
    return CpuSet::from_words(std::span(&word, 1));
}

template <typename Tag>
std::string to_list(const IdSet<Tag>& set) {
    std::string out;
    auto it = set.begin();
    while (it != set.end()) {
        int first = *it;
        int last = first;
        auto next = it;
        while (++next != set.end() && *next == last + 1) last = *next;
        if (!out.empty()) out += ',';
        out += first == last ? fmt::format("{}", first) : fmt::format("{}-{}", first, last);
        it = next;
    }
    return out;
}

template <typename Tag>
std::string to_hex(const IdSet<Tag>& set) {
    auto words = set.words();
    if (words.empty()) return "0x0";
    std::string out = fmt::format("0x{:x}", words.back());
    for (auto i = words.size() - 1; i-- > 0;) out += fmt::format("{:016x}", words[i]);
    return out;
}

template <typename Tag>
std::string to_kernel_mask(const IdSet<Tag>& set, int bits) {
    auto words = set.words();
    int groups_needed = std::max(1, (std::max(bits, set.last().value_or(0) + 1) + 31) / 32);
    std::string out;
    for (int g = groups_needed - 1; g >= 0; --g) {
        auto w = static_cast<std::size_t>(g / 2);
        std::uint32_t group = w < words.size() ? static_cast<std::uint32_t>(words[w] >> (32 * (g % 2))) : 0;
        if (!out.empty()) out += ',';
        // The kernel pads the top group only to the bits it covers; we keep it simple
        // and unpadded there, and pad every lower group to 8 digits.
        out += g == groups_needed - 1 ? fmt::format("{:x}", group) : fmt::format("{:08x}", group);
    }
    return out;
}

template std::string to_list(const CpuSet&);
template std::string to_list(const NodeSet&);
template std::string to_hex(const CpuSet&);
template std::string to_hex(const NodeSet&);
template std::string to_kernel_mask(const CpuSet&, int);
template std::string to_kernel_mask(const NodeSet&, int);

}  // namespace affine
