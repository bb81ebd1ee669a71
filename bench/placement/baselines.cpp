// The placers affine is measured against, re-implemented from the descriptions in
// PLACEMENT-ANCHORS.md (xenopsd best_effort, libxl automatic placement, numad).
// They live here only: they are baselines, not part of the product.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>

#include "harness.hpp"

namespace bench {
namespace {

using affine::NodeSet;
using affine::Topology;

bool valid_distance(int d) { return d >= 10 && d < 255; }

std::uint64_t free_of(const Topology& t, int node) {
    return t.allowed_nodes.contains(node) ? t.node(node)->memory_free_bytes : 0;
}

NodeSet node_set(const std::vector<int>& ids) {
    NodeSet s;
    for (int id : ids) s.insert(id);
    return s;
}

// xenopsd, policy best_effort (newer versions: a physical core per vCPU too).
class Xenopsd final : public Placer {
public:
    [[nodiscard]] std::string name() const override { return "xenopsd"; }

    void start(const HostState& host, std::string& note) override {
        const Topology& t = host.topology;
        candidates_.clear();
        usage_.clear();
        disabled_ = false;
        if (!host.reserved.empty()) {
            // host-cpu-tune hard-pins every VM, which disables NUMA placement.
            disabled_ = true;
            note = "host CPU mask hard-pins every VM: no placement";
            return;
        }
        std::vector<int> usable;
        for (const affine::Node& n : t.nodes)
            if (t.distance(n.id, n.id) == 10) usable.push_back(n.id);
        bool any_pair = usable.size() == 1;
        for (int a : usable)
            for (int b : usable)
                if (a != b && valid_distance(t.distance(a, b))) any_pair = true;
        if (usable.empty() || !any_pair) {
            disabled_ = true;
            note = "distance matrix unusable: no placement";
            return;
        }
        std::vector<std::vector<int>> sets;
        if (usable.size() <= 16) {
            for (unsigned mask = 1; mask < (1U << usable.size()); ++mask) {
                std::vector<int> s;
                for (std::size_t i = 0; i < usable.size(); ++i)
                    if ((mask >> i) & 1U) s.push_back(usable[i]);
                sets.push_back(std::move(s));
            }
        } else {
            for (int n : usable) sets.push_back({n});
            note = "more than 16 nodes: single-node candidates only";
        }
        for (auto& s : sets) {
            Candidate c;
            bool valid = true;
            double sum = 0;
            for (int a : s)
                for (int b : s) {
                    int d = t.distance(a, b);
                    valid = valid && valid_distance(d);
                    c.max_distance = std::max(c.max_distance, d);
                    sum += d;
                }
            if (!valid) continue;
            c.mean_distance = sum / static_cast<double>(s.size() * s.size());
            for (int n : s) {
                c.cpus += t.node(n)->cpus.count();
                c.cores += static_cast<int>(t.cores_of(n).size());
            }
            c.nodes = std::move(s);
            candidates_.push_back(std::move(c));
        }
        std::ranges::sort(candidates_, [](const Candidate& a, const Candidate& b) {
            return std::tie(a.max_distance, a.mean_distance, a.nodes) < std::tie(b.max_distance, b.mean_distance, b.nodes);
        });
    }

    Decision decide(const HostState& host, const Vm& vm) override {
        if (disabled_) return {};
        const Topology& t = host.topology;
        const Candidate* first = nullptr;
        const Candidate* chosen = nullptr;
        int chosen_usage = 0;
        for (const Candidate& c : candidates_) {
            std::uint64_t free = 0;
            for (int n : c.nodes) free += free_of(t, n);
            if (free < vm.memory_bytes || c.cpus < vm.vcpus || c.cores < vm.vcpus) continue;
            if (first == nullptr) first = &c;
            if (std::abs(c.mean_distance - first->mean_distance) >= 0.001) continue;
            int usage = 0;
            for (int n : c.nodes) usage += usage_[n];
            if (chosen == nullptr || usage < chosen_usage || (usage == chosen_usage && c.nodes < chosen->nodes)) {
                chosen = &c;
                chosen_usage = usage;
            }
        }
        if (chosen == nullptr) return {};
        for (int n : chosen->nodes) usage_[n] += 1;  // never decremented
        if (chosen->nodes.size() > 1) return {};     // multi-node plans are dropped
        if (free_of(t, chosen->nodes[0]) < vm.memory_bytes) return {};  // failed claim
        return {Decision::Kind::placed, node_set(chosen->nodes), {}};
    }

private:
    struct Candidate {
        std::vector<int> nodes;
        int max_distance = 0;
        double mean_distance = 0;
        int cpus = 0;
        int cores = 0;
    };
    std::vector<Candidate> candidates_;
    std::map<int, int> usage_;
    bool disabled_ = false;
};

// libxl (xl) automatic placement.
class Libxl final : public Placer {
public:
    [[nodiscard]] std::string name() const override { return "libxl"; }

    void start(const HostState& host, std::string& note) override {
        std::size_t n = host.topology.nodes.size();
        disabled_ = true;
        domain_vcpus_ = 0;
        if (n == 1) note = "one node: no placement";
        else if (n > 16) note = "more than 16 nodes: no placement";
        else if (!host.reserved.empty()) note = "VMs carry hard CPU lists (host mask): no placement";
        else disabled_ = false;
    }

