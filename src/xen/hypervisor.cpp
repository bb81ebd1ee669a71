#include "hypervisor.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>

#include "../sim/sim_hypervisor.hpp"

namespace affine::xen {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// Drops the console prefixes Xen may put before a message: "(XEN) " and a
// "[timestamp] " when console_timestamps is on.
std::string_view message_of(std::string_view line) {
    line = trim(line);
    if (line.starts_with("(XEN)")) line = trim(line.substr(5));
    if (line.starts_with("[")) {
        auto close = line.find(']');
        if (close != std::string_view::npos) line = trim(line.substr(close + 1));
    }
    return line;
}

bool parse_number(std::string_view text, std::uint64_t& out) {
    text = trim(text);
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && ptr == text.data() + text.size();
}

}  // namespace

DomainMemory parse_numa_dump(std::string_view console) {
    DomainMemory last;     // the most recent complete dump
    DomainMemory current;  // the dump being read
    bool in_dump = false;
    int domid = -1;
    std::size_t pos = 0;
    while (pos < console.size()) {
        auto end = console.find('\n', pos);
        if (end == std::string_view::npos) end = console.size();
        std::string_view line = message_of(console.substr(pos, end - pos));
        pos = end + 1;
        if (line == "Memory location of each domain:") {
            if (in_dump) last = std::move(current);
            current.clear();
            in_dump = true;
            domid = -1;
            continue;
        }
        if (!in_dump) continue;
        // "Domain 1 (total: 32768):" (Xen 4.17) or "d1 (total: 32768):" (later).
        std::string_view rest;
        if (line.starts_with("Domain ")) rest = line.substr(7);
        else if (line.starts_with("d") && line.size() > 1 && line[1] >= '0' && line[1] <= '9') rest = line.substr(1);
        auto total = line.find(" (total: ");
        std::uint64_t value = 0;
        if (!rest.empty() && total != std::string_view::npos && line.ends_with("):")) {
            if (parse_number(rest.substr(0, rest.find(' ')), value)) {
                domid = static_cast<int>(value);
                current[domid];
                continue;
            }
        }
        if (line.starts_with("Node ") && domid >= 0) {
            auto colon = line.find(':');
            std::uint64_t node = 0;
            if (colon != std::string_view::npos && parse_number(line.substr(5, colon - 5), node) &&
                parse_number(line.substr(colon + 1), value)) {
                current[domid][static_cast<int>(node)] = value * page_bytes;
                continue;
            }
        }
        // Any other line ends the block (the next key's output, or a log message).
        last = std::move(current);
        current.clear();
        in_dump = false;
        domid = -1;
    }
    if (in_dump) last = std::move(current);
    return last;
}

Result<std::unique_ptr<Hypervisor>> open_hypervisor(std::string_view spec) {
    if (spec.empty() || spec == "xen") return open_xenctrl();
    if (spec.starts_with("sim:")) return open_sim_hypervisor(std::string(spec.substr(4)));
    return usage_error(fmt::format("--host {}: expected xen (this host's hypervisor) or sim:STATEFILE "
                                   "(a simulated host made by `affine xen sim-init`)",
                                   spec));
}

Result<XenHost> snapshot(Hypervisor& hv) {
    auto topology = hv.topology();
    if (!topology) return std::unexpected(topology.error());
    XenHost host = make_xen_host(std::move(*topology));
    auto pool = hv.pool_cpus(0);
    if (!pool) return std::unexpected(pool.error());
    host.pool_cpus = *pool;
    auto infos = hv.domains();
    if (!infos) return std::unexpected(infos.error());
    for (const DomainInfo& info : *infos) {
        Domain d;
        d.domid = info.domid;
        d.max_vcpus = info.vcpu_id_limit;
        for (int v = 0; v < info.vcpu_id_limit; ++v) {
            auto vcpu = hv.vcpu_affinity(info.domid, v);
            if (!vcpu && vcpu.error().code == ESRCH) continue;  // not allocated
            if (!vcpu) return std::unexpected(vcpu.error());
            d.vcpus.push_back(*vcpu);
        }
        auto nodes = hv.node_affinity(info.domid);
        if (!nodes) return std::unexpected(nodes.error());
        d.node_affinity = *nodes;
        host.domains.push_back(std::move(d));
    }
    for (Domain& d : host.domains) d.node_affinity_mode = node_affinity_mode(hv, host, d);
    return host;
}

VcpuBatch set_vcpus_affinity(Hypervisor& hv, const Domain& before, const std::vector<int>& vcpus, const CpuSet& hard,
                             const CpuSet& soft, AffinityFlags flags) {
    VcpuBatch batch;
    for (int v : vcpus) {
        auto r = hv.set_vcpu_affinity(before.domid, v, hard, soft, flags);
        if (r) {
            batch.changed.push_back({v, *r});
            continue;
        }
        batch.refused_vcpu = v;
        batch.error = r.error();
        CpuSet changed;
        for (const VcpuBatch::Changed& c : batch.changed) changed.insert(c.vcpu);
        restore_vcpus(hv, before, changed, batch);
        break;
    }
    return batch;
}

void restore_vcpus(Hypervisor& hv, const Domain& before, const CpuSet& vcpus, VcpuBatch& batch) {
    for (int v : vcpus) {
        const Vcpu* old = before.vcpu(v);
        bool back = old != nullptr &&
                    hv.set_vcpu_affinity(before.domid, v, old->hard, old->soft,
                                         AffinityFlags::hard | AffinityFlags::soft | AffinityFlags::force)
                        .has_value();
        (back ? batch.restored : batch.not_restored).insert(v);
    }
}

NodeAffinityMode node_affinity_mode(Hypervisor& hv, const XenHost& host, const Domain& domain) {
    if (auto known = hv.node_affinity_mode(domain.domid)) return *known;
    // A domain without vCPUs keeps the all-nodes map it was created with in auto mode.
    NodeSet automatic = auto_node_affinity(host, domain, every_node());
    return domain.node_affinity == automatic ? NodeAffinityMode::automatic : NodeAffinityMode::explicit_nodes;
}

}  // namespace affine::xen
