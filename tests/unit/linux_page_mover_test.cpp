// Bounded page moves: the mappings it walks, the byte bound per step, the cursor
// that carries over, pages the kernel refuses, and a process that is gone.
#include <gtest/gtest.h>

#include "linux/page_mover.hpp"
#include "linux_fake.hpp"

namespace affine::linux_backend {
namespace {

using testing::FakeSyscalls;
using testing::ProcTree;

// A made-up process 50 on the two-node host; `move` runs one step of at most 1 MiB.
struct PageMover : ::testing::Test {
    ProcTree tree;
    SysFs fs{tree.root()};
    FakeSyscalls sys;
    Topology host = testing::two_node_host();
    Env env{fs, sys, host};
    MoveCursor cursor;
    Result<PageMoveStep> move(int pid, const std::set<std::uint64_t>& skip = {}) {
        return move_pages_step(env, pid, NodeSet{0}, 1 << 20, std::chrono::milliseconds{1000}, cursor, skip);
    }
};

TEST_F(PageMover, MappingRangesLeaveOutTheKernelsPages) {
    auto ranges = parse_mapping_ranges(
        "55d0c0000000-55d0c0021000 r--p 00000000 08:01 1234 /usr/bin/x\n"
        "7ffd1000-7ffd3000 rw-p 00000000 00:00 0 [stack]\n"
        "7ffd5000-7ffd7000 r--p 00000000 00:00 0 [vvar]\n"
        "7ffd7000-7ffd9000 r-xp 00000000 00:00 0 [vdso]\n"
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n"
        "garbage\n");
    ASSERT_EQ(ranges.size(), 2U);
    EXPECT_EQ(ranges[0], (std::pair<std::uint64_t, std::uint64_t>{0x55d0c0000000, 0x55d0c0021000}));
    EXPECT_EQ(ranges[1].first, 0x7ffd1000U);
}

TEST_F(PageMover, FilesOtherProcessesMapAreNotMoved) {
    tree.write("/proc/50/maps",
               "10000-12000 r-xp 00000000 08:01 1234 /usr/lib/libc.so.6\n"
               "20000-22000 r--p 00000000 08:01 99 /srv/data\n"
               "30000-32000 rw-p 00000000 00:00 0\n");
    tree.write("/proc/50/numa_maps",
               "10000 default file=/usr/lib/libc.so.6 mapped=2 mapmax=40 N1=2 kernelpagesize_kB=4\n"
               "20000 default file=/srv/data mapped=2 N1=2 kernelpagesize_kB=4\n"
               "30000 default anon=2 dirty=2 mapmax=2 N1=2 kernelpagesize_kB=4\n");
    for (std::uint64_t a : {0x10000, 0x11000, 0x20000, 0x21000, 0x30000, 0x31000}) sys.pages[50][a] = 1;
    auto mappings = parse_numa_maps(*fs.read("/proc/50/numa_maps"));
    auto shared = shared_file_starts(mappings);
    EXPECT_EQ(shared, (std::set<std::uint64_t>{0x10000}));
    auto step = move(50, shared);
    ASSERT_TRUE(step);
    // The file only it maps and its anonymous pages (shared with a child too) move.
    EXPECT_EQ(step->moved_bytes, 4U * 4096);
    EXPECT_EQ(step->seen_outside_bytes, 4U * 4096);
    EXPECT_EQ(sys.pages[50][0x10000], 1);
    EXPECT_EQ(sys.pages[50][0x20000], 0);
    EXPECT_EQ(sys.pages[50][0x31000], 0);
    // The placement counts the same memory as the process's own.
    EXPECT_EQ(own_bytes_per_node(mappings), (std::map<int, std::uint64_t>{{1, 4U * 4096}}));
    EXPECT_EQ(bytes_per_node(mappings), (std::map<int, std::uint64_t>{{1, 6U * 4096}}));
}

// Pages NUMA balancing marked are absent to move_pages on some kernels: a scan does
// not see them, so the caller can tell them from the pages it saw.
TEST_F(PageMover, HiddenPagesAreNotSeen) {
    tree.write("/proc/50/maps", "30000-34000 rw-p 00000000 00:00 0\n");
    for (std::uint64_t a : {0x30000, 0x31000, 0x32000, 0x33000}) sys.pages[50][a] = 1;
    sys.hidden_pages = {0x31000, 0x32000, 0x33000};
    auto step = move(50);
    ASSERT_TRUE(step);
    EXPECT_TRUE(step->wrapped);
    EXPECT_EQ(step->moved_bytes, 4096U);
    EXPECT_EQ(step->seen_outside_bytes, 4096U);
}

TEST_F(PageMover, StepsAreBoundedAndResumeWhereTheyStopped) {
    tree.write("/proc/50/maps", "10000-1010000 rw-p 00000000 00:00 0\n");  // 4096 pages
    for (std::uint64_t a = 0x10000; a < 0x1010000; a += 4096) sys.pages[50][a] = a < 0x810000 ? 1 : 0;
    sys.pinned_pages.insert(0x10000);  // the kernel will not move this one
    auto first = move(50);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->moved_bytes, 1U << 20);
    EXPECT_FALSE(first->wrapped);
    // The part aligned to huge pages first: from 2M on; the pinned page, in the edge
    // before it, is met later.
    EXPECT_EQ(first->refused_bytes, 0U);
    EXPECT_EQ(sys.pages[50][0x200000], 0);
    EXPECT_EQ(sys.pages[50][0x1ff000], 1);
    EXPECT_FALSE(cursor.edges);
    EXPECT_GT(cursor.address, 0x200000U);
    std::uint64_t moved = first->moved_bytes;
    for (int i = 0; i < 10 && moved < (std::uint64_t{8} << 20) - 4096; ++i) {
        auto step = move(50);
        ASSERT_TRUE(step);
        moved += step->moved_bytes;
    }
    EXPECT_EQ(moved, (std::uint64_t{8} << 20) - 4096);
    int on_one = 0;
    for (auto [a, node] : sys.pages[50]) on_one += node == 1 ? 1 : 0;
    EXPECT_EQ(on_one, 1);  // the pinned page
    auto gone = move(51);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, ESRCH);
}

}  // namespace
}  // namespace affine::linux_backend
