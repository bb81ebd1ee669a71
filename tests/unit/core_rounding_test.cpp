// Rounding without libm: the same answers as std::llround for non-negative values.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/rounding.hpp"

namespace affine::detail {
namespace {

TEST(Rounding, HalvesGoUpAndTheRestToTheNearest) {
    EXPECT_EQ(round_to_whole(0.0), 0U);
    EXPECT_EQ(round_to_whole(0.49999999999999994), 0U);  // adding 0.5 first would give 1
    EXPECT_EQ(round_to_whole(0.5), 1U);
    EXPECT_EQ(round_to_whole(2.5), 3U);
    EXPECT_EQ(round_to_whole(2.4999), 2U);
    EXPECT_EQ(round_to_whole(1e15 + 0.5), 1000000000000001U);
    EXPECT_EQ(round_to_whole(0x1p53), 1ULL << 53);
    EXPECT_EQ(round_to_whole(0x1p63), 1ULL << 63);
}

TEST(Rounding, AgreesWithLlroundOverTheRange) {
    std::mt19937_64 random(7);
    std::uniform_real_distribution<double> fraction(0.0, 1.0);
    for (int exponent = -4; exponent < 62; ++exponent)
        for (int i = 0; i < 2000; ++i) {
            double value = std::ldexp(fraction(random), exponent);
            ASSERT_EQ(round_to_whole(value), static_cast<std::uint64_t>(std::llround(value))) << value;
        }
}

}  // namespace
}  // namespace affine::detail
