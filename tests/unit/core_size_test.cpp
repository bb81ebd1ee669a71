#include <gtest/gtest.h>

#include "affine/size.hpp"

namespace affine {
namespace {

TEST(Size, Parses) {
    EXPECT_EQ(*parse_size("4G"), 4ULL << 30);
    EXPECT_EQ(*parse_size("512M"), 512ULL << 20);
    EXPECT_EQ(*parse_size("512m"), 512ULL << 20);
    EXPECT_EQ(*parse_size("1.5G"), 3ULL << 29);
    EXPECT_EQ(*parse_size("64GiB"), 64ULL << 30);
    EXPECT_EQ(*parse_size("2KiB"), 2048U);
    EXPECT_EQ(*parse_size("2k"), 2048U);
    // KB, MB, GB, TB: decimal, as hwloc reads them (numa:1(memory=64GB)).
    EXPECT_EQ(*parse_size("2KB"), 2000U);
    EXPECT_EQ(*parse_size("64GB"), 64'000'000'000ULL);
    EXPECT_EQ(*parse_size("1.5TB"), 1'500'000'000'000ULL);
    EXPECT_EQ(*parse_size("1073741824"), 1ULL << 30);
    EXPECT_EQ(*parse_size("1T"), 1ULL << 40);
    EXPECT_EQ(*parse_size("512B"), 512U);
    // Any case of the documented units.
    EXPECT_EQ(*parse_size("4gb"), 4'000'000'000ULL);
    EXPECT_EQ(*parse_size("4Gb"), 4'000'000'000ULL);
    EXPECT_EQ(*parse_size("4gib"), 4ULL << 30);
    EXPECT_EQ(*parse_size("4GIB"), 4ULL << 30);
    EXPECT_EQ(*parse_size("4b"), 4U);
}

TEST(Size, Refuses) {
    for (const char* bad : {"", "G", "4X", "4Gx", "0", "0G", "1.5", "1..5G", "99999999P", "-1G", "4GiBs",
                            "4gibs", "4G B", "0.0001K", "1.5B", "1.5b", "B", "4gx"}) {
        auto r = parse_size(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().kind, ErrorKind::usage);
        }
    }
}

TEST(Size, Formats) {
    EXPECT_EQ(format_size(512ULL << 20), "512M");
    EXPECT_EQ(format_size(3ULL << 29), "1.5G");
    EXPECT_EQ(format_size(64ULL << 30), "64G");
    EXPECT_EQ(format_size(100), "100B");
}

// What format_size prints, parse_size reads back (to the precision printed).
TEST(Size, RoundTrips) {
    for (std::uint64_t bytes : {1ULL, 100ULL, 1023ULL, 1024ULL, 512ULL << 20, 3ULL << 29, 64ULL << 30}) {
        auto back = parse_size(format_size(bytes));
        ASSERT_TRUE(back) << format_size(bytes);
        EXPECT_EQ(*back, bytes);
    }
}

}  // namespace
}  // namespace affine
