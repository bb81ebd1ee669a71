// Memory sizes as people write them ("4G", "512M", "1.5G", "1073741824").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "affine/error.hpp"

namespace affine {

// Parses a size: a number of bytes, or a number (decimals allowed) followed by
// K, M, G, T or P (powers of 1024; an optional "iB" or "B" after the letter is
// accepted). Usage error on anything else, on zero and on overflow.
Result<std::uint64_t> parse_size(std::string_view text);

// The size in the largest binary unit that keeps it readable: "512M", "1.5G", "64G".
std::string format_size(std::uint64_t bytes);

}  // namespace affine
