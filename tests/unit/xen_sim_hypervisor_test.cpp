// The simulated host behind the Hypervisor interface: its simulation capability.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "affine/host.hpp"
#include "host/hypervisor_source.hpp"
#include "xen/sim/sim_hypervisor.hpp"
#include "xen/hypervisor.hpp"

namespace affine::xen {
namespace {

class SimFile {
public:
    explicit SimFile(const XenHost& host)
        : path_(std::filesystem::temp_directory_path() / fmt::format("affine-simcap-{}.json", getpid())) {
        EXPECT_TRUE(write_sim_state(host, path_.string()));
    }
    ~SimFile() { std::filesystem::remove(path_); }
    SimFile(const SimFile&) = delete;
    SimFile& operator=(const SimFile&) = delete;
    [[nodiscard]] std::string spec() const { return "sim:" + path_.string(); }

private:
    std::filesystem::path path_;
};

TEST(SimulationControl, OnlyTheSimulatedHostOffersIt) {
    SimFile file(*initial_sim_host(*synthetic_topology("nodes=2,cores=2,mem=1G"), 2, 0));
    auto hv = open_hypervisor(file.spec());
    ASSERT_TRUE(hv) << hv.error().message;
    ASSERT_NE((*hv)->simulation(), nullptr);
    // The real backend offers none, whether or not it can be opened here.
    if (auto real = open_xenctrl()) {
        EXPECT_EQ((*real)->simulation(), nullptr);
    }
}

TEST(SimulationControl, ChangesGoThroughTheModelAndLast) {
    SimFile file(*initial_sim_host(*synthetic_topology("nodes=2,cores=2,mem=1G"), 2, 0));
    {
        auto hv = std::move(*open_hypervisor(file.spec()));
        SimulationControl& sim = *hv->simulation();
        NewDomain d;
        d.max_vcpus = 4;
        d.allocated_vcpus = 2;
        d.node_affinity = NodeSet{1};
        d.memory_bytes = 8 << 20;
        auto domid = sim.create_domain(d);
        ASSERT_TRUE(domid) << domid.error().message;
        EXPECT_EQ(*domid, 1);
        NewDomain none;
        none.max_vcpus = 0;
        EXPECT_EQ(sim.create_domain(none).error().code, EINVAL);
        EXPECT_EQ(sim.destroy_domain(7).error().code, ESRCH);
        EXPECT_EQ(sim.set_temporarily_pinned(1, 3, true).error().code, ESRCH);  // not allocated
        ASSERT_TRUE(sim.set_temporarily_pinned(1, 1, true));
        // The pool shrinks to node 0: dom0, in auto mode, follows; domain 1 keeps its
        // explicit node affinity.
        ASSERT_TRUE(sim.set_pool_cpus(CpuSet{0, 1}));
        ASSERT_TRUE(hv->commit());
    }
    auto hv = std::move(*open_hypervisor(file.spec()));
    auto host = snapshot(*hv);
    ASSERT_TRUE(host) << host.error().message;
    EXPECT_EQ(host->pool_cpus, (CpuSet{0, 1}));
    EXPECT_EQ(host->domain(0)->node_affinity, NodeSet{0});
    EXPECT_EQ(host->domain(1)->node_affinity, NodeSet{1});
    EXPECT_EQ(hv->memory_per_node()->at(1).at(1), std::uint64_t{8} << 20);
    EXPECT_EQ(hv->set_vcpu_affinity(1, 1, CpuSet{0}, {}, AffinityFlags::hard).error().code, EBUSY);
}

}  // namespace
}  // namespace affine::xen

namespace affine::xen {
namespace {

// A state file with fields of the wrong type or ids out of range is a usage error
// naming the field, never an exception (the fuzzer's finds).
TEST(SimState, BadFieldsAreUsageErrors) {
    auto host = initial_sim_host(*synthetic_topology("nodes=2,cores=1"), 1, 64ULL << 20);
    ASSERT_TRUE(host);
    const std::string good = sim_state_json(*host);
    ASSERT_TRUE(sim_state_from_json(good, "s.json"));
    auto with = [&](const std::string& from, const std::string& to) {
        std::string text = good;
        auto at = text.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        if (at != std::string::npos) text.replace(at, from.size(), to);
        auto r = sim_state_from_json(text, "s.json");
        EXPECT_FALSE(r) << to;
        if (r) return std::string();
        EXPECT_EQ(r.error().kind, ErrorKind::usage);
        return r.error().message;
    };
    std::string format = good.substr(good.find("\"format\""), good.find(',', good.find("\"format\"")) - good.find("\"format\""));
    EXPECT_NE(with(format, "\"format\": 7").find("not a simulated Xen host"), std::string::npos);
    EXPECT_EQ(with("\"temporarily_pinned\": false", "\"temporarily_pinned\": 1"),
              "sim state s.json: domains[0].vcpus[0].temporarily_pinned: expected true or false");
    EXPECT_EQ(with("\"node_affinity_auto\": true", "\"node_affinity_auto\": \"yes\""),
              "sim state s.json: domains[0].node_affinity_auto: expected true or false");
    EXPECT_EQ(with("\"pages_per_node\": {\n    \"0\"", "\"pages_per_node\": {\n    \"x\""),
              "sim state s.json: domains[0].pages_per_node: key \"x\" is not an id");
    EXPECT_EQ(with("\"domid\": 0", "\"domid\": 4294967296"),
              "sim state s.json: domains[0].domid: must be at most 32751");
}

}  // namespace
}  // namespace affine::xen
