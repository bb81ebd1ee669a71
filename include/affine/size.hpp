// Memory sizes as people write them ("4G", "512M", "1.5GiB", "64GB", "1073741824").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "affine/error.hpp"

namespace affine {

// Parses a size, the one rule for every size affine reads (host specs, hwloc
// descriptions, requests, --memory, the simulated host): a number of bytes, or a
// number (decimals allowed) followed by a unit. K, M, G, T, P and KiB, MiB, GiB,
// TiB, PiB are powers of 1024; KB, MB, GB, TB, PB are powers of 1000, as hwloc and
// disk makers count (64GB = 64 * 10^9). Units are read in any case ("4gb" is
// "4GB", "4gib" is "4GiB"); anything else after the letter ("GiBs", "Gx") is refused. Usage error on anything else, on zero
// and on overflow.
Result<std::uint64_t> parse_size(std::string_view text);

// The size in the largest binary unit that keeps it readable: "512M", "1.5G", "64G".
std::string format_size(std::uint64_t bytes);

}  // namespace affine
