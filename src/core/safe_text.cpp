#include "safe_text.hpp"

#include <cstdint>

namespace affine::detail {
namespace {

// The length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629's
// table: no overlong forms, no surrogates, nothing past U+10FFFF), 0 when there is
// none.
std::size_t sequence_length(std::string_view s) {
    auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
    auto in = [&](std::size_t i, std::uint8_t lo, std::uint8_t hi) { return i < s.size() && byte(i) >= lo && byte(i) <= hi; };
    std::uint8_t b = byte(0);
    if (b < 0x80) return 1;
    if (b >= 0xc2 && b <= 0xdf) return in(1, 0x80, 0xbf) ? 2 : 0;
    if (b == 0xe0) return in(1, 0xa0, 0xbf) && in(2, 0x80, 0xbf) ? 3 : 0;
    if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef) return in(1, 0x80, 0xbf) && in(2, 0x80, 0xbf) ? 3 : 0;
    if (b == 0xed) return in(1, 0x80, 0x9f) && in(2, 0x80, 0xbf) ? 3 : 0;
    if (b == 0xf0) return in(1, 0x90, 0xbf) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf) ? 4 : 0;
    if (b >= 0xf1 && b <= 0xf3) return in(1, 0x80, 0xbf) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf) ? 4 : 0;
    if (b == 0xf4) return in(1, 0x80, 0x8f) && in(2, 0x80, 0xbf) && in(3, 0x80, 0xbf) ? 4 : 0;
    return 0;
}

bool is_control(std::string_view sequence) {
    auto b0 = static_cast<std::uint8_t>(sequence[0]);
    if (sequence.size() == 1) return b0 < 0x20 || b0 == 0x7f;
    // U+0080..U+009F (C1) are 0xc2 0x80..0x9f.
    return sequence.size() == 2 && b0 == 0xc2 && static_cast<std::uint8_t>(sequence[1]) <= 0x9f;
}

}  // namespace

bool is_safe_text(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        std::size_t n = sequence_length(text.substr(i));
        if (n == 0 || is_control(text.substr(i, n))) return false;
        i += n;
    }
    return true;
}

std::string safe_text(std::string_view text) {
    if (is_safe_text(text)) return std::string(text);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size() * 2);
    for (std::size_t i = 0; i < text.size();) {
        std::size_t n = sequence_length(text.substr(i));
        if (n == 0 || is_control(text.substr(i, n))) {
            // A control character is escaped byte by byte, as an invalid byte is.
            std::size_t bytes = n == 0 ? 1 : n;
            for (std::size_t k = 0; k < bytes; ++k) {
                auto b = static_cast<std::uint8_t>(text[i + k]);
                out += "\\x";
                out += hex[b >> 4];
                out += hex[b & 0xf];
            }
            i += bytes;
            continue;
        }
        out.append(text.substr(i, n));
        i += n;
    }
    return out;
}

}  // namespace affine::detail