    Decision decide(const HostState& host, const Vm& vm) override {
        const Topology& t = host.topology;
        // Every domain placed so far has soft affinity only: its hard affinity (all
        // CPUs) touches every node, so each node counts all of their vCPUs.
        long long on_each_node = domain_vcpus_;
        std::uint64_t host_free = 0;
        for (const affine::Node& node : t.nodes) host_free += free_of(t, node.id);
        if (host_free >= vm.memory_bytes) domain_vcpus_ += vm.vcpus;
        if (disabled_) return {};
        std::vector<int> ids;
        for (const affine::Node& node : t.nodes) ids.push_back(node.id);
        const int n = static_cast<int>(ids.size());
        int per_node = t.node(ids[0])->cpus.count();
        bool same = std::ranges::all_of(t.nodes, [&](const affine::Node& node) { return node.cpus.count() == per_node; });
        int min_nodes = same && per_node > 0 ? (vm.vcpus + per_node - 1) / per_node : 1;
        for (int k = std::max(min_nodes, 1); k <= n; ++k) {
            std::vector<int> best;
            std::tuple<long long, long long> best_key{};
            std::vector<int> pick(static_cast<std::size_t>(k));
            std::iota(pick.begin(), pick.end(), 0);
            while (true) {
                std::uint64_t free = 0;
                int cpus = 0;
                std::vector<int> nodes;
                for (int i : pick) {
                    nodes.push_back(ids[static_cast<std::size_t>(i)]);
                    free += free_of(t, nodes.back());
                    cpus += t.node(nodes.back())->cpus.count();
                }
                if (free >= vm.memory_bytes && cpus >= vm.vcpus) {
                    std::tuple<long long, long long> key{on_each_node * k, -static_cast<long long>(free >> 10)};
                    if (best.empty() || key < best_key) {
                        best = nodes;
                        best_key = key;
                    }
                }
                // next k-combination of 0..n-1
                int i = k - 1;
                while (i >= 0 && pick[static_cast<std::size_t>(i)] == n - k + i) --i;
                if (i < 0) break;
                ++pick[static_cast<std::size_t>(i)];
                for (int j = i + 1; j < k; ++j) pick[static_cast<std::size_t>(j)] = pick[static_cast<std::size_t>(j - 1)] + 1;
            }
            if (!best.empty()) return {Decision::Kind::placed, node_set(best), {}};
        }
        return {};
    }

private:
    bool disabled_ = true;
    long long domain_vcpus_ = 0;
};

// numad, applied at start time. Interpretation of the anchor's terms: "free" is what
// is available now (free memory; usable CPUs minus the vCPUs already there), "spare"
// is what is left below the 85 % target utilisation. Reserved CPUs are left out of
// the CPU figures, as numad's -R option does.
class Numad final : public Placer {
public:
    [[nodiscard]] std::string name() const override { return "numad"; }

    void start(const HostState&, std::string&) override {}

    Decision decide(const HostState& host, const Vm& vm) override {
        constexpr double target = 0.85;
        constexpr double mib = 1024.0 * 1024.0;
        const Topology& t = host.topology;
        affine::CpuSet usable = (t.online_cpus() & t.allowed_cpus) - host.reserved;
        struct Facts {
            int id;
            double free_cpu, free_mem, score;
        };
        std::vector<Facts> nodes;
        for (const affine::Node& n : t.nodes) {
            double cpus = (n.cpus & usable).count();
            double load = host.vcpus_per_node.contains(n.id) ? host.vcpus_per_node.at(n.id) : 0;
            double free_cpu = std::max(0.0, cpus - load);
            double spare_cpu = std::max(0.0, target * cpus - load);
            double free_mem = static_cast<double>(free_of(t, n.id)) / mib;
            double spare_mem = std::max(0.0, free_mem - (1 - target) * static_cast<double>(n.memory_total_bytes) / mib);
            nodes.push_back({n.id, free_cpu, free_mem, (10 * free_mem + 4 * spare_mem) * (6 * free_cpu + 1 * spare_cpu)});
        }
        const double cpu_need = vm.vcpus / target;
        const double mem_need = static_cast<double>(vm.memory_bytes) / mib / target;
        double best_sum = -1;
        std::vector<int> best;
        for (const Facts& s : nodes) {
            std::vector<int> from_s;  // distance from s to each node, by position
            for (const Facts& f : nodes) from_s.push_back(t.distance(s.id, f.id));
            std::vector<std::size_t> order(nodes.size());
            std::iota(order.begin(), order.end(), std::size_t{0});
            std::ranges::sort(order, [&](std::size_t a, std::size_t b) {
                if (from_s[a] != from_s[b]) return from_s[a] < from_s[b];
                if (nodes[a].score != nodes[b].score) return nodes[a].score > nodes[b].score;
                return nodes[a].id < nodes[b].id;
            });
            double cpu = 0, mem = 0, sum = 0;
            std::vector<int> taken;
            for (std::size_t i : order) {
                if (cpu >= cpu_need && mem >= mem_need) break;
                double d = from_s[i];
                sum += nodes[i].score / (d * d);
                cpu += nodes[i].free_cpu;
                mem += nodes[i].free_mem;
                taken.push_back(nodes[i].id);
            }
            if (cpu < cpu_need || mem < mem_need) continue;
            if (sum > best_sum) {
                best_sum = sum;
                best = taken;
            }
        }
        if (best.empty()) return {};  // nothing fits: numad gives no advice
        return {Decision::Kind::placed, node_set(best), {}};
    }
};

}  // namespace

std::unique_ptr<Placer> make_xenopsd_placer() { return std::make_unique<Xenopsd>(); }
std::unique_ptr<Placer> make_libxl_placer() { return std::make_unique<Libxl>(); }
std::unique_ptr<Placer> make_numad_placer() { return std::make_unique<Numad>(); }

}  // namespace bench
