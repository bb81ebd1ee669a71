#include "sim_hypervisor.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "../core/json.hpp"

namespace affine::xen {
namespace {

using detail::Json;

constexpr std::string_view state_format = "affine-xen-sim 1";

std::unexpected<Error> no_domain(int domid) {
    return failure(fmt::format("domain {} does not exist", domid), ESRCH);
}

template <typename Tag>
Result<IdSet<Tag>> id_set(const Json& obj, const char* key, const std::string& where, const std::string& source) {
    auto bad = [&](const std::string& why) {
        return usage_error(fmt::format("sim state {}: {}.{}: {}", source, where, key, why));
    };
    if (!obj.contains(key)) return bad("missing");
    const Json& v = obj.at(key);
    if (!v.is_array()) return bad("expected an array of integers");
    IdSet<Tag> set;
    for (const Json& id : v) {
        if (!id.is_number_integer() || id.get<int>() < 0 || id.get<int>() > (1 << 20))
            return bad("expected non-negative integers");
        set.insert(id.get<int>());
    }
    return set;
}

}  // namespace

Result<CpuSet> SimHypervisor::pool_cpus(int domid) {
    if (host_.domain(domid) == nullptr) return no_domain(domid);
    return host_.pool_cpus;
}

Result<std::vector<DomainInfo>> SimHypervisor::domains() {
    std::vector<DomainInfo> out;
    for (const Domain& d : host_.domains) {
        // As XEN_DOMCTL_getdomaininfo: max_vcpu_id is that of the allocated vCPUs.
        int limit = d.vcpus.empty() ? 0 : d.vcpus.back().id + 1;
        out.push_back(DomainInfo{d.domid, limit, static_cast<int>(d.vcpus.size()), d.total_pages() * page_bytes});
    }
    return out;
}

Result<NodeSet> SimHypervisor::node_affinity(int domid) {
    const Domain* d = host_.domain(domid);
    if (d == nullptr) return no_domain(domid);
    return d->node_affinity;
}

Result<void> SimHypervisor::set_node_affinity(int domid, const NodeSet& nodes) {
    auto done = xen::set_node_affinity(host_, domid, nodes);
    if (!done) return std::unexpected(done.error());
    return {};
}

std::optional<NodeAffinityMode> SimHypervisor::node_affinity_mode(int domid) {
    const Domain* d = host_.domain(domid);
    if (d == nullptr) return std::nullopt;
    return d->node_affinity_mode;
}

Result<DomainMemory> SimHypervisor::memory_per_node() {
    // As the NUMA dump: every online node listed for every domain, 0 included.
    DomainMemory out;
    for (const Domain& d : host_.domains) {
        auto& nodes = out[d.domid];
        for (int n : host_.online_nodes()) {
            auto it = d.pages_per_node.find(n);
            nodes[n] = it == d.pages_per_node.end() ? 0 : it->second * page_bytes;
        }
    }
    return out;
}

Result<void> SimHypervisor::commit() { return state_.write(sim_state_json(host_) + "\n"); }

std::string sim_state_json(const XenHost& host) {
    Json domains = Json::array();
    for (const Domain& d : host.domains) {
        Json vcpus = Json::array();
        for (const Vcpu& v : d.vcpus)
            vcpus.push_back({{"id", v.id},
                             {"hard", detail::ids_json(v.hard)},
                             {"soft", detail::ids_json(v.soft)},
                             {"temporarily_pinned", v.temporarily_pinned}});
        domains.push_back({{"domid", d.domid},
                           {"max_vcpus", d.max_vcpus},
                           {"vcpus", vcpus},
                           {"node_affinity", detail::ids_json(d.node_affinity)},
                           {"node_affinity_auto", d.node_affinity_mode == NodeAffinityMode::automatic},
                           {"pages_per_node", detail::per_node_json(d.pages_per_node)},
                           {"last_alloc_node", d.last_alloc_node}});
    }
    Json out;
    out["format"] = state_format;
    out["host"] = detail::topology_json(host.topology);
    out["pool_cpus"] = detail::ids_json(host.pool_cpus);
    out["domains"] = domains;
    return out.dump(1);
}

Result<XenHost> sim_state_from_json(std::string_view text, const std::string& source) {
    auto bad = [&](const std::string& why) { return usage_error(fmt::format("sim state {}: {}", source, why)); };
    Json json = Json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) return bad("not a JSON object");
    if (json.value("format", "") != state_format)
        return bad(fmt::format("not a simulated Xen host (expected \"format\": \"{}\"; make one with "
                               "`affine xen sim-init`)",
                               state_format));
    if (!json.contains("host")) return bad("missing \"host\"");
    auto topology = detail::topology_from_json_value(json["host"], source);
    if (!topology) return std::unexpected(topology.error());
    XenHost host = make_xen_host(std::move(*topology));
    auto pool = id_set<CpuTag>(json, "pool_cpus", "top level", source);
    if (!pool) return std::unexpected(pool.error());
    host.pool_cpus = *pool;
    if (!json.contains("domains") || !json["domains"].is_array()) return bad("missing array \"domains\"");
    for (std::size_t i = 0; i < json["domains"].size(); ++i) {
        const Json& dj = json["domains"][i];
        std::string where = fmt::format("domains[{}]", i);
        if (!dj.is_object() || !dj.contains("domid") || !dj["domid"].is_number_integer() ||
            !dj.contains("max_vcpus") || !dj["max_vcpus"].is_number_integer() || !dj.contains("vcpus") ||
            !dj["vcpus"].is_array())
            return bad(where + ": needs integer domid, max_vcpus and an array vcpus");
        Domain d;
        d.domid = dj["domid"].get<int>();
        d.max_vcpus = dj["max_vcpus"].get<int>();
        for (std::size_t k = 0; k < dj["vcpus"].size(); ++k) {
            const Json& vj = dj["vcpus"][k];
            std::string vwhere = fmt::format("{}.vcpus[{}]", where, k);
            if (!vj.is_object() || !vj.contains("id") || !vj["id"].is_number_integer())
                return bad(vwhere + ": needs an integer id");
            Vcpu v;
            v.id = vj["id"].get<int>();
            if (v.id < 0 || v.id >= d.max_vcpus) return bad(vwhere + ": id not below max_vcpus");
            auto hard = id_set<CpuTag>(vj, "hard", vwhere, source);
            if (!hard) return std::unexpected(hard.error());
            auto soft = id_set<CpuTag>(vj, "soft", vwhere, source);
            if (!soft) return std::unexpected(soft.error());
            v.hard = *hard;
            v.soft = *soft;
            v.temporarily_pinned = vj.value("temporarily_pinned", false);
            d.vcpus.push_back(std::move(v));
        }
        std::ranges::sort(d.vcpus, {}, &Vcpu::id);
        auto nodes = id_set<NodeTag>(dj, "node_affinity", where, source);
        if (!nodes) return std::unexpected(nodes.error());
        d.node_affinity = *nodes;
        d.node_affinity_mode = dj.value("node_affinity_auto", true) ? NodeAffinityMode::automatic
                                                                     : NodeAffinityMode::explicit_nodes;
        if (dj.contains("pages_per_node") && dj["pages_per_node"].is_object()) {
            for (const auto& [key, value] : dj["pages_per_node"].items()) {
                if (!value.is_number_unsigned() && !value.is_number_integer())
                    return bad(where + ".pages_per_node: expected integers");
                d.pages_per_node[std::stoi(key)] = value.get<std::uint64_t>();
            }
        }
        d.last_alloc_node = dj.value("last_alloc_node", -1);
        if (host.domain(d.domid) != nullptr) return bad(fmt::format("domain {} listed twice", d.domid));
        host.domains.push_back(std::move(d));
    }
    std::ranges::sort(host.domains, {}, &Domain::domid);
    return host;
}

