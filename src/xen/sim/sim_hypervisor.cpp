#include "sim_hypervisor.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "core/json.hpp"
#include "affine/size.hpp"

namespace affine::xen {
namespace {

using detail::Json;

constexpr std::string_view state_format = "affine-xen-sim 1";

std::unexpected<Error> no_domain(int domid) {
    return failure(fmt::format("domain {} does not exist", domid), ESRCH);
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

Result<std::map<int, std::string>> SimHypervisor::domain_names() {
    std::map<int, std::string> names;
    for (const Domain& d : host_.domains)
        if (!d.name.empty()) names[d.domid] = d.name;
    return names;
}

Result<int> SimHypervisor::create_domain(const NewDomain& domain) {
    if (!domain.name.empty())
        for (const Domain& other : host_.domains)
            if (other.name == domain.name)
                return failure(fmt::format("domain {} is already named \"{}\"", other.domid, domain.name), EEXIST);
    auto domid = xen::create_domain(host_, domain.max_vcpus, domain.allocated_vcpus);
    if (!domid) return domid;
    // A step that fails leaves no half-built domain behind.
    auto undo = [&](Error e) -> Result<int> {
        (void)xen::destroy_domain(host_, *domid);
        return std::unexpected(std::move(e));
    };
    host_.domain(*domid)->name = domain.name;
    if (domain.node_affinity) {
        auto set = xen::set_node_affinity(host_, *domid, *domain.node_affinity);
        if (!set) return undo(set.error());
    }
    for (std::size_t v = 0; v < domain.vcpu_hard.size() && v < domain.vcpu_soft.size(); ++v) {
        auto set = xen::set_vcpu_affinity(host_, *domid, static_cast<int>(v), domain.vcpu_hard[v],
                                          domain.vcpu_soft[v], AffinityFlags::hard | AffinityFlags::soft);
        if (!set) return undo(set.error());
    }
    auto placed = allocate_pages(host_, *domid, domain.memory_bytes / page_bytes);
    if (!placed) return undo(placed.error());
    return domid;
}

Result<void> SimHypervisor::destroy_domain(int domid) { return xen::destroy_domain(host_, domid); }

Result<void> SimHypervisor::set_pool_cpus(const CpuSet& cpus) {
    xen::set_pool_cpus(host_, cpus);
    return {};
}

Result<void> SimHypervisor::set_temporarily_pinned(int domid, int vcpu, bool pinned) {
    Domain* d = host_.domain(domid);
    if (d == nullptr) return no_domain(domid);
    Vcpu* v = d->vcpu(vcpu);
    if (v == nullptr) return failure(fmt::format("domain {} has no vCPU {}", domid, vcpu), ESRCH);
    v->temporarily_pinned = pinned;
    return {};
}

Result<void> SimHypervisor::set_memory_target(int domid, std::uint64_t bytes) {
    const Domain* d = host_.domain(domid);
    if (d == nullptr) return no_domain(domid);
    std::uint64_t pages = 0;
    for (const auto& [node, count] : d->pages_per_node) pages += count;
    const std::uint64_t wanted = bytes / page_bytes;
    if (wanted < pages)
        return failure(fmt::format("domain {}: a target of {} below the {} it holds (ballooning down is not "
                                   "simulated)",
                                   domid, format_size(bytes), format_size(pages * page_bytes)),
                       EINVAL);
    if (wanted == pages) return {};
    auto placed = allocate_pages(host_, domid, wanted - pages);
    if (!placed) return std::unexpected(placed.error());
    return {};
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
        if (!d.name.empty()) domains.back()["name"] = d.name;
    }
    Json out;
    out["format"] = state_format;
    out["host"] = detail::topology_json(host.topology);
    out["pool_cpus"] = detail::ids_json(host.pool_cpus);
    out["domains"] = domains;
    return out.dump(1);
}

Result<XenHost> sim_state_from_json(std::string_view text, const std::string& source) {
    const detail::JsonReader in("sim state " + source);
    Json json = Json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) return in.bad("top level", "not a JSON object");
    auto format = in.string(json, "format", "top level", "");
    if (!format || *format != state_format)
        return in.bad("top level", fmt::format("not a simulated Xen host (expected \"format\": \"{}\"; make one "
                                               "with `affine xen sim-init`)",
                                               state_format));
    if (!json.contains("host")) return in.bad("top level", "missing \"host\"");
    auto topology = detail::topology_from_json_value(json["host"], source);
    if (!topology) return std::unexpected(topology.error());
    XenHost host = make_xen_host(std::move(*topology));
    auto pool = in.id_array<CpuTag>(json, "pool_cpus", "top level");
    if (!pool) return std::unexpected(pool.error());
    host.pool_cpus = *pool;
    auto domains = in.array(json, "domains", "top level");
    if (!domains) return std::unexpected(domains.error());
    for (std::size_t i = 0; i < (*domains)->size(); ++i) {
        const Json& dj = (**domains)[i];
        std::string where = fmt::format("domains[{}]", i);
        Domain d;
        auto domid = in.integer(dj, "domid", where, 0, 0x7fef);
        if (!domid) return std::unexpected(domid.error());
        auto max_vcpus = in.integer(dj, "max_vcpus", where, 1, max_id);
        if (!max_vcpus) return std::unexpected(max_vcpus.error());
        auto vcpus = in.array(dj, "vcpus", where);
        if (!vcpus) return std::unexpected(vcpus.error());
        d.domid = static_cast<int>(*domid);
        d.max_vcpus = static_cast<int>(*max_vcpus);
        for (std::size_t k = 0; k < (*vcpus)->size(); ++k) {
            const Json& vj = (**vcpus)[k];
            std::string vwhere = fmt::format("{}.vcpus[{}]", where, k);
            Vcpu v;
            auto id = in.integer(vj, "id", vwhere, 0, d.max_vcpus - 1);
            if (!id) return std::unexpected(id.error());
            v.id = static_cast<int>(*id);
            auto hard = in.id_array<CpuTag>(vj, "hard", vwhere);
            if (!hard) return std::unexpected(hard.error());
            auto soft = in.id_array<CpuTag>(vj, "soft", vwhere);
            if (!soft) return std::unexpected(soft.error());
            auto pinned = in.boolean(vj, "temporarily_pinned", vwhere, false);
            if (!pinned) return std::unexpected(pinned.error());
            v.hard = *hard;
            v.soft = *soft;
            v.temporarily_pinned = *pinned;
            d.vcpus.push_back(std::move(v));
        }
        std::ranges::sort(d.vcpus, {}, &Vcpu::id);
        auto nodes = in.id_array<NodeTag>(dj, "node_affinity", where);
        if (!nodes) return std::unexpected(nodes.error());
        d.node_affinity = *nodes;
        auto is_auto = in.boolean(dj, "node_affinity_auto", where, true);
        if (!is_auto) return std::unexpected(is_auto.error());
        d.node_affinity_mode = *is_auto ? NodeAffinityMode::automatic : NodeAffinityMode::explicit_nodes;
        if (dj.contains("pages_per_node")) {
            if (!dj["pages_per_node"].is_object()) return in.bad(where + ".pages_per_node", "expected an object");
            for (const auto& [key, value] : dj["pages_per_node"].items()) {
                auto node = in.id_key(key, where + ".pages_per_node");
                if (!node) return std::unexpected(node.error());
                auto pages = in.integer_value(value, where + ".pages_per_node." + key, 0,
                                              std::numeric_limits<std::int64_t>::max() / page_bytes);
                if (!pages) return std::unexpected(pages.error());
                d.pages_per_node[*node] = static_cast<std::uint64_t>(*pages);
            }
        }
        auto last = in.integer_or(dj, "last_alloc_node", where, -1, -1, max_id);
        if (!last) return std::unexpected(last.error());
        d.last_alloc_node = static_cast<int>(*last);
        auto name = in.string(dj, "name", where, "");
        if (!name) return std::unexpected(name.error());
        d.name = *name;
        if (host.domain(d.domid) != nullptr) return in.bad(where, fmt::format("domain {} listed twice", d.domid));
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
    host.domain(0)->name = "Domain-0";
    auto placed = allocate_pages(host, 0, dom0_memory / page_bytes);
    if (!placed) return std::unexpected(placed.error());
    return host;
}

}  // namespace affine::xen
