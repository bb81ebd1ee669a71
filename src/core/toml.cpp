#include "toml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace affine::detail {

Error toml_error_at(std::string_view source, std::size_t line, std::string_view why) {
    return usage_error(fmt::format("{}:{}: {}", source, line, why)).error();
}

namespace {

// Where a byte of a TOML document stands: between tokens, or inside a comment or
// one of the four kinds of string.
enum class Context { code, comment, basic, literal, multiline_basic, multiline_literal };

// What TOML forbids and toml++ 3.3 does not refuse cleanly: control characters
// anywhere (it asserts on some), and non-ASCII text outside strings and comments,
// where TOML allows none (its whitespace test reaches __builtin_unreachable on some
// letters). nullopt when the text is clear of both, else the error.
std::optional<Error> forbidden_character(std::string_view text, std::string_view source) {
    auto line_of = [&](std::size_t i) { return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(i), '\n')); };
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
            return toml_error_at(source, line_of(i), fmt::format("control character 0x{:02x} (TOML allows none but tab)", c));
    }
    Context at = Context::code;
    // The last character between tokens on this line: a quote opens a string only
    // where TOML has one (first on the line, or after = [ , { .); elsewhere it is a
    // stray character of a token toml++ goes on reading, non-ASCII bytes included.
    char last = '\n';
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        std::string_view rest = text.substr(i);
        switch (at) {
            case Context::code: {
                if (c >= 0x80) return toml_error_at(source, line_of(i), "a non-ASCII character outside a string or comment");
                bool string_may_start = std::string_view("\n=[,{.").find(last) != std::string_view::npos;
                if (c == '#') at = Context::comment;
                else if (string_may_start && rest.starts_with("\"\"\"")) { at = Context::multiline_basic; i += 2; }
                else if (string_may_start && rest.starts_with("'''")) { at = Context::multiline_literal; i += 2; }
                else if (string_may_start && c == '"') at = Context::basic;
                else if (string_may_start && c == '\'') at = Context::literal;
                else if (c == '\n') last = '\n';
                else if (c != ' ' && c != '\t' && c != '\r') last = static_cast<char>(c);
                if (at != Context::code) last = '"';
                break;
            }
            case Context::comment:
                if (c == '\n') { at = Context::code; last = '\n'; }
                break;
            case Context::basic:
                if (c == '\\') ++i;  // an escape: the next byte is not a quote
                else if (c == '"' || c == '\n') at = Context::code;
                if (c == '\n') last = '\n';
                break;
            case Context::literal:
                if (c == '\'' || c == '\n') at = Context::code;
                if (c == '\n') last = '\n';
                break;
            case Context::multiline_basic:
                if (c == '\\') ++i;
                else if (rest.starts_with("\"\"\"")) { at = Context::code; i += 2; }
                break;
            case Context::multiline_literal:
                if (rest.starts_with("'''")) { at = Context::code; i += 2; }
                break;
        }
    }
    return std::nullopt;
}

}  // namespace

Result<toml::table> parse_toml(std::string_view text, std::string_view source) {
    if (auto error = forbidden_character(text, source)) return std::unexpected(*error);
    toml::parse_result parsed = toml::parse(text, source);
    if (!parsed) return std::unexpected(toml_error_at(source, parsed.error().source().begin.line, parsed.error().description()));
    return std::move(parsed).table();
}

}  // namespace affine::detail