Result<void> write_sim_state(const XenHost& host, const std::string& path) {
    auto state = StateFile::lock(path, LockWait::wait);
    if (!state) return std::unexpected(state.error());
    return state->write(sim_state_json(host) + "\n");
}

Result<std::unique_ptr<Hypervisor>> open_sim_hypervisor(const std::string& path) {
    auto make_first = [&](const std::string& why) {
        return usage_error(fmt::format("--host sim:{}: {} (make the state file first: "
                                       "affine xen sim-init {} --from SPEC)",
                                       path, why, path));
    };
    auto state = StateFile::lock(path, LockWait::wait);
    if (!state && state.error().code == ENOENT) return make_first(std::strerror(ENOENT));
    if (!state) return std::unexpected(state.error());
    auto text = state->read();
    if (!text) return std::unexpected(text.error());
    if (!*text) return make_first(std::strerror(ENOENT));
    auto host = sim_state_from_json(**text, path);
    if (!host) return std::unexpected(host.error());
    return std::make_unique<SimHypervisor>(std::move(*host), std::move(*state));
}

Result<XenHost> initial_sim_host(Topology topology, int dom0_vcpus, std::uint64_t dom0_memory) {
    XenHost host = make_xen_host(std::move(topology));
    auto dom0 = create_domain(host, dom0_vcpus, dom0_vcpus, 0);
    if (!dom0) return std::unexpected(dom0.error());
    auto placed = allocate_pages(host, 0, dom0_memory / page_bytes);
    if (!placed) return std::unexpected(placed.error());
    return host;
}

}  // namespace affine::xen
