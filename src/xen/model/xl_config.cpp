#include "affine/xl_config.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>

#include "affine/set_grammar.hpp"

namespace affine {

const XlValue* XlConfig::find(std::string_view key) const {
    auto it = settings.find(std::string(key));
    return it == settings.end() ? nullptr : &it->second;
}

namespace {

// A hand-written scanner for libxlu's grammar. Newlines end a setting except inside
// a list, where they are free.
class Parser {
public:
    Parser(std::string_view text, std::string_view source, XlConfig& config)
        : text_(text), source_(source), config_(config) {}

    Result<void> parse() {
        while (true) {
            skip_blank_and_comments(/*newlines=*/true);
            if (at_end()) return {};
            if (peek() == ';') {
                ++pos_;
                continue;
            }
            if (auto r = setting(); !r) return r;
        }
    }

private:
    std::string_view text_;
    std::string_view source_;
    XlConfig& config_;
    std::size_t pos_ = 0;
    int line_ = 1;

    [[nodiscard]] bool at_end() const { return pos_ >= text_.size(); }
    [[nodiscard]] char peek() const { return at_end() ? '\0' : text_[pos_]; }

    std::unexpected<Error> error(std::string_view what) const {
        return usage_error(fmt::format("{}:{}: {}", source_, line_, what));
    }

    std::string found() const {
        if (at_end()) return "the end of the file";
        if (peek() == '\n') return "the end of the line";
        return fmt::format("'{}'", peek());
    }

    void skip_blank_and_comments(bool newlines) {
        while (!at_end()) {
            char c = peek();
            if (c == '#') {
                while (!at_end() && peek() != '\n') ++pos_;
            } else if (c == '\n' && newlines) {
                ++line_;
                ++pos_;
            } else if (c == ' ' || c == '\t' || c == '\r') {
                ++pos_;
            } else {
                return;
            }
        }
    }

    static bool key_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
    static bool key_char(char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.';
    }

    Result<void> setting() {
        if (!key_start(peek())) return error(fmt::format("expected a setting KEY = VALUE, found {}", found()));
        std::size_t start = pos_;
        while (!at_end() && key_char(peek())) ++pos_;
        std::string key(text_.substr(start, pos_ - start));
        skip_blank_and_comments(false);
        bool append = false;
        if (peek() == '+') {
            ++pos_;
            append = true;
        }
        if (peek() != '=') return error(fmt::format("expected '=' after {}, found {}", key, found()));
        ++pos_;
        skip_blank_and_comments(false);
        const int line = line_;
        auto value = this->value();
        if (!value) return std::unexpected(value.error());
        value->line = line;
        skip_blank_and_comments(false);
        if (!at_end() && peek() != '\n' && peek() != ';')
            return error(fmt::format("expected the end of the setting {} (a newline or ';'), found {}", key, found()));
        store(key, std::move(*value), append);
        return {};
    }

    // `+=` appends: list to list, atom to a list (as one more item), string to string.
    void store(const std::string& key, XlValue value, bool append) {
        auto it = config_.settings.find(key);
        if (!append || it == config_.settings.end()) {
            config_.settings[key] = std::move(value);
            return;
        }
        XlValue& old = it->second;
        if (old.is_list || value.is_list) {
            std::vector<std::string> items = old.is_list ? old.items : std::vector<std::string>{old.atom};
            if (value.is_list)
                items.insert(items.end(), value.items.begin(), value.items.end());
            else
                items.push_back(value.atom);
            old.is_list = true;
            old.items = std::move(items);
            old.atom.clear();
        } else {
            old.atom += value.atom;
        }
        old.line = value.line;
    }

    Result<XlValue> value() {
        if (peek() == '[') return list();
        XlValue v;
        auto atom = this->atom(v.quoted);
        if (!atom) return std::unexpected(atom.error());
        v.atom = std::move(*atom);
        return v;
    }

    Result<XlValue> list() {
        ++pos_;  // '['
        XlValue v;
        v.is_list = true;
        while (true) {
            skip_blank_and_comments(true);
            if (peek() == ']') {
                ++pos_;
                return v;
            }
            bool quoted = false;
            auto atom = this->atom(quoted);
            if (!atom) return std::unexpected(atom.error());
            v.items.push_back(std::move(*atom));
            skip_blank_and_comments(true);
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            if (peek() != ']') return error(fmt::format("expected ',' or ']' in a list, found {}", found()));
        }
    }

