#include "affine/size.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cctype>
#include <limits>

#include "rounding.hpp"

namespace affine {
namespace {
constexpr std::array<char, 6> units = {'\0', 'K', 'M', 'G', 'T', 'P'};
}

Result<std::uint64_t> parse_size(std::string_view text) {
    auto bad = [&](std::string_view why) {
        return usage_error(fmt::format("bad size \"{}\": {} (examples: 4G, 512M, 1.5GiB, 64GB = 64 * 10^9, "
                                       "1073741824)",
                                       text, why));
    };
    std::size_t end = 0;
    while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.'))
        ++end;
    if (end == 0) return bad("expected a number at column 1");
    std::string_view number = text.substr(0, end);
    std::string_view suffix = text.substr(end);
    int power = 0;      // of the unit: K = 1, M = 2, ...
    bool decimal = false;  // KB, MB, ...: powers of 1000, as hwloc and disk makers count
    // Units in any case ("4gb", "4GIB"): only the letters matter.
    auto is = [](std::string_view a, std::string_view b) {
        return a.size() == b.size() && std::ranges::equal(a, b, [](char x, char y) {
                   return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
               });
    };
    if (is(suffix, "B")) {
        // bytes, as format_size prints counts under 1K ("512B")
    } else if (!suffix.empty()) {
        char u = static_cast<char>(std::toupper(static_cast<unsigned char>(suffix[0])));
        std::size_t i = 1;
        for (; i < units.size(); ++i)
            if (units[i] == u) break;
        if (i == units.size())
            return bad(fmt::format("unknown unit at column {} (B, K, M, G, T, P; KiB...; KB...)", end + 1));
        power = static_cast<int>(i);
        std::string_view rest = suffix.substr(1);
        if (is(rest, "B"))
            decimal = true;
        else if (!rest.empty() && !is(rest, "iB"))
            return bad(fmt::format("unexpected \"{}\" at column {} (after {}: nothing, iB or B)", rest, end + 2,
                                   suffix[0]));
    }
    // strtod rather than from_chars: libc++ 16 lacks the floating-point from_chars
    // (affine may be built with it). The text holds only digits and dots here.
    std::string copy(number);
    char* end_ptr = nullptr;
    double value = std::strtod(copy.c_str(), &end_ptr);
    if (end_ptr != copy.c_str() + copy.size() || std::count(copy.begin(), copy.end(), '.') > 1)
        return bad("malformed number");
    double scale = 1;  // 1000^power or 1024^power: exact in a double up to P
    for (int i = 0; i < power; ++i) scale *= decimal ? 1000.0 : 1024.0;
    double bytes = value * scale;
    if (bytes >= 0x1p64) return bad("too large");
    if (bytes < 1) return bad("must be at least one byte");
    if (power == 0 && number.find('.') != std::string_view::npos) return bad("bytes must be whole");
    return detail::round_to_whole(bytes);
}

std::string format_size(std::uint64_t bytes) {
    std::size_t unit = 0;
    double value = static_cast<double>(bytes);
    while (unit + 1 < units.size() && value >= 1024) {
        value /= 1024;
        ++unit;
    }
    if (unit == 0) return fmt::format("{}B", bytes);
    double whole = static_cast<double>(detail::round_to_whole(value));
    if (value - whole < 0.05 && whole - value < 0.05) return fmt::format("{:.0f}{}", value, units[unit]);
    return fmt::format("{:.1f}{}", value, units[unit]);
}

}  // namespace affine
