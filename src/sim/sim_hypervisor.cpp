#include "sim_hypervisor.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

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
        if (!id.is_number_integer() || !valid_id(id.get<std::int64_t>()))
            return bad(fmt::format("expected ids from 0 to {}", max_id));
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

Result<void> SimHypervisor::commit() { return write_sim_state(host_, path_); }

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
    auto bad = [&](const std::string& why) { return usage_error(fmt::format("sim state {}: {}", source, why)); };
    // An optional boolean: `fallback` when absent, an error when of another type.
    auto flag = [&](const Json& obj, const char* key, bool fallback, const std::string& where) -> Result<bool> {
        if (!obj.contains(key)) return fallback;
        if (!obj[key].is_boolean()) return bad(fmt::format("{}.{}: expected true or false", where, key));
        return obj[key].get<bool>();
    };
    Json json = Json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) return bad("not a JSON object");
    if (!json.contains("format") || json["format"] != state_format)
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
        if (!valid_id(dj["domid"].get<std::int64_t>()) || !valid_id(dj["max_vcpus"].get<std::int64_t>()))
            return bad(where + ": domid and max_vcpus must be from 0 to " + std::to_string(max_id));
        d.domid = dj["domid"].get<int>();
        d.max_vcpus = dj["max_vcpus"].get<int>();
        for (std::size_t k = 0; k < dj["vcpus"].size(); ++k) {
            const Json& vj = dj["vcpus"][k];
            std::string vwhere = fmt::format("{}.vcpus[{}]", where, k);
            if (!vj.is_object() || !vj.contains("id") || !vj["id"].is_number_integer())
                return bad(vwhere + ": needs an integer id");
            Vcpu v;
            if (vj["id"].get<std::int64_t>() < 0 || vj["id"].get<std::int64_t>() >= d.max_vcpus)
                return bad(vwhere + ": id not below max_vcpus");
            v.id = vj["id"].get<int>();
            auto hard = id_set<CpuTag>(vj, "hard", vwhere, source);
            if (!hard) return std::unexpected(hard.error());
            auto soft = id_set<CpuTag>(vj, "soft", vwhere, source);
            if (!soft) return std::unexpected(soft.error());
            v.hard = *hard;
            v.soft = *soft;
            auto pinned = flag(vj, "temporarily_pinned", false, vwhere);
            if (!pinned) return std::unexpected(pinned.error());
            v.temporarily_pinned = *pinned;
            d.vcpus.push_back(std::move(v));
        }
        std::ranges::sort(d.vcpus, {}, &Vcpu::id);
        auto nodes = id_set<NodeTag>(dj, "node_affinity", where, source);
        if (!nodes) return std::unexpected(nodes.error());
        d.node_affinity = *nodes;
        auto automatic = flag(dj, "node_affinity_auto", true, where);
        if (!automatic) return std::unexpected(automatic.error());
        d.node_affinity_mode = *automatic ? NodeAffinityMode::automatic : NodeAffinityMode::explicit_nodes;
        if (dj.contains("pages_per_node") && dj["pages_per_node"].is_object()) {
            for (const auto& [key, value] : dj["pages_per_node"].items()) {
                int node = -1;
                auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), node);
                if (ec != std::errc{} || end != key.data() + key.size() || !valid_id(node))
                    return bad(fmt::format("{}.pages_per_node: key \"{}\" is not a node id", where, key));
                if (!value.is_number_unsigned())
                    return bad(where + ".pages_per_node: expected non-negative integers");
                d.pages_per_node[node] = value.get<std::uint64_t>();
            }
        }
        d.last_alloc_node = -1;
        if (dj.contains("last_alloc_node")) {
            const Json& last = dj["last_alloc_node"];
            if (!last.is_number_integer() || (last.get<std::int64_t>() != -1 && !valid_id(last.get<std::int64_t>())))
                return bad(where + ".last_alloc_node: expected a node id or -1");
            d.last_alloc_node = last.get<int>();
        }
        if (dj.contains("name") && !dj["name"].is_string()) return bad(where + ".name: expected a string");
        d.name = dj.value("name", "");
        if (host.domain(d.domid) != nullptr) return bad(fmt::format("domain {} listed twice", d.domid));
        host.domains.push_back(std::move(d));
    }
    std::ranges::sort(host.domains, {}, &Domain::domid);
    return host;
}

Result<void> write_sim_state(const XenHost& host, const std::string& path) {
    std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) return failure(fmt::format("write {}: {}", tmp, std::strerror(errno)), errno);
        out << sim_state_json(host) << '\n';
        if (!out.flush()) return failure(fmt::format("write {}: {}", tmp, std::strerror(errno)), errno);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        int code = errno;
        std::remove(tmp.c_str());
        return failure(fmt::format("rename {} to {}: {}", tmp, path, std::strerror(code)), code);
    }
    return {};
}

Result<std::unique_ptr<Hypervisor>> open_sim_hypervisor(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        return usage_error(fmt::format("--host sim:{}: {} (make the state file first: "
                                       "affine xen sim-init {} --from SPEC)",
                                       path, std::strerror(errno), path));
    std::stringstream text;
    text << in.rdbuf();
    auto host = sim_state_from_json(text.str(), path);
    if (!host) return std::unexpected(host.error());
    return std::make_unique<SimHypervisor>(std::move(*host), path);
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