    Result<std::string> atom(bool& quoted) {
        char c = peek();
        if (c == '"' || c == '\'') {
            quoted = true;
            return string(c);
        }
        if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
            std::size_t start = pos_;
            while (!at_end() && std::isalnum(static_cast<unsigned char>(peek())) != 0) ++pos_;
            return std::string(text_.substr(start, pos_ - start));
        }
        return error(fmt::format("expected a value (a \"string\", a number or a [list]), found {}", found()));
    }

    Result<std::string> string(char quote) {
        ++pos_;
        std::string out;
        while (true) {
            if (at_end() || peek() == '\n') return error("unterminated string");
            char c = text_[pos_++];
            if (c == quote) return out;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (at_end()) return error("unterminated string");
            char e = text_[pos_++];
            switch (e) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case '\\': case '"': case '\'': out += e; break;
            case 'x': {
                int v = 0, digits = 0;
                while (digits < 2 && std::isxdigit(static_cast<unsigned char>(peek())) != 0) {
                    char d = text_[pos_++];
                    v = v * 16 + (std::isdigit(static_cast<unsigned char>(d)) != 0 ? d - '0' : (std::tolower(d) - 'a' + 10));
                    ++digits;
                }
                if (digits == 0) return error("\\x in a string needs hexadecimal digits");
                out += static_cast<char>(v);
                break;
            }
            default:
                if (e >= '0' && e <= '7') {
                    int v = e - '0', digits = 1;
                    while (digits < 3 && peek() >= '0' && peek() <= '7') {
                        v = v * 8 + (text_[pos_++] - '0');
                        ++digits;
                    }
                    out += static_cast<char>(v);
                } else {
                    return error(fmt::format("unknown escape \\{} in a string", e));
                }
            }
        }
    }
};

// xl reads numbers with strtol(…, 0): hexadecimal 0x…, octal 0…, decimal.
Result<long long> number_of(const XlValue& v, std::string_view key, std::string_view source) {
    auto bad = [&](std::string_view why) {
        return usage_error(fmt::format("{}:{}: {} {}: expected a number", source, v.line, key, why));
    };
    if (v.is_list) return bad("is a list");
    const std::string& text = v.atom;
    if (text.empty()) return bad("is empty");
    errno = 0;
    char* end = nullptr;
    long long n = std::strtoll(text.c_str(), &end, 0);
    if (errno != 0 || end != text.c_str() + text.size() || n < 0)
        return bad(fmt::format("\"{}\" is not one", text));
    return n;
}

Result<std::string> string_of(const XlValue& v, std::string_view key, std::string_view source) {
    if (v.is_list)
        return usage_error(fmt::format("{}:{}: {} is a list: expected a string", source, v.line, key));
    return v.atom;
}

Result<XlCpuSpec> cpu_spec_of(const XlValue& v) {
    XlCpuSpec spec;
    spec.per_vcpu = v.is_list;
    spec.sets = v.is_list ? v.items : std::vector<std::string>{v.atom};
    return spec;
}

}  // namespace

Result<XlConfig> parse_xl_config(std::string_view text, std::string_view source) {
    XlConfig config;
    config.source = std::string(source);
    Parser parser(text, source, config);
    if (auto r = parser.parse(); !r) return std::unexpected(r.error());
    return config;
}

Result<void> apply_xl_overrides(XlConfig& config, const std::vector<std::string>& overrides) {
    for (const std::string& o : overrides) {
        if (o.find('=') == std::string::npos)
            return usage_error(fmt::format("override \"{}\": expected KEY=VALUE, as xl takes it", o));
        std::string source = fmt::format("override \"{}\"", o);
        Parser parser(o, source, config);
        if (auto r = parser.parse(); !r) return r;
    }
    return {};
}

