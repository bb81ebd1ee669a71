// hwloc's memory attributes and memory-side caches imported from XML, checked
// against what hwloc's own `lstopo-no-graphics -p --memattrs -i FILE.xml` prints for
// the same file, and against the sysfs tree captured from the same guest.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <sstream>

#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "host/hwloc_import.hpp"

namespace affine {
namespace {

const std::string fixtures = std::string(AFFINE_FIXTURES) + "/sysfs/";

std::string output_of(const std::string& command) {
    std::string text;
    if (FILE* p = ::popen(command.c_str(), "r")) {
        char buffer[4096];
        for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, p)) > 0;) text.append(buffer, n);
        ::pclose(p);
    }
    return text;
}

// hwloc's bitmap text: 32-bit words in hex, most significant first, comma separated.
CpuSet cpus_of_hex(std::string text) {
    CpuSet set;
    if (text.starts_with("0x")) text = text.substr(2);
    std::vector<std::uint32_t> words;
    std::stringstream in(text);
    for (std::string word; std::getline(in, word, ',');)
        words.push_back(static_cast<std::uint32_t>(std::stoul(word.starts_with("0x") ? word.substr(2) : word, nullptr, 16)));
    for (std::size_t i = 0; i < words.size(); ++i) {
        std::uint32_t w = words[words.size() - 1 - i];
        for (int bit = 0; bit < 32; ++bit)
            if (w & (1U << bit)) set.insert(static_cast<int>(i * 32) + bit);
    }
    return set;
}

// What lstopo prints: attribute name -> (node os index, initiator CPUs as a list) -> value.
using LstopoValues = std::map<std::string, std::map<std::pair<int, std::string>, std::uint64_t>>;

LstopoValues lstopo_memattrs(const std::string& xml) {
    std::string text = output_of("lstopo-no-graphics -p --memattrs -i '" + xml + "' 2>&1");
    LstopoValues values;
    std::string attribute;
    const std::regex header(R"(^Memory attribute #\d+ name `(\w+)')");
    const std::regex value(R"(^\s+NUMANode P#(\d+) = (\d+) from cpuset (\S+))");
    std::stringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_search(line, m, header)) attribute = m[1];
        else if (std::regex_search(line, m, value))
            values[attribute][{std::stoi(m[1]), to_list(cpus_of_hex(m[3]))}] = std::stoull(m[2]);
    }
    return values;
}

Topology imported(const std::string& xml) {
    auto t = hwloc_topology(xml);
    EXPECT_TRUE(t) << (t ? "" : t.error().message);
    return t.value_or(Topology{});
}

// Every figure lstopo prints is in the imported host under the initiator nodes of
// the same CPUs, and every figure of the host is one lstopo prints.
void expect_same_as_lstopo(const std::string& xml) {
    LstopoValues shown = lstopo_memattrs(xml);
    std::size_t printed = 0;
    for (const char* name : {"ReadBandwidth", "WriteBandwidth", "ReadLatency", "WriteLatency"}) printed += shown[name].size();
    ASSERT_GT(printed, 0U) << "lstopo-no-graphics printed no read or write attribute for " << xml;
    Topology t = imported(xml);
    const std::pair<std::string, std::optional<std::uint64_t> MemoryAccess::*> fields[] = {
        {"ReadBandwidth", &MemoryAccess::read_bandwidth_mbps},
        {"WriteBandwidth", &MemoryAccess::write_bandwidth_mbps},
        {"ReadLatency", &MemoryAccess::read_latency_ns},
        {"WriteLatency", &MemoryAccess::write_latency_ns}};
    for (const auto& [name, field] : fields) {
        std::size_t seen = 0;
        for (const Node& n : t.nodes)
            for (const MemoryAccess& a : n.access) {
                EXPECT_EQ(a.access_class, 1);
                if (!(a.*field)) continue;
                ++seen;
                auto it = shown[name].find({n.id, to_list(t.cpus_of(a.initiators) & t.online_cpus())});
                ASSERT_NE(it, shown[name].end()) << name << " of node " << n.id;
                EXPECT_EQ(*(a.*field), it->second) << name << " of node " << n.id;
            }
        EXPECT_EQ(seen, shown[name].size()) << name;
    }
}

TEST(HwlocMemoryAttributes, CapturedXmlAgreesWithLstopo) {
    for (const char* name : {"hmat", "hmat-backports"}) {
        SCOPED_TRACE(name);
        expect_same_as_lstopo(fixtures + name + ".lstopo.xml");
    }
}

