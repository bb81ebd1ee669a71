// The Xen backend pieces that need no hypervisor: the NUMA dump parser, the
// simulated host's state file, and the auto-mode inference.
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>

#include <fmt/format.h>
#include <unistd.h>

#include "affine/host.hpp"
#include "host/hypervisor_source.hpp"
#include "xen/sim/sim_hypervisor.hpp"
#include "xen/hypervisor.hpp"
#include "xen/numa_dump.hpp"

namespace affine::xen {
namespace {

// Captured from Xen 4.17 under QEMU (debug key 'u', console ring).
constexpr std::string_view dump_417 =
    "(XEN) 'u' pressed -> dumping numa info (now = 60142650123)\n"
    "(XEN) NODE0 start->0 size->262144 free->238389\n"
    "(XEN) NODE1 start->262144 size->262112 free->214251\n"
    "(XEN) CPU0...1 -> NODE0\n"
    "(XEN) CPU2...3 -> NODE1\n"
    "(XEN) Memory location of each domain:\n"
    "(XEN) Domain 0 (total: 65536):\n"
    "(XEN)     Node 0: 22832\n"
    "(XEN)     Node 1: 42704\n";

TEST(NumaDump, ParsesXen417) {
    DomainMemory m = parse_numa_dump(dump_417);
    EXPECT_EQ(m, (DomainMemory{{0, {{0, 22832 * page_bytes}, {1, 42704 * page_bytes}}}}));
}

TEST(NumaDump, TakesTheLastDumpAndLaterFormats) {
    std::string text(dump_417);
    text += "(XEN) some other message\n"
            "(XEN) [   63.1] 'u' pressed -> dumping numa info\n"
            "(XEN) [   63.1] Memory location of each domain:\r\n"
            "(XEN) [   63.1] d0 (total: 65536):\n"
            "(XEN) [   63.1]     Node 0: 22832\n"
            "(XEN) [   63.1]     Node 1: 42704\n"
            "(XEN) [   63.1] Domain 1 (total: 32768):\n"
            "(XEN) [   63.1]     Node 0: 0\n"
            "(XEN) [   63.1]     Node 1: 32768\n";
    DomainMemory m = parse_numa_dump(text);
    ASSERT_EQ(m.size(), 2U);
    EXPECT_EQ(m[1], (std::map<int, std::uint64_t>{{0, 0}, {1, 32768 * page_bytes}}));
    EXPECT_TRUE(parse_numa_dump("no dump here\n").empty());
}

TEST(HeapLayout, ReadsTheDmaWidthAndTheNodeSpans) {
    std::string text = "(XEN) Domain heap initialised DMA width 29 bits\n";
    text += dump_417;
    HeapLayout layout = parse_heap_layout(text);
    EXPECT_EQ(layout.dma_bits, 29U);
    EXPECT_EQ(layout.nodes, (std::map<int, NodeSpan>{{0, {0, 262144}}, {1, {262144, 262112}}}));
    // Without a width Xen keeps nothing; without the line (the ring wrapped), unknown.
    EXPECT_EQ(parse_heap_layout("(XEN) [    1.2] Domain heap initialised\n").dma_bits, 0U);
    EXPECT_FALSE(parse_heap_layout(dump_417).dma_bits);
    // The last dump counts.
    layout = parse_heap_layout(std::string(dump_417) + "(XEN) 'u' pressed -> dumping numa info\n"
                                                     "(XEN) NODE0 start->0 size->1024 free->10\n");
    EXPECT_EQ(layout.nodes, (std::map<int, NodeSpan>{{0, {0, 1024}}}));
}

TEST(HeapLayout, XensX86DmaRule) {
    // A quarter of node 0 (1280 MiB from 0): below 320 MiB, rounded up to 512 MiB.
    EXPECT_EQ(x86_dma_bits({{0, {0, 327680}}, {1, {327680, 131072}}}), 29U);
    // A large first node: at most 4 GiB.
    EXPECT_EQ(x86_dma_bits({{0, {0, 64ULL << 18}}, {1, {64ULL << 18, 64ULL << 18}}}), 32U);
    // The first node by id with memory below 4 GiB, skipping empty ones.
    EXPECT_EQ(x86_dma_bits({{0, {1ULL << 21, 1ULL << 20}}, {1, {0, 0}}, {2, {0, 1ULL << 18}}}), 28U);
    EXPECT_EQ(x86_dma_bits({{0, {1ULL << 21, 1ULL << 20}}}), 0U);
    EXPECT_EQ(dma_bits_option("console=com1 dma_bits=30 loglvl=all"), 30U);
    EXPECT_EQ(dma_bits_option("dma_bits=30 dma_bits=31"), 31U);
    EXPECT_FALSE(dma_bits_option("console=com1 xdma_bits=30"));
}

TEST(SimHost, StateRoundTripsThroughItsFile) {
    XenHost host = *initial_sim_host(*synthetic_topology("nodes=2,cores=2,mem=1G"), 4, 256 << 20);
    ASSERT_TRUE(create_domain(host, 2, 0, 3));
    ASSERT_TRUE(set_node_affinity(host, 3, NodeSet{1}));
    ASSERT_TRUE(allocate_pages(host, 3, 100));
    host.domain(0)->vcpu(2)->temporarily_pinned = true;
    host.pool_cpus = CpuSet{0, 1, 2};
    auto back = sim_state_from_json(sim_state_json(host), "test");
    ASSERT_TRUE(back) << back.error().message;
    host.topology.source = back->topology.source;
    EXPECT_EQ(*back, host);
    EXPECT_FALSE(sim_state_from_json("{}", "x"));
    EXPECT_FALSE(sim_state_from_json("not json", "x"));
}

TEST(SimHost, BehavesAsTheModelBehindTheInterface) {
    auto path = std::filesystem::temp_directory_path() / fmt::format("affine-sim-{}.json", getpid());
    XenHost host = *initial_sim_host(*synthetic_topology("nodes=2,cores=2,mem=1G"), 2, 0);
    ASSERT_TRUE(write_sim_state(host, path.string()));
    auto hv = open_hypervisor("sim:" + path.string());
    ASSERT_TRUE(hv) << hv.error().message;
    auto r = (*hv)->set_vcpu_affinity(0, 0, CpuSet::range(0, 3), CpuSet{2, 3},
                                      AffinityFlags::hard | AffinityFlags::soft);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r->soft, (CpuSet{2, 3}));
    EXPECT_EQ((*hv)->vcpu_affinity(0, 5).error().code, EINVAL);
    EXPECT_EQ((*hv)->set_node_affinity(0, NodeSet{4}).error().code, EINVAL);
    ASSERT_TRUE((*hv)->commit());
    // An open simulated host holds its state file's lock: commands on it take turns.
    auto other = StateFile::lock(path.string(), LockWait::fail_if_held);
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().code, EWOULDBLOCK);
    hv->reset();
    EXPECT_TRUE(StateFile::lock(path.string(), LockWait::fail_if_held));
    auto again = open_hypervisor("sim:" + path.string());
    EXPECT_EQ((*again)->vcpu_affinity(0, 0)->soft, (CpuSet{2, 3}));
    auto snap = snapshot(**again);
    ASSERT_TRUE(snap);
    EXPECT_EQ(snap->domain(0)->vcpus.size(), 2U);
    again->reset();
    std::filesystem::remove(path);
    EXPECT_EQ(open_hypervisor("sim:" + path.string()).error().kind, ErrorKind::usage);
    std::filesystem::remove(path.string() + ".lock");
    EXPECT_EQ(open_hypervisor("bogus").error().kind, ErrorKind::usage);
}

}  // namespace
}  // namespace affine::xen
