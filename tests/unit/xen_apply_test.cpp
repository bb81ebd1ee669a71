// The Xen transactions of src/xen/apply.hpp on the simulated host: all or nothing,
// with the refusal explained; and the auto flag inferred where the hypervisor
// cannot say.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "affine/host.hpp"
#include "xen/sim/sim_hypervisor.hpp"
#include "state/state_file.hpp"
#include "xen/apply.hpp"
#include "xen/explain.hpp"

namespace affine::xen {
namespace {

// A simulated host of 2 nodes x 2 CPUs: dom0 with 4 vCPUs and domain 1 with 3.
struct Sim {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / fmt::format("affine-apply-{}.json", getpid());
    SimHypervisor hv{make_host(), *StateFile::lock(path.string(), LockWait::fail_if_held)};
    ~Sim() {
        std::filesystem::remove(path);
        std::filesystem::remove(path.string() + ".lock");
    }

    static XenHost make_host() {
        XenHost host = *initial_sim_host(*synthetic_topology("nodes=2,cores=2,mem=1G"), 4, 0);
        EXPECT_TRUE(create_domain(host, 3, 3, 1));
        return host;
    }
    XenHost snap() { return *snapshot(hv); }
};

TEST(ApplyVcpuAffinity, RefusedVcpuRestoresTheOnesBefore) {
    Sim sim;
    ASSERT_TRUE(sim.hv.set_temporarily_pinned(1, 2, true));
    XenHost before = sim.snap();
    auto r = apply_vcpu_affinity(sim.hv, before, *before.domain(1), {0, 1, 2}, CpuSet{0}, std::nullopt, false);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, EBUSY);
    EXPECT_EQ(r.error().message,
              "vCPU 2: Device or resource busy (EBUSY): the hypervisor has pinned it temporarily (--force "
              "overrides); vCPUs 0-1 restored to their previous masks");
    EXPECT_EQ(sim.snap().domain(1)->vcpus, before.domain(1)->vcpus);
    // With FORCE the batch goes through.
    auto forced = apply_vcpu_affinity(sim.hv, before, *before.domain(1), {0, 1, 2}, CpuSet{0}, std::nullopt, true);
    ASSERT_TRUE(forced) << forced.error().message;
    EXPECT_EQ(forced->size(), 3U);
    EXPECT_EQ(sim.snap().domain(1)->node_affinity, NodeSet{0});
    EXPECT_EQ(apply_vcpu_affinity(sim.hv, before, *before.domain(1), {0}, std::nullopt, std::nullopt, false)
                  .error()
                  .kind,
              ErrorKind::usage);
}

TEST(ApplyPlacement, RefusedNodeAffinityRestoresEveryVcpu) {
    Sim sim;
    XenHost before = sim.snap();
    XenPlacementActions actions;
    actions.set_vcpus = true;
    actions.hard = CpuSet::range(0, 3);
    actions.soft = CpuSet{2, 3};
    actions.node_affinity = NodeSet{5};  // offline: EINVAL
    auto r = apply_placement(sim.hv, before, *before.domain(1), actions);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, EINVAL);
    EXPECT_NE(r.error().message.find("node affinity 5: Invalid argument (EINVAL): nodes 5 are not online"),
              std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("vCPUs 0-2 restored"), std::string::npos) << r.error().message;
    EXPECT_EQ(sim.snap().domain(1)->vcpus, before.domain(1)->vcpus);
}

TEST(ApplyPlacement, ReturnsWhatWasApplied) {
    Sim sim;
    ASSERT_TRUE(sim.hv.set_node_affinity(1, NodeSet{0}));
    XenHost before = sim.snap();
    XenPlacementActions actions;
    actions.set_vcpus = true;
    actions.hard = CpuSet::range(0, 3);
    actions.soft = CpuSet{2, 3};
    actions.node_affinity = every_node();  // explicit back to auto
    auto r = apply_placement(sim.hv, before, *before.domain(1), actions);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->vcpus.size(), 3U);
    EXPECT_EQ(r->vcpus[0].effective.soft, (CpuSet{2, 3}));
    EXPECT_EQ(r->node_affinity, every_node());
    XenHost after = sim.snap();
    EXPECT_EQ(after.domain(1)->node_affinity, NodeSet{1});  // auto: follows the soft masks
    EXPECT_EQ(after.domain(1)->node_affinity_mode, NodeAffinityMode::automatic);
    EXPECT_TRUE(apply_placement(sim.hv, before, *before.domain(1), XenPlacementActions{})->vcpus.empty());
}