Result<XlDomain> xl_domain_from_config(const XlConfig& config) {
    XlDomain d;
    const std::string& src = config.source;
    auto count = [&](std::string_view key, long long low, long long high) -> Result<std::optional<long long>> {
        const XlValue* v = config.find(key);
        if (v == nullptr) return std::nullopt;
        auto n = number_of(*v, key, src);
        if (!n) return std::unexpected(n.error());
        if (*n < low || *n > high)
            return usage_error(fmt::format("{}:{}: {} = {}: expected {} to {}", src, v->line, key, *n, low, high));
        return *n;
    };
    constexpr long long max_mib = 1LL << 40;  // 1 EiB: beyond any host, far from overflow
    auto memory = count("memory", 1, max_mib);
    if (!memory) return std::unexpected(memory.error());
    auto maxmem = count("maxmem", 1, max_mib);
    if (!maxmem) return std::unexpected(maxmem.error());
    auto vcpus = count("vcpus", 1, 4096);
    if (!vcpus) return std::unexpected(vcpus.error());
    auto maxvcpus = count("maxvcpus", 1, 4096);
    if (!maxvcpus) return std::unexpected(maxvcpus.error());

    // libxl's defaults: 32 MiB; maxmem = memory; one vCPU; maxvcpus = vcpus.
    d.memory_mib = static_cast<std::uint64_t>(memory->value_or(32));
    d.maxmem_mib = static_cast<std::uint64_t>(maxmem->value_or(static_cast<long long>(d.memory_mib)));
    d.vcpus = static_cast<int>(vcpus->value_or(1));
    d.max_vcpus = static_cast<int>(maxvcpus->value_or(d.vcpus));
    if (d.maxmem_mib < d.memory_mib)
        return usage_error(fmt::format("{}:{}: maxmem = {} is below memory = {}", src, config.find("maxmem")->line,
                                       d.maxmem_mib, d.memory_mib));
    if (d.max_vcpus < d.vcpus)
        return usage_error(fmt::format("{}:{}: maxvcpus = {} is below vcpus = {}", src,
                                       config.find("maxvcpus")->line, d.max_vcpus, d.vcpus));

    const XlValue* name = config.find("name");
    if (name == nullptr) return usage_error(fmt::format("{}: no name: xl needs `name = \"...\"`", src));
    auto n = string_of(*name, "name", src);
    if (!n) return std::unexpected(n.error());
    if (n->empty()) return usage_error(fmt::format("{}:{}: name is empty", src, name->line));
    d.name = *n;
    for (auto [key, out] : {std::pair{"type", &d.type}, std::pair{"cpupool", &d.cpupool}}) {
        if (const XlValue* v = config.find(key)) {
            auto s = string_of(*v, key, src);
            if (!s) return std::unexpected(s.error());
            *out = *s;
        }
    }
    if (const XlValue* v = config.find("cpus")) d.cpus = *cpu_spec_of(*v);
    if (const XlValue* v = config.find("cpus_soft")) d.cpus_soft = *cpu_spec_of(*v);
    return d;
}

Result<std::vector<CpuSet>> resolve_xl_cpus(const XlCpuSpec& spec, int vcpus, const Topology& host,
                                            std::string_view key) {
    if (spec.sets.empty()) return usage_error(fmt::format("{}: the list is empty", key));
    std::vector<CpuSet> masks;
    masks.reserve(static_cast<std::size_t>(vcpus));
    for (int v = 0; v < vcpus; ++v) {
        if (spec.per_vcpu && static_cast<std::size_t>(v) >= spec.sets.size()) {
            masks.push_back(host.all_cpus());
            continue;
        }
        const std::string& text = spec.per_vcpu ? spec.sets[static_cast<std::size_t>(v)] : spec.sets.front();
        auto set = parse_cpu_set(text, host);
        if (!set) {
            std::string where = spec.per_vcpu ? fmt::format("{} (vCPU {})", key, v) : std::string(key);
            return usage_error(fmt::format("{} \"{}\": {}", where, text, set.error().message));
        }
        masks.push_back(*set);
    }
    return masks;
}

std::string xl_quote(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

Result<std::vector<std::string>> xl_placement_overrides(const Plan& plan, const XlDomain& domain) {
    if (plan.outcome != PlanOutcome::placed)
        return usage_error("the plan did not place the domain: nothing to give xl");
    const bool user_list = domain.cpus && domain.cpus->per_vcpu;
    std::vector<std::string> out;
    auto set = [&](std::string_view key, const CpuSet& cpus) {
        out.push_back(fmt::format("{}={}", key, xl_quote(to_list(cpus))));
    };
    switch (plan.policy) {
    case PlacementPolicy::best_effort:
        if (!plan.hard_cpus.empty() && !user_list) set("cpus", plan.hard_cpus);
        set("cpus_soft", plan.soft_cpus);
        break;
    case PlacementPolicy::best_effort_hard:
        if (!user_list) set("cpus", plan.hard_cpus);
        set("cpus_soft", plan.hard_cpus);
        break;
    case PlacementPolicy::any:
        if (!plan.hard_cpus.empty() && !user_list) set("cpus", plan.hard_cpus);
        out.push_back(fmt::format("cpus_soft={}", xl_quote("all")));
        break;
    case PlacementPolicy::prio_mem_only:
        return usage_error(
            "policy prio-mem-only cannot be given to xl: its configuration has no setting for node affinity "
            "alone (use best-effort or best-effort-hard)");
    }
    return out;
}

}  // namespace affine
