// The Linux topology reader on sysfs trees captured from real kernels under QEMU,
// checked three ways: against hwloc reading the same tree (HWLOC_FSROOT), against
// the guest's own `numactl -H`, and against the expected JSON.
#include <gtest/gtest.h>
#include <hwloc.h>

#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "host/hwloc_import.hpp"
#include "core/json.hpp"
#include "linux/sysfs_topology.hpp"

namespace affine {
namespace {

const std::string fixtures = std::string(AFFINE_FIXTURES) + "/sysfs/";

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

Topology ours(const std::string& name) {
    auto t = read_linux_topology(fixtures + name);
    EXPECT_TRUE(t) << (t ? "" : t.error().message);
    return t.value_or(Topology{});
}

Topology by_hwloc(const std::string& name) {
    ::setenv("HWLOC_FSROOT", (fixtures + name).c_str(), 1);
    hwloc_topology_t topo = nullptr;
    hwloc_topology_init(&topo);
    hwloc_topology_set_flags(topo, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
    EXPECT_EQ(hwloc_topology_load(topo), 0);
    auto t = detail::topology_from_hwloc(topo, name);
    EXPECT_TRUE(t) << (t ? "" : t.error().message);
    hwloc_topology_destroy(topo);
    ::unsetenv("HWLOC_FSROOT");
    return t.value_or(Topology{});
}

class CapturedHost : public testing::TestWithParam<std::string> {};

TEST_P(CapturedHost, AgreesWithHwloc) {
    Topology t = ours(GetParam());
    Topology h = by_hwloc(GetParam());
    ASSERT_EQ(t.all_nodes(), h.all_nodes());
    for (const Node& hn : h.nodes) {
        const Node* n = t.node(hn.id);
        ASSERT_NE(n, nullptr);
        // hwloc's node cpusets hold online CPUs only.
        EXPECT_EQ(n->cpus & t.online_cpus(), hn.cpus) << "node " << hn.id;
        EXPECT_EQ(n->memory_total_bytes, hn.memory_total_bytes) << "node " << hn.id;
        EXPECT_EQ(n->distances, hn.distances) << "node " << hn.id;
    }
    for (Level level : {Level::core, Level::package, Level::die, Level::l3})
        EXPECT_EQ(t.groups(level), h.groups(level)) << "level " << static_cast<int>(level);
    EXPECT_EQ(t.online_cpus(), h.online_cpus());
    EXPECT_EQ(t.all_cpus(), h.all_cpus());  // hwloc's complete cpuset holds offline CPUs too
    for (const Cpu& hc : h.cpus) {
        if (!hc.online) continue;
        const Cpu* c = t.cpu(hc.id);
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(c->core, hc.core) << "CPU " << hc.id;
        EXPECT_EQ(c->package, hc.package) << "CPU " << hc.id;
        EXPECT_EQ(c->node, hc.node) << "CPU " << hc.id;
        EXPECT_EQ(c->l3, hc.l3) << "CPU " << hc.id;
    }
}

// numactl -H as the guest printed it: "node N cpus: ...", "node N size: M MB", distances.
TEST_P(CapturedHost, AgreesWithNumactl) {
    Topology t = ours(GetParam());
    std::istringstream in(slurp(fixtures + GetParam() + ".numactl.txt"));
    std::string line;
    std::vector<int> order;
    std::regex cpus_re(R"(node (\d+) cpus:(.*))"), size_re(R"(node (\d+) size: (\d+) MB)"),
        dist_re(R"(\s*(\d+):((\s+\d+)+)\s*)");
    std::smatch m;
    int checked = 0;
    while (std::getline(in, line)) {
        if (std::regex_match(line, m, cpus_re)) {
            int node = std::stoi(m[1]);
            order.push_back(node);
            CpuSet expected;
            std::istringstream ids(m[2].str());
            for (int id; ids >> id;) expected.insert(id);
            ASSERT_NE(t.node(node), nullptr);
            // numactl lists the CPUs the kernel has in the node: online ones.
            EXPECT_EQ(t.node(node)->cpus & t.online_cpus(), expected) << line;
            ++checked;
        } else if (std::regex_match(line, m, size_re)) {
            EXPECT_EQ(t.node(std::stoi(m[1]))->memory_total_bytes >> 20, std::stoull(m[2])) << line;
            ++checked;
        } else if (std::regex_match(line, m, dist_re)) {
            int from = std::stoi(m[1]);
            std::istringstream ds(m[2].str());
            int d = 0;
            for (std::size_t i = 0; ds >> d; ++i) EXPECT_EQ(t.distance(from, order.at(i)), d) << line;
            ++checked;
        }
    }
    EXPECT_EQ(checked, 3 * static_cast<int>(t.nodes.size()));
}

TEST_P(CapturedHost, MatchesExpectedJson) {
    Topology t = ours(GetParam());
    t.source = GetParam();
    std::string expected = slurp(fixtures + GetParam() + ".expected.json");
    ASSERT_FALSE(expected.empty()) << "missing " << GetParam() << ".expected.json";
    EXPECT_EQ(topology_to_json(t) + "\n", expected);
    // And the host file reads back as the same topology.
    auto back = topology_from_json(expected, GetParam());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, t);
}

// The location terms name what hwloc names by the same logical index (hwloc-calc's
// core:N without --physical), read by hwloc from the same tree.
TEST_P(CapturedHost, LocationTermsAgreeWithHwloc) {
    Topology t = ours(GetParam());
    ::setenv("HWLOC_FSROOT", (fixtures + GetParam()).c_str(), 1);
    hwloc_topology_t topo = nullptr;
    hwloc_topology_init(&topo);
    ASSERT_EQ(hwloc_topology_load(topo), 0);
    ::unsetenv("HWLOC_FSROOT");
    for (auto [type, term] : {std::pair{HWLOC_OBJ_CORE, "core"}, {HWLOC_OBJ_PACKAGE, "socket"},
                              {HWLOC_OBJ_PACKAGE, "package"}, {HWLOC_OBJ_DIE, "die"}, {HWLOC_OBJ_L3CACHE, "l3"}}) {
        int count = hwloc_get_nbobjs_by_type(topo, type);
        for (int i = 0; i < count; ++i) {
            hwloc_obj_t obj = hwloc_get_obj_by_type(topo, type, static_cast<unsigned>(i));
            CpuSet expected;
            for (int id = hwloc_bitmap_first(obj->cpuset); id >= 0; id = hwloc_bitmap_next(obj->cpuset, id))
                expected.insert(id);
            std::string text = fmt::format("{}:{}", term, i);
            auto got = parse_cpu_set(text, t);
            ASSERT_TRUE(got) << text << ": " << got.error().message;
            EXPECT_EQ(*got, expected) << text;
        }
        // One past the last is refused, naming how many there are.
        EXPECT_FALSE(parse_cpu_set(fmt::format("{}:{}", term, count), t)) << term << ":" << count;
    }
    hwloc_topology_destroy(topo);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CapturedHost,
                         testing::Values("numa2", "numa4", "memless", "sparse", "dies", "hmat", "hmat-backports"));

// CPU ids that alternate between packages (hwloc's synthetic indexes=): hwloc's
// core:1 is the second core of package 0, and so is affine's.
TEST(HwlocHost, LocationTermsFollowHwlocsOrder) {
    const char* description = "pack:2 l3:1 core:2 pu:2(indexes=0,4,2,6,1,5,3,7)";
    auto t = hwloc_topology(description);
    ASSERT_TRUE(t) << t.error().message;
    hwloc_topology_t topo = nullptr;
    hwloc_topology_init(&topo);
    hwloc_topology_set_synthetic(topo, description);
    ASSERT_EQ(hwloc_topology_load(topo), 0);
    for (auto [type, term] : {std::pair{HWLOC_OBJ_CORE, "core"}, {HWLOC_OBJ_PACKAGE, "socket"},
                              {HWLOC_OBJ_L3CACHE, "l3"}}) {
        for (int i = 0; i < hwloc_get_nbobjs_by_type(topo, type); ++i) {
            hwloc_obj_t obj = hwloc_get_obj_by_type(topo, type, static_cast<unsigned>(i));
            CpuSet expected;
            for (int id = hwloc_bitmap_first(obj->cpuset); id >= 0; id = hwloc_bitmap_next(obj->cpuset, id))
                expected.insert(id);
            EXPECT_EQ(parse_cpu_set(fmt::format("{}:{}", term, i), *t).value_or(CpuSet{}), expected) << term << i;
        }
    }
    hwloc_topology_destroy(topo);
    EXPECT_EQ(*parse_cpu_set("core:1", *t), (CpuSet{2, 6}));
}

TEST(CapturedHost, FeaturesOfEachTree) {
    Topology numa4 = ours("numa4");
    EXPECT_FALSE(numa4.node(3)->has_cpus());
    EXPECT_EQ(numa4.distance(0, 1), 21);
    EXPECT_EQ(numa4.distance(1, 0), 22);  // asymmetric
    Topology memless = ours("memless");
    EXPECT_FALSE(memless.node(1)->has_memory());
    EXPECT_FALSE(memless.cpu(3)->online);
    EXPECT_EQ(memless.cpu(3)->node, 1);  // from the cpu3/node1 link: x86 drops it from the node's cpulist
    EXPECT_EQ(memless.allowed_nodes, (NodeSet{0, 2}));
    Topology sparse = ours("sparse");
    EXPECT_EQ(sparse.all_nodes(), (NodeSet{0, 2}));
    EXPECT_EQ(sparse.distance(0, 2), 31);
    // SMT, two dies per package, an L3 per die (QEMU 7.2: -smp 8,sockets=2,dies=2,cores=1,threads=2).
    Topology dies = ours("dies");
    EXPECT_EQ(dies.cpu(3)->die, 1);
    EXPECT_EQ(dies.cpu(3)->core, dies.cpu(2)->core);
    EXPECT_EQ(dies.cpu(5)->l3, 2);
    EXPECT_EQ(dies.groups(Level::die).size(), 4U);
    EXPECT_EQ(dies.groups(Level::l3)[3], (CpuSet{6, 7}));
}

// Each core's topology files and each L3's cache files are read once, from its first
// CPU: the dies tree has 8 CPUs, 4 cores of 2 threads, an L3 per core.
TEST(CapturedHost, EachCoreAndEachL3IsReadOnce) {
    linux_backend::SysFs fs(fixtures + "dies");
    std::vector<std::string> paths;
    fs.record_reads(&paths);
    auto t = linux_backend::read_topology(fs);
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->groups(Level::l3).size(), 4U);
    std::set<int> topology_read, caches_listed;
    std::regex cpu_file(R"(/sys/devices/system/cpu/cpu(\d+)/(topology|cache)/?)");
    for (const std::string& p : paths) {
        std::smatch m;
        if (!std::regex_search(p, m, cpu_file)) continue;
        int cpu = std::stoi(m[1]);
        if (m[2] == "topology") topology_read.insert(cpu);
        if (m[2] == "cache" && p.ends_with("/cache/")) caches_listed.insert(cpu);
    }
    EXPECT_EQ(topology_read, (std::set<int>{0, 2, 4, 6}));
    EXPECT_EQ(caches_listed, (std::set<int>{0, 2, 4, 6}));
    // The same topology as the tree read without the recording.
    EXPECT_EQ(detail::topology_json(*t), detail::topology_json(ours("dies")));
}

}  // namespace
}  // namespace affine