// The values lstopo printed for the 6.1 guest's file, recorded so that a change of
// hwloc cannot hide a change of ours:
//   lstopo-no-graphics -p --memattrs -i tests/fixtures/sysfs/hmat.lstopo.xml
//   ReadBandwidth:  NUMANode P#0 = 10240 from cpuset 0x00000003, P#1 = 2048 from cpuset 0x00000003
//   ReadLatency:    NUMANode P#0 = 10 from cpuset 0x00000003,    P#1 = 40 from cpuset 0x00000003
//   (WriteBandwidth and WriteLatency the same; Bandwidth and Latency their means)
TEST(HwlocMemoryAttributes, RecordedValuesOfTheGuest) {
    Topology t = imported(fixtures + "hmat.lstopo.xml");
    ASSERT_EQ(t.nodes.size(), 2U);
    const MemoryAccess dram{.access_class = 1, .initiators = NodeSet{0}, .read_bandwidth_mbps = 10240,
                            .write_bandwidth_mbps = 10240, .read_latency_ns = 10, .write_latency_ns = 10};
    const MemoryAccess slow{.access_class = 1, .initiators = NodeSet{0}, .read_bandwidth_mbps = 2048,
                            .write_bandwidth_mbps = 2048, .read_latency_ns = 40, .write_latency_ns = 40};
    EXPECT_EQ(t.nodes[0].access, std::vector{dram});
    EXPECT_EQ(t.nodes[1].access, std::vector{slow});
    EXPECT_TRUE(t.nodes[0].memory_side_caches.empty());
    const MemorySideCache cache{.level = 1, .size_bytes = 16777216, .line_bytes = 64,
                                .indexing = CacheIndexing::direct_mapped, .write_policy = CacheWritePolicy::unknown};
    EXPECT_EQ(t.nodes[1].memory_side_caches, std::vector{cache});
}

// The same guest's sysfs tree read by affine: class 1 and the caches' size, line and
// indexing are what hwloc wrote into the XML.
TEST(HwlocMemoryAttributes, SameAsTheSysfsReadOfTheGuest) {
    for (const char* name : {"hmat", "hmat-backports"}) {
        SCOPED_TRACE(name);
        Topology from_xml = imported(fixtures + name + ".lstopo.xml");
        auto from_sysfs = read_linux_topology(fixtures + name);
        ASSERT_TRUE(from_sysfs) << from_sysfs.error().message;
        ASSERT_EQ(from_xml.all_nodes(), from_sysfs->all_nodes());
        for (const Node& n : from_sysfs->nodes) {
            const Node& x = *from_xml.node(n.id);
            std::vector<MemoryAccess> class1;
            for (const MemoryAccess& a : n.access)
                if (a.access_class == 1) class1.push_back(a);
            EXPECT_EQ(x.access, class1) << "node " << n.id;
            ASSERT_EQ(x.memory_side_caches.size(), n.memory_side_caches.size());
            for (std::size_t i = 0; i < n.memory_side_caches.size(); ++i) {
                MemorySideCache expected = n.memory_side_caches[i];
                expected.write_policy = CacheWritePolicy::unknown;
                EXPECT_EQ(x.memory_side_caches[i], expected) << "node " << n.id;
            }
        }
    }
}

// A file with only some attributes: what it lacks stays absent, and lstopo agrees.
TEST(HwlocMemoryAttributes, PartialAttributesStayPartial) {
    std::ifstream captured(fixtures + "hmat.lstopo.xml");
    std::string xml{std::istreambuf_iterator<char>(captured), std::istreambuf_iterator<char>()};
    ASSERT_FALSE(xml.empty());
    for (const char* drop : {"Bandwidth", "Latency", "ReadBandwidth", "WriteBandwidth", "WriteLatency"}) {
        std::string open = std::string("<memattr name=\"") + drop + "\"";
        auto at = xml.find(open);
        ASSERT_NE(at, std::string::npos) << drop;
        auto end = xml.find("</memattr>", at);
        xml.erase(at, end + std::string("</memattr>").size() - at);
    }
    std::string path = testing::TempDir() + "affine-hmat-read-latency-only.xml";
    std::ofstream(path) << xml;
    expect_same_as_lstopo(path);  // ReadLatency only
    Topology t = imported(path);
    ASSERT_EQ(t.nodes[1].access.size(), 1U);
    EXPECT_EQ(t.nodes[1].access[0].read_latency_ns, 40U);
    EXPECT_EQ(t.nodes[1].access[0].write_latency_ns, std::nullopt);
    EXPECT_EQ(t.nodes[1].access[0].read_bandwidth_mbps, std::nullopt);
    EXPECT_EQ(t.nodes[1].access[0].write_bandwidth_mbps, std::nullopt);
    std::remove(path.c_str());
}

