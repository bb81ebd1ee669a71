// Whole numbers read from outside the program: arguments, host and state files,
// procfs and sysfs. One parser, so that every number follows the same rules.
#pragma once

#include <fmt/format.h>

#include <charconv>
#include <concepts>
#include <optional>
#include <string_view>

#include "affine/error.hpp"

namespace affine::detail {

// The decimal number that is the whole of `text`: digits, with a leading '-' only
// for signed types; no spaces, no '+', no base prefix. nullopt for anything else
// and for a value that does not fit T (never a wrapped or clamped value).
template <std::integral T>
std::optional<T> parse_integer(std::string_view text) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// A number the user gave, from `min` to `max`. Usage error naming it otherwise:
// `bad <what> "<text>": expected a whole number from <min> to <max>`.
template <std::integral T>
Result<T> parse_integer_in(std::string_view text, std::string_view what, T min, T max) {
    auto value = parse_integer<T>(text);
    if (!value || *value < min || *value > max)
        return usage_error(fmt::format("bad {} \"{}\": expected a whole number from {} to {}", what, text, min, max));
    return *value;
}

}  // namespace affine::detail
