#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <set>

#include "affine/id_set.hpp"

namespace affine {
namespace {

TEST(IdSet, InsertContainsEraseCount) {
    CpuSet s;
    EXPECT_TRUE(s.empty());
    s.insert(0);
    s.insert(63);
    s.insert(64);
    s.insert(8191);
    EXPECT_EQ(s.count(), 4);
    EXPECT_TRUE(s.contains(63));
    EXPECT_TRUE(s.contains(8191));
    EXPECT_FALSE(s.contains(8190));
    EXPECT_FALSE(s.contains(-1));
    s.erase(8191);
    EXPECT_EQ(s.last(), 64);
    EXPECT_EQ(s.words().size(), 2U);  // trailing zero words are trimmed
}

TEST(IdSet, SetOperations) {
    CpuSet a{0, 1, 2, 3, 100};
    CpuSet b{2, 3, 4};
    EXPECT_EQ(a | b, (CpuSet{0, 1, 2, 3, 4, 100}));
    EXPECT_EQ(a & b, (CpuSet{2, 3}));
    EXPECT_EQ(a - b, (CpuSet{0, 1, 100}));
    EXPECT_TRUE((CpuSet{2, 3}).is_subset_of(a));
    EXPECT_FALSE(b.is_subset_of(a));
    EXPECT_TRUE(a.intersects(b));
    EXPECT_FALSE((CpuSet{5}).intersects(a));
    // Equality does not depend on how large the set once was.
    CpuSet c{1000};
    c.erase(1000);
    EXPECT_EQ(c, CpuSet{});
}

TEST(IdSet, IteratesInOrder) {
    CpuSet s{70, 3, 64, 0, 4095};
    EXPECT_EQ(s.ids(), (std::vector<int>{0, 3, 64, 70, 4095}));
    EXPECT_EQ(s.first(), 0);
    EXPECT_EQ(CpuSet{}.first(), std::nullopt);
}

TEST(IdSet, RangeWithStride) {
    EXPECT_EQ(CpuSet::range(0, 10, 4), (CpuSet{0, 4, 8}));
    EXPECT_EQ(CpuSet::range(5, 5), (CpuSet{5}));
}

TEST(IdSet, AgreesWithStdSetOnRandomOperations) {
    std::mt19937 rng(42);
    for (int round = 0; round < 200; ++round) {
        CpuSet a, b;
        std::set<int> sa, sb;
        for (int i = 0; i < 50; ++i) {
            int x = static_cast<int>(rng() % 300), y = static_cast<int>(rng() % 300);
            a.insert(x), sa.insert(x), b.insert(y), sb.insert(y);
        }
        std::vector<int> inter, uni, diff;
        std::ranges::set_intersection(sa, sb, std::back_inserter(inter));
        std::ranges::set_union(sa, sb, std::back_inserter(uni));
        std::ranges::set_difference(sa, sb, std::back_inserter(diff));
        EXPECT_EQ((a & b).ids(), inter);
        EXPECT_EQ((a | b).ids(), uni);
        EXPECT_EQ((a - b).ids(), diff);
    }
}

}  // namespace
}  // namespace affine
