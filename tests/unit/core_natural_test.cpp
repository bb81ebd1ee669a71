// The arbitrary-size natural numbers of the exact Xen load sums.
#include <gtest/gtest.h>

#include "core/natural.hpp"

namespace affine::detail {
namespace {

TEST(Natural, ArithmeticPastOneHundredTwentyEightBits) {
    Natural big(1);
    for (int i = 0; i < 5; ++i) big = big.times(0xffffffffffffffffULL);  // (2^64-1)^5: 320 bits
    Natural sum = big;
    sum += big;
    EXPECT_GT(sum, big);
    sum -= big;
    EXPECT_EQ(sum, big);
    std::uint32_t rest = 7;
    Natural third = big.divided_by(3, rest);  // 2^64-1 is a multiple of 3
    EXPECT_EQ(rest, 0U);
    EXPECT_EQ(third.times(3), big);
    (void)big.times(10).divided_by(4, rest);
    EXPECT_EQ(rest, 2U);  // (2^64-1)^5 * 10 is 2 mod 4
    Natural zero = big;
    zero -= big;
    EXPECT_TRUE(zero.is_zero());
    EXPECT_LT(Natural(5), Natural(1ULL << 40));
    EXPECT_EQ(Natural(0xffffffffULL).times(0x100000001ULL), Natural(0xffffffffffffffffULL));
}

}  // namespace
}  // namespace affine::detail