TEST(ApplyNodeAffinity, ExplainsARefusalAndReadsBackAuto) {
    Sim sim;
    auto r = apply_node_affinity(sim.hv, 1, NodeSet{7});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "Invalid argument (EINVAL): nodes 7 are not online (online nodes: 0-1)");
    EXPECT_EQ(apply_node_affinity(sim.hv, 9, NodeSet{0}).error().message,
              "No such process (ESRCH): domain 9 does not exist");
    ASSERT_TRUE(apply_node_affinity(sim.hv, 1, NodeSet{0}));
    ASSERT_TRUE(apply_node_affinity(sim.hv, 1, every_node()));
    EXPECT_EQ(sim.snap().domain(1)->node_affinity_mode, NodeAffinityMode::automatic);
}

// The real backend cannot read the auto flag: a hypervisor that does not say.
class Silent final : public Hypervisor {
public:
    explicit Silent(SimHypervisor& inner) : inner_(inner) {}
    [[nodiscard]] std::string name() const override { return "silent"; }
    Result<Topology> topology() override { return inner_.topology(); }
    Result<int> cpu_id_limit() override { return inner_.cpu_id_limit(); }
    Result<int> node_id_limit() override { return inner_.node_id_limit(); }
    Result<CpuSet> pool_cpus(int domid) override { return inner_.pool_cpus(domid); }
    Result<std::vector<DomainInfo>> domains() override { return inner_.domains(); }
    Result<Vcpu> vcpu_affinity(int domid, int vcpu) override { return inner_.vcpu_affinity(domid, vcpu); }
    Result<EffectiveAffinity> set_vcpu_affinity(int domid, int vcpu, const CpuSet& hard, const CpuSet& soft,
                                                AffinityFlags flags) override {
        return inner_.set_vcpu_affinity(domid, vcpu, hard, soft, flags);
    }
    Result<NodeSet> node_affinity(int domid) override { return inner_.node_affinity(domid); }
    Result<void> set_node_affinity(int domid, const NodeSet& nodes) override {
        return inner_.set_node_affinity(domid, nodes);
    }
    std::optional<NodeAffinityMode> node_affinity_mode(int) override { return std::nullopt; }
    Result<DomainMemory> memory_per_node() override { return inner_.memory_per_node(); }

private:
    SimHypervisor& inner_;
};

TEST(Snapshot, SaysWhetherTheAutoFlagWasReadOrInferred) {
    Sim sim;
    ASSERT_TRUE(sim.hv.set_node_affinity(1, NodeSet{0}));
    XenHost read = sim.snap();
    EXPECT_EQ(read.domain(1)->node_affinity_mode_source, ModeSource::hypervisor);
    Silent silent(sim.hv);
    XenHost inferred = *snapshot(silent);
    EXPECT_EQ(inferred.domain(0)->node_affinity_mode, NodeAffinityMode::automatic);
    EXPECT_EQ(inferred.domain(0)->node_affinity_mode_source, ModeSource::inferred);
    EXPECT_EQ(inferred.domain(1)->node_affinity_mode, NodeAffinityMode::explicit_nodes);
    EXPECT_EQ(inferred.domain(1)->node_affinity_mode_source, ModeSource::inferred);
}

TEST(Explain, VcpuRefusals) {
    XenHost host = Sim::make_host();
    host.pool_cpus = CpuSet{0, 1, 2};
    const Domain& d = *host.domain(1);
    EXPECT_EQ(explain_vcpu_refusal(host, d, 5, failure("x", EINVAL).error(), std::nullopt),
              "vCPU 5: Invalid argument (EINVAL): domain 1 has no vCPU 5 (vCPUs: 0-2)");
    EXPECT_EQ(explain_vcpu_refusal(host, d, 0, failure("x", EINVAL).error(), CpuSet{3}),
              "vCPU 0: Invalid argument (EINVAL): hard mask 3 has no online CPU of the domain's cpupool (its CPUs: "
              "0-2)");
    EXPECT_EQ(explain_vcpu_refusal(host, d, 1, failure("x", ESRCH).error(), std::nullopt),
              "vCPU 1: No such process (ESRCH): vCPU 1 of domain 1 is not allocated");
    EXPECT_EQ(rollback_text(CpuSet{0}, CpuSet{1}),
              "; vCPUs 0 restored to their previous masks; vCPUs 1 could NOT be restored and keep the new masks");
}

}  // namespace
}  // namespace affine::xen
