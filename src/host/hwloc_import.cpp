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
        return complete ? &lib : nullptr;
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

}  // namespace

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
    if (lib->topology_load(topo.get()) != 0)
        return failure(fmt::format("hwloc cannot load the topology \"{}\"", arg));
    return detail::topology_from_hwloc(topo.get(), "hwloc:" + arg);
}

}  // namespace affine
