#include "hwloc_import.hpp"

#include <fmt/format.h>

#include <dlfcn.h>

#include <algorithm>
#include <memory>

#include "affine/host.hpp"
#include "affine/size.hpp"

namespace affine {
namespace detail {
namespace {

// libhwloc is loaded when a host is described for hwloc, not at every start: its
// dependencies (libudev among them) cost a third of `affine topo`'s run time, for
// a feature most runs do not use. Only the functions used here are looked up; the
// header's inline helpers are re-done over them below.
struct HwlocLibrary {
    decltype(&::hwloc_topology_init) topology_init = nullptr;
    decltype(&::hwloc_topology_destroy) topology_destroy = nullptr;
    decltype(&::hwloc_topology_set_xml) topology_set_xml = nullptr;
    decltype(&::hwloc_topology_set_synthetic) topology_set_synthetic = nullptr;
    decltype(&::hwloc_topology_load) topology_load = nullptr;
    decltype(&::hwloc_get_type_depth) get_type_depth = nullptr;
    decltype(&::hwloc_get_nbobjs_by_depth) get_nbobjs_by_depth = nullptr;
    decltype(&::hwloc_get_obj_by_depth) get_obj_by_depth = nullptr;
    decltype(&::hwloc_bitmap_first) bitmap_first = nullptr;
    decltype(&::hwloc_bitmap_next) bitmap_next = nullptr;
    decltype(&::hwloc_bitmap_last) bitmap_last = nullptr;
    decltype(&::hwloc_topology_get_complete_cpuset) get_complete_cpuset = nullptr;
    decltype(&::hwloc_topology_get_allowed_cpuset) get_allowed_cpuset = nullptr;
    decltype(&::hwloc_topology_get_allowed_nodeset) get_allowed_nodeset = nullptr;
    decltype(&::hwloc_distances_get_by_type) distances_get_by_type = nullptr;
    decltype(&::hwloc_distances_release) distances_release = nullptr;
    decltype(&::hwloc_topology_set_type_filter) set_type_filter = nullptr;
    // hwloc 2.3 and later (memory attributes); nullptr before, and then no access figures.
    decltype(&::hwloc_memattr_get_initiators) memattr_get_initiators = nullptr;
};

const HwlocLibrary* hwloc_library() {
    static const HwlocLibrary* loaded = [] () -> const HwlocLibrary* {
        void* handle = nullptr;
        for (const char* name : {"libhwloc.so.15", "libhwloc.so"})
            if ((handle = ::dlopen(name, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
        if (handle == nullptr) return nullptr;
        static HwlocLibrary lib;
        bool complete = true;
        auto bind = [&](auto& fn, const char* symbol) {
            fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(handle, symbol));
            complete = complete && fn != nullptr;
        };
        bind(lib.topology_init, "hwloc_topology_init");
        bind(lib.topology_destroy, "hwloc_topology_destroy");
        bind(lib.topology_set_xml, "hwloc_topology_set_xml");
        bind(lib.topology_set_synthetic, "hwloc_topology_set_synthetic");
        bind(lib.topology_load, "hwloc_topology_load");
        bind(lib.get_type_depth, "hwloc_get_type_depth");
        bind(lib.get_nbobjs_by_depth, "hwloc_get_nbobjs_by_depth");
        bind(lib.get_obj_by_depth, "hwloc_get_obj_by_depth");
        bind(lib.bitmap_first, "hwloc_bitmap_first");
        bind(lib.bitmap_next, "hwloc_bitmap_next");
        bind(lib.bitmap_last, "hwloc_bitmap_last");
        bind(lib.get_complete_cpuset, "hwloc_topology_get_complete_cpuset");
        bind(lib.get_allowed_cpuset, "hwloc_topology_get_allowed_cpuset");
        bind(lib.get_allowed_nodeset, "hwloc_topology_get_allowed_nodeset");
        bind(lib.distances_get_by_type, "hwloc_distances_get_by_type");
        bind(lib.distances_release, "hwloc_distances_release");
        bind(lib.set_type_filter, "hwloc_topology_set_type_filter");
        if (!complete) return nullptr;
        lib.memattr_get_initiators =
            reinterpret_cast<decltype(lib.memattr_get_initiators)>(::dlsym(handle, "hwloc_memattr_get_initiators"));
        return &lib;
    }();
    return loaded;
}

// The header's inline hwloc_get_nbobjs_by_type and hwloc_get_obj_by_type.
int count_of(const HwlocLibrary& lib, hwloc_topology_t topo, hwloc_obj_type_t type) {
    int depth = lib.get_type_depth(topo, type);
    if (depth == HWLOC_TYPE_DEPTH_UNKNOWN || depth == HWLOC_TYPE_DEPTH_MULTIPLE) return 0;
    return static_cast<int>(lib.get_nbobjs_by_depth(topo, depth));
}
hwloc_obj_t object_of(const HwlocLibrary& lib, hwloc_topology_t topo, hwloc_obj_type_t type, int index) {
    return lib.get_obj_by_depth(topo, lib.get_type_depth(topo, type), static_cast<unsigned>(index));
}
hwloc_obj_t ancestor_of(hwloc_obj_t obj, hwloc_obj_type_t type) {
    for (hwloc_obj_t a = obj->parent; a != nullptr; a = a->parent)
        if (a->type == type) return a;
    return nullptr;
}

int os_or_logical(hwloc_obj_t obj) {
    return obj->os_index == HWLOC_UNKNOWN_INDEX ? static_cast<int>(obj->logical_index)
                                                : static_cast<int>(obj->os_index);
}

// The node a PU belongs to as Linux reports it: hwloc attaches memory to the
// nearest ancestor; a memory-only node (CXL, HBM, a CPU-less NUMA node) sits beside
// the PU's own node under the same parent, after it, so the first one is the PU's.
int local_node_of(hwloc_obj_t pu) {
    for (hwloc_obj_t obj = pu; obj != nullptr; obj = obj->parent) {
        for (hwloc_obj_t mem = obj->memory_first_child; mem != nullptr; mem = mem->next_sibling) {
            hwloc_obj_t node = mem;
            while (node != nullptr && node->type != HWLOC_OBJ_NUMANODE) node = node->memory_first_child;
            if (node != nullptr) return static_cast<int>(node->os_index);
        }
    }
    return -1;
}

// An id beyond affine's range ends the set here; checked_topology refuses the
// object that carries it, and the set's last id says which one.
CpuSet cpuset_of(const HwlocLibrary& lib, hwloc_const_bitmap_t bitmap) {
    CpuSet set;
    if (bitmap == nullptr) return set;
    for (int id = lib.bitmap_first(bitmap); id != -1; id = lib.bitmap_next(bitmap, id)) {
        if (!valid_id(id)) break;
        set.insert(id);
    }
    return set;
}

// hwloc's memory attributes of one target node, one entry per initiator.
std::vector<MemoryAttributeValues> memattrs_of(const HwlocLibrary& lib, hwloc_topology_t topo, hwloc_obj_t target) {
    std::vector<MemoryAttributeValues> found;
    if (lib.memattr_get_initiators == nullptr) return found;
    using Field = std::optional<std::uint64_t> MemoryAttributeValues::*;
    const std::pair<hwloc_memattr_id_t, Field> attributes[] = {
        {HWLOC_MEMATTR_ID_READ_BANDWIDTH, &MemoryAttributeValues::read_bandwidth_mbps},
        {HWLOC_MEMATTR_ID_WRITE_BANDWIDTH, &MemoryAttributeValues::write_bandwidth_mbps},
        {HWLOC_MEMATTR_ID_BANDWIDTH, &MemoryAttributeValues::bandwidth_mbps},
        {HWLOC_MEMATTR_ID_READ_LATENCY, &MemoryAttributeValues::read_latency_ns},
        {HWLOC_MEMATTR_ID_WRITE_LATENCY, &MemoryAttributeValues::write_latency_ns},
        {HWLOC_MEMATTR_ID_LATENCY, &MemoryAttributeValues::latency_ns}};
    for (auto [id, field] : attributes) {
        unsigned count = 0;
        if (lib.memattr_get_initiators(topo, id, target, 0, &count, nullptr, nullptr) != 0 || count == 0) continue;
        std::vector<hwloc_location> where(count);
        std::vector<hwloc_uint64_t> values(count);
        if (lib.memattr_get_initiators(topo, id, target, 0, &count, where.data(), values.data()) != 0) continue;
        count = std::min(count, static_cast<unsigned>(where.size()));
        for (unsigned i = 0; i < count; ++i) {
            // An initiator given as an object (hwloc's users may name a GPU so) counts by its CPUs.
            hwloc_const_bitmap_t bitmap = where[i].type == HWLOC_LOCATION_TYPE_CPUSET ? where[i].location.cpuset
                                          : where[i].type == HWLOC_LOCATION_TYPE_OBJECT
                                              ? where[i].location.object->cpuset
                                              : nullptr;
            CpuSet cpus = cpuset_of(lib, bitmap);
            if (cpus.empty() || values[i] == 0) continue;  // 0: no figure, as the kernel shows it
            auto entry = std::ranges::find(found, cpus, &MemoryAttributeValues::initiator_cpus);
            if (entry == found.end()) entry = found.insert(found.end(), MemoryAttributeValues{.initiator_cpus = cpus});
            (*entry).*field = values[i];
        }
    }
    return found;
}

// The caches hwloc puts between a node and its parent (MemCache objects), nearest first.
std::vector<MemorySideCache> memory_side_caches_of(hwloc_obj_t node) {
    std::vector<MemorySideCache> caches;
    for (hwloc_obj_t up = node->parent; up != nullptr && up->type == HWLOC_OBJ_MEMCACHE; up = up->parent) {
        const auto& c = up->attr->cache;
        if (c.depth < 1 || !valid_id(static_cast<int>(c.depth))) continue;
        // hwloc keeps of the kernel's indexing only "direct-mapped" (associativity 1)
        // and no write policy.
        caches.push_back(MemorySideCache{.level = static_cast<int>(c.depth),
                                         .size_bytes = c.size,
                                         .line_bytes = c.linesize,
                                         .indexing = c.associativity == 1 ? CacheIndexing::direct_mapped
                                                                          : CacheIndexing::unknown,
                                         .write_policy = CacheWritePolicy::unknown});
    }
    std::ranges::sort(caches, {}, &MemorySideCache::level);
    return caches;
}

}  // namespace

std::optional<MemoryAccess> access_from_memattrs(const Topology& t, std::span<const MemoryAttributeValues> values) {
    std::optional<MemoryAccess> best;
    for (const MemoryAttributeValues& v : values) {
        // The initiator must be whole nodes with CPUs, as Linux's access classes name them.
        NodeSet initiators;
        CpuSet covered;
        for (const Node& n : t.nodes) {
            CpuSet online = n.cpus & v.initiator_cpus;
            if (!online.empty() && online == (n.cpus & t.online_cpus())) {
                initiators.insert(n.id);
                covered |= online;
            }
        }
        if (initiators.empty() || covered != v.initiator_cpus) continue;
        MemoryAccess a{.access_class = 1, .initiators = initiators};
        a.read_bandwidth_mbps = v.read_bandwidth_mbps;
        a.write_bandwidth_mbps = v.write_bandwidth_mbps;
        a.read_latency_ns = v.read_latency_ns;
        a.write_latency_ns = v.write_latency_ns;
        // Only the mean is given: the platform's one figure for both directions (ACPI
        // HMAT's "access" figures, which Linux shows as read and write alike).
        if (!a.read_bandwidth_mbps && !a.write_bandwidth_mbps)
            a.read_bandwidth_mbps = a.write_bandwidth_mbps = v.bandwidth_mbps;
        if (!a.read_latency_ns && !a.write_latency_ns) a.read_latency_ns = a.write_latency_ns = v.latency_ns;
        if (!a.read_bandwidth_mbps && !a.write_bandwidth_mbps && !a.read_latency_ns && !a.write_latency_ns) continue;
        // Class 1 holds the nearest initiator: the lowest read latency, then the highest
        // read bandwidth, then the first listed.
        auto key = [](const MemoryAccess& m) {
            return std::pair(m.read_latency_ns.value_or(UINT64_MAX),
                             UINT64_MAX - m.read_bandwidth_mbps.value_or(0));
        };
        if (!best || key(a) < key(*best)) best = a;
    }
    return best;
}

Result<Topology> topology_from_hwloc(hwloc_topology_t topo, const std::string& source) {
    const HwlocLibrary& lib = *hwloc_library();  // loaded: the caller holds a topology
    Topology t;
    t.source = source;
    const int numa_count = count_of(lib, topo, HWLOC_OBJ_NUMANODE);
    for (int i = 0; i < numa_count; ++i) {
        hwloc_obj_t obj = object_of(lib, topo, HWLOC_OBJ_NUMANODE, i);
        Node node;
        node.id = static_cast<int>(obj->os_index);
        node.memory_total_bytes = obj->attr->numanode.local_memory;
        node.memory_free_bytes = node.memory_total_bytes;
        t.nodes.push_back(std::move(node));
    }
    std::ranges::sort(t.nodes, {}, &Node::id);

    const int pu_count = count_of(lib, topo, HWLOC_OBJ_PU);
    for (int i = 0; i < pu_count; ++i) {
        hwloc_obj_t pu = object_of(lib, topo, HWLOC_OBJ_PU, i);
        Cpu cpu;
        cpu.id = static_cast<int>(pu->os_index);
        hwloc_obj_t core = ancestor_of(pu, HWLOC_OBJ_CORE);
        cpu.core = core != nullptr ? static_cast<int>(core->logical_index) : -1;
        hwloc_obj_t package = ancestor_of(pu, HWLOC_OBJ_PACKAGE);
        cpu.package = package != nullptr ? os_or_logical(package) : 0;
        if (hwloc_obj_t die = ancestor_of(pu, HWLOC_OBJ_DIE)) cpu.die = os_or_logical(die);
        if (hwloc_obj_t l3 = ancestor_of(pu, HWLOC_OBJ_L3CACHE)) cpu.l3 = static_cast<int>(l3->logical_index);
        cpu.node = local_node_of(pu);
        if (auto n = std::ranges::find(t.nodes, cpu.node, &Node::id); n != t.nodes.end() && valid_id(cpu.id))
            n->cpus.insert(cpu.id);
        t.cpus.push_back(cpu);
    }
    // Offline CPUs are in the complete cpuset only; hwloc does not know their node.
    CpuSet online;
    for (const Cpu& c : t.cpus)
        if (valid_id(c.id)) online.insert(c.id);
    for (int id : cpuset_of(lib, lib.get_complete_cpuset(topo)) - online)
        t.cpus.push_back(Cpu{.id = id, .online = false, .core = -1, .package = -1, .die = std::nullopt, .node = -1});
    if (int last = lib.bitmap_last(lib.get_complete_cpuset(topo)); last != -1 && !valid_id(last))
        t.cpus.push_back(Cpu{.id = last, .online = false, .core = -1, .package = -1, .die = std::nullopt, .node = -1});
    std::ranges::sort(t.cpus, {}, &Cpu::id);

    // Cores and L3 caches numbered by their lowest CPU, like the Linux reader and lscpu.
    auto number_by_lowest_cpu = [&](auto get) {
        std::map<int, int> lowest_cpu_of;  // hwloc's logical index -> lowest CPU
        for (Cpu& c : t.cpus)
            if (auto key = get(c); key && *key >= 0) lowest_cpu_of.try_emplace(*key, c.id);
        std::map<int, int> by_lowest;
        for (auto [key, cpu] : lowest_cpu_of) by_lowest[cpu] = key;
        std::map<int, int> renumber;
        for (int next = 0; auto [cpu, key] : by_lowest) renumber[key] = next++;
        for (Cpu& c : t.cpus)
            if (auto key = get(c); key && *key >= 0) *key = renumber[*key];
    };
    number_by_lowest_cpu([](Cpu& c) { return &c.core; });
    number_by_lowest_cpu([](Cpu& c) { return c.l3 ? &*c.l3 : nullptr; });

    for (Node& n : t.nodes)
        for (const Node& m : t.nodes) n.distances[m.id] = n.id == m.id ? 10 : 20;
    unsigned nr = 1;
    hwloc_distances_s* dist = nullptr;
    if (lib.distances_get_by_type(topo, HWLOC_OBJ_NUMANODE, &nr, &dist, HWLOC_DISTANCES_KIND_MEANS_LATENCY, 0) == 0 &&
        nr == 1) {
        for (unsigned i = 0; i < dist->nbobjs; ++i)
            for (unsigned j = 0; j < dist->nbobjs; ++j) {
                auto from = std::ranges::find(t.nodes, static_cast<int>(dist->objs[i]->os_index), &Node::id);
                if (from != t.nodes.end())
                    from->distances[static_cast<int>(dist->objs[j]->os_index)] =
                        static_cast<int>(dist->values[i * dist->nbobjs + j]);
            }
        lib.distances_release(topo, dist);
    }
    for (int i = 0; i < numa_count; ++i) {
        hwloc_obj_t obj = object_of(lib, topo, HWLOC_OBJ_NUMANODE, i);
        auto n = std::ranges::find(t.nodes, static_cast<int>(obj->os_index), &Node::id);
        if (auto access = access_from_memattrs(t, memattrs_of(lib, topo, obj))) n->access.push_back(*access);
        n->memory_side_caches = memory_side_caches_of(obj);
    }
    t.allowed_cpus = cpuset_of(lib, lib.get_allowed_cpuset(topo));
    t.allowed_nodes = NodeSet::from_words(cpuset_of(lib, lib.get_allowed_nodeset(topo)).words());
    return checked_topology(std::move(t), source);
}

// hwloc reads "memory=64GB" as 64 * 10^9 bytes and has no "64G": sizes in a
// synthetic description are read by affine's own parser (one rule for every
// input) and handed to hwloc in bytes.
Result<std::string> sizes_in_bytes(std::string_view description) {
    std::string out;
    std::size_t pos = 0;
    while (pos < description.size()) {
        std::size_t at = std::string_view::npos;
        std::size_t key_len = 0;
        for (std::string_view key : {"memory=", "size="}) {
            // An attribute starts after "(" or a space inside the parentheses.
            for (auto i = description.find(key, pos); i != std::string_view::npos; i = description.find(key, i + 1))
                if (i > 0 && (description[i - 1] == '(' || description[i - 1] == ' ') && i < at) {
                    at = i;
                    key_len = key.size();
                    break;
                }
        }
        if (at == std::string_view::npos) break;
        auto value_at = at + key_len;
        auto end = description.find_first_of(" )", value_at);
        if (end == std::string_view::npos) end = description.size();
        auto bytes = parse_size(description.substr(value_at, end - value_at));
        if (!bytes) return usage_error(fmt::format("hwloc:{}: {}", description, bytes.error().message));
        out += description.substr(pos, value_at - pos);
        out += std::to_string(*bytes);
        pos = end;
    }
    out += description.substr(pos);
    return out;
}

}  // namespace detail

Result<Topology> hwloc_topology(std::string_view what) {
    const detail::HwlocLibrary* lib = detail::hwloc_library();
    if (lib == nullptr)
        return failure("--host hwloc:... needs libhwloc.so.15, which cannot be loaded (apt-get install libhwloc15)");
    hwloc_topology_t raw = nullptr;
    if (lib->topology_init(&raw) != 0) return failure("cannot initialise hwloc");
    std::unique_ptr<struct hwloc_topology, decltype(lib->topology_destroy)> topo(raw, lib->topology_destroy);
    std::string arg(what);
    bool is_xml = arg.ends_with(".xml") || arg.find('/') != std::string::npos;
    std::string loaded = arg;  // what hwloc reads: a synthetic description's sizes in bytes
    if (!is_xml) {
        auto in_bytes = detail::sizes_in_bytes(arg);
        if (!in_bytes) return std::unexpected(in_bytes.error());
        loaded = std::move(*in_bytes);
    }
    int rc = is_xml ? lib->topology_set_xml(topo.get(), arg.c_str())
                    : lib->topology_set_synthetic(topo.get(), loaded.c_str());
    if (rc != 0)
        return usage_error(is_xml ? fmt::format("hwloc cannot read XML file {}", arg)
                                  : fmt::format("hwloc rejects synthetic description \"{}\" "
                                                "(example: \"numa:2(memory=8GB) core:4 pu:2\")",
                                                arg));
    // hwloc drops memory-side caches unless asked to keep them (lstopo asks too).
    lib->set_type_filter(topo.get(), HWLOC_OBJ_MEMCACHE, HWLOC_TYPE_FILTER_KEEP_ALL);
    if (lib->topology_load(topo.get()) != 0)
        return failure(fmt::format("hwloc cannot load the topology \"{}\"", arg));
    return detail::topology_from_hwloc(topo.get(), "hwloc:" + arg);
}

}  // namespace affine