TEST(HwlocMemoryAttributes, NoMemoryAttributesNoAccess) {
    Topology t = imported(fixtures + "numa2.lstopo.xml");
    for (const Node& n : t.nodes) {
        EXPECT_TRUE(n.access.empty()) << "node " << n.id;
        EXPECT_TRUE(n.memory_side_caches.empty()) << "node " << n.id;
    }
}

// The mapping itself, on a made-up host: node 0 with CPUs 0-3 (3 offline), node 1
// with CPUs 4-7, node 2 without CPUs.
Topology two_sockets_and_memory() {
    Topology t;
    for (int id = 0; id < 8; ++id) {
        Cpu c;
        c.id = id;
        c.online = id != 3;
        c.core = id;
        c.node = id / 4;
        t.cpus.push_back(c);
    }
    t.nodes.resize(3);
    for (int id = 0; id < 3; ++id) t.nodes[id].id = id;
    t.nodes[0].cpus = CpuSet{0, 1, 2, 3};
    t.nodes[1].cpus = CpuSet{4, 5, 6, 7};
    return t;
}

TEST(HwlocMemoryAttributes, InitiatorsAreWholeNodes) {
    Topology t = two_sockets_and_memory();
    using V = detail::MemoryAttributeValues;
    // Node 0's online CPUs: node 0.
    auto a = detail::access_from_memattrs(t, std::vector{V{.initiator_cpus = {0, 1, 2}, .read_latency_ns = 90}});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->initiators, NodeSet{0});
    EXPECT_EQ(a->access_class, 1);
    // Both sockets.
    a = detail::access_from_memattrs(t, std::vector{V{.initiator_cpus = {0, 1, 2, 4, 5, 6, 7}, .read_latency_ns = 90}});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->initiators, (NodeSet{0, 1}));
    // Part of a node (a core, say) is not an access class: left out.
    EXPECT_FALSE(detail::access_from_memattrs(t, std::vector{V{.initiator_cpus = {4, 5}, .read_latency_ns = 90}}));
    EXPECT_FALSE(detail::access_from_memattrs(t, std::vector{V{.initiator_cpus = {0, 1, 2, 4}, .read_latency_ns = 9}}));
    // No figure at all.
    EXPECT_FALSE(detail::access_from_memattrs(t, std::vector{V{.initiator_cpus = {4, 5, 6, 7}}}));
    EXPECT_FALSE(detail::access_from_memattrs(t, std::span<const V>{}));
}

TEST(HwlocMemoryAttributes, NearestInitiatorOfSeveral) {
    Topology t = two_sockets_and_memory();
    using V = detail::MemoryAttributeValues;
    std::vector values{V{.initiator_cpus = {0, 1, 2}, .read_bandwidth_mbps = 4000, .read_latency_ns = 250},
                       V{.initiator_cpus = {4, 5, 6, 7}, .read_bandwidth_mbps = 3000, .read_latency_ns = 180},
                       V{.initiator_cpus = {0, 1, 2, 4, 5, 6, 7}, .read_bandwidth_mbps = 9000}};
    auto a = detail::access_from_memattrs(t, values);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->initiators, NodeSet{1});
    EXPECT_EQ(a->read_latency_ns, 180U);
    EXPECT_EQ(a->read_bandwidth_mbps, 3000U);
    // Without latencies: the highest read bandwidth.
    for (V& v : values) v.read_latency_ns.reset();
    a = detail::access_from_memattrs(t, values);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->initiators, (NodeSet{0, 1}));
}

TEST(HwlocMemoryAttributes, GenericFigureOnlyWhereNoDirectionIsGiven) {
    Topology t = two_sockets_and_memory();
    using V = detail::MemoryAttributeValues;
    // Only the generic figures: the platform's one figure for both directions.
    auto a = detail::access_from_memattrs(
        t, std::vector{V{.initiator_cpus = {4, 5, 6, 7}, .bandwidth_mbps = 5000, .latency_ns = 120}});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->read_bandwidth_mbps, 5000U);
    EXPECT_EQ(a->write_bandwidth_mbps, 5000U);
    EXPECT_EQ(a->read_latency_ns, 120U);
    EXPECT_EQ(a->write_latency_ns, 120U);
    // One direction given: the mean is not the other direction, which stays absent.
    a = detail::access_from_memattrs(t, std::vector{V{.initiator_cpus = {4, 5, 6, 7}, .read_bandwidth_mbps = 6000,
                                                      .bandwidth_mbps = 5000, .write_latency_ns = 130,
                                                      .latency_ns = 120}});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->read_bandwidth_mbps, 6000U);
    EXPECT_EQ(a->write_bandwidth_mbps, std::nullopt);
    EXPECT_EQ(a->read_latency_ns, std::nullopt);
    EXPECT_EQ(a->write_latency_ns, 130U);
}

}  // namespace
}  // namespace affine
