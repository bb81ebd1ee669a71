// Discovery of a Linux host's topology from sysfs and procfs.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "core/integer.hpp"
#include "sysfs.hpp"
#include "sysfs_memory_tiers.hpp"
#include "sysfs_topology.hpp"

namespace affine {
namespace {

using linux_backend::SysFs;
using linux_backend::meminfo_bytes;
using linux_backend::status_field;

std::optional<int> to_int(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    return detail::parse_integer<int>(text);
}

Result<CpuSet> read_list(const SysFs& fs, const std::string& path) {
    auto text = fs.read(path);
    if (!text) return failure(fmt::format("cannot read {}{}", fs.root() == "/" ? "" : fs.root(), path));
    auto set = parse_id_list(*text);
    if (!set) return failure(fmt::format("cannot parse {}: {}", path, set.error().message));
    return set;
}

struct CpuFacts {
    std::optional<int> package;
    std::optional<int> die;
    std::optional<int> core_key;  // lowest CPU of the CPUs sharing this one's core
    std::optional<int> l3_key;    // lowest CPU of the CPUs sharing this one's L3 cache
};

// What a CPU's siblings have already told: the CPUs of a core share its package, die
// and core, and the CPUs of an L3 share that L3 (the kernel's sibling lists are
// symmetric). Each core's files and each L3's are then read once, not once per CPU: a
// 256-CPU host with SMT and 16 L3 caches takes a fifth of the reads.
struct KnownSiblings {
    std::map<int, CpuFacts> core;  // a CPU -> its core's facts, read from a sibling
    std::map<int, int> l3;         // a CPU -> its L3's key, read from a CPU sharing it
};

CpuFacts read_cpu_facts(const SysFs& fs, int cpu, KnownSiblings& known) {
    CpuFacts facts;
    if (auto it = known.core.find(cpu); it != known.core.end()) {
        facts = it->second;
    } else {
        std::string dir = fmt::format("/sys/devices/system/cpu/cpu{}/topology/", cpu);
        if (auto v = fs.read(dir + "physical_package_id")) facts.package = to_int(*v);
        if (auto v = fs.read(dir + "die_id")) facts.die = to_int(*v);
        for (const char* name : {"core_cpus_list", "thread_siblings_list"}) {
            auto v = fs.read(dir + name);
            auto set = v ? parse_id_list(*v) : Result<CpuSet>(CpuSet{});
            if (!set || !set->contains(cpu)) continue;
            facts.core_key = *set->first();
            for (int sibling : set->ids()) known.core.emplace(sibling, facts);
            break;
        }
    }
    if (auto it = known.l3.find(cpu); it != known.l3.end()) {
        facts.l3_key = it->second;
        return facts;
    }
    // cache/indexN: the level-3 cache (unified) and the CPUs that share it, as hwloc reads it.
    std::string caches = fmt::format("/sys/devices/system/cpu/cpu{}/cache", cpu);
    for (const auto& index : fs.list(caches)) {
        if (!index.starts_with("index")) continue;
        auto level = fs.read(caches + "/" + index + "/level");
        if (!level || to_int(*level) != 3) continue;
        auto shared = fs.read(caches + "/" + index + "/shared_cpu_list");
        auto set = shared ? parse_id_list(*shared) : Result<CpuSet>(CpuSet{});
        if (!set || !set->contains(cpu)) continue;
        facts.l3_key = *set->first();
        for (int sharer : set->ids()) known.l3.emplace(sharer, *facts.l3_key);
    }
    return facts;
}

}  // namespace

Result<Topology> read_linux_topology(const std::string& root) { return linux_backend::read_topology(SysFs(root)); }

Result<Topology> linux_backend::read_topology(const SysFs& fs) {
    Topology t;
    t.source = fs.root() == "/" ? "live" : fs.root();

    auto present = read_list(fs, "/sys/devices/system/cpu/present");
    if (!present) present = read_list(fs, "/sys/devices/system/cpu/possible");
    if (!present) return std::unexpected(present.error());
    auto online = read_list(fs, "/sys/devices/system/cpu/online");
    if (!online) return std::unexpected(online.error());

    // Cores: each distinct set of SMT siblings is one core, numbered by lowest CPU.
    std::map<int, CpuFacts> facts;
    // L3 caches the same way: each distinct set of sharing CPUs is one.
    std::map<int, int> core_number, l3_number;
    KnownSiblings known;
    for (int id : *present) {
        facts[id] = online->contains(id) ? read_cpu_facts(fs, id, known) : CpuFacts{};
        if (facts[id].core_key) core_number.emplace(*facts[id].core_key, 0);
        if (facts[id].l3_key) l3_number.emplace(*facts[id].l3_key, 0);
    }
    for (auto* numbers : {&core_number, &l3_number}) {
        int next = 0;
        for (auto& [key, number] : *numbers) number = next++;
    }

    std::map<int, int> node_of_cpu;
    auto node_online = read_list(fs, "/sys/devices/system/node/online");
    if (node_online && !node_online->empty()) {
        std::vector<int> node_ids = node_online->ids();
        for (int id : node_ids) {
            Node node;
            node.id = id;
            std::string dir = fmt::format("/sys/devices/system/node/node{}/", id);
            if (auto cpus = read_list(fs, dir + "cpulist")) node.cpus = *cpus & *present;
            if (auto meminfo = fs.read(dir + "meminfo")) {
                node.memory_total_bytes = meminfo_bytes(*meminfo, "MemTotal:").value_or(0);
                node.memory_free_bytes = meminfo_bytes(*meminfo, "MemFree:").value_or(0);
            }
            // The kernel prints one distance per online node, in node id order.
            if (auto line = fs.read_line(dir + "distance")) {
                std::istringstream in(*line);
                int d = 0;
                for (std::size_t i = 0; in >> d && i < node_ids.size(); ++i) node.distances[node_ids[i]] = d;
            }
            for (int cpu : node.cpus) node_of_cpu[cpu] = id;
            t.nodes.push_back(std::move(node));
        }
    } else {
        // A kernel without NUMA support: one node holding everything.
        Node node;
        node.cpus = *present;
        if (auto meminfo = fs.read("/proc/meminfo")) {
            node.memory_total_bytes = meminfo_bytes(*meminfo, "MemTotal:").value_or(0);
            node.memory_free_bytes = meminfo_bytes(*meminfo, "MemFree:").value_or(0);
        }
        node.distances[0] = 10;
        for (int cpu : node.cpus) node_of_cpu[cpu] = 0;
        t.nodes.push_back(std::move(node));
    }

    // x86 takes an offline CPU out of its node's cpulist but keeps the cpuN/nodeM link.
    for (int id : *present) {
        if (node_of_cpu.contains(id)) continue;
        for (const auto& name : fs.list(fmt::format("/sys/devices/system/cpu/cpu{}", id))) {
            if (name.starts_with("node")) {
                if (auto n = to_int(std::string_view(name).substr(4)); n && t.node(*n) != nullptr) {
                    node_of_cpu[id] = *n;
                    auto it = std::ranges::find(t.nodes, *n, &Node::id);
                    it->cpus.insert(id);
                }
            }
        }
        if (!node_of_cpu.contains(id) && t.nodes.size() == 1) {
            node_of_cpu[id] = t.nodes.front().id;
            t.nodes.front().cpus.insert(id);
        }
    }

    for (int id : *present) {
        const CpuFacts& f = facts[id];
        t.cpus.push_back(Cpu{.id = id,
                             .online = online->contains(id),
                             .core = f.core_key ? core_number[*f.core_key] : -1,
                             .package = f.package.value_or(-1),
                             .die = f.die,
                             .node = node_of_cpu.contains(id) ? node_of_cpu[id] : -1,
                             .l3 = f.l3_key ? std::optional(l3_number[*f.l3_key]) : std::nullopt});
    }

    t.allowed_cpus = *online;
    t.allowed_nodes = t.all_nodes();
    if (auto status = fs.read("/proc/self/status")) {
        if (auto v = status_field(*status, "Cpus_allowed_list"))
            if (auto s = parse_id_list(*v)) t.allowed_cpus = *s;
        if (auto v = status_field(*status, "Mems_allowed_list"))
            if (auto s = parse_id_list(*v)) t.allowed_nodes = NodeSet::from_words(s->words());
    }
    linux_backend::read_memory_tiers(fs, t);
    if (auto v = fs.read("/proc/sys/kernel/numa_balancing")) {
        if (auto n = to_int(*v)) t.numa_balancing = *n != 0;
    }
    return checked_topology(std::move(t), fs.root() == "/" ? "sysfs" : fmt::format("sysfs under {}", fs.root()),
                            ErrorKind::failed);
}

}  // namespace affine
