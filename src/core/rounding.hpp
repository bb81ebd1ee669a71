// Rounding of non-negative measurements and sizes to whole numbers, by plain
// arithmetic: the affine program links no libm (one shared library fewer to load
// at every start of a command scripts run many times).
#pragma once

#include <cstdint>

namespace affine::detail {

// `value` (0 <= value < 2^64) to the nearest whole number, halves up, as
// std::llround rounds a non-negative value. Exact: the part after the point is
// computed without rounding for every double in that range.
constexpr std::uint64_t round_to_whole(double value) {
    auto whole = static_cast<std::uint64_t>(value);  // truncates
    return value - static_cast<double>(whole) >= 0.5 ? whole + 1 : whole;
}

}  // namespace affine::detail
