// The real hypervisor through libxenctrl, loaded with dlopen at run time: the
// binary never links it, so it runs unchanged on hosts without Xen. Types and
// prototypes come from the libxen-dev headers (xenctrl.h needs GNU extensions:
// this file is compiled as gnu++23). Struct layouts change between Xen releases,
// so only the library of the release the headers describe is loaded
// (AFFINE_XENCTRL_SONAME, from the same package's xencontrol.pc), and only on a
// hypervisor of that release.
#include <dlfcn.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <vector>

#include "hypervisor.hpp"
#include "numa_dump.hpp"

#if AFFINE_HAVE_XENCTRL_H
#include <xenctrl.h>
#endif

namespace affine::xen {

#if AFFINE_HAVE_XENCTRL_H
namespace {

constexpr std::string_view built_for = AFFINE_XENCTRL_SONAME;

struct Library {
    void* handle = nullptr;
    std::string error;  // dlerror() when not loaded
};

Library load_library() {
    if (built_for.empty()) return {nullptr, "the Xen release of the headers is unknown (no xencontrol.pc)"};
    if (void* h = dlopen(std::string(built_for).c_str(), RTLD_NOW | RTLD_LOCAL)) return {h, {}};
    const char* why = dlerror();
    return {nullptr, why != nullptr ? why : "dlopen failed"};
}

// "4.17" of "libxenctrl.so.4.17".
std::string_view release_of(std::string_view soname) { return soname.substr(soname.rfind(".so.") + 4); }

// libxenctrl logs every failed call to stderr unless given a logger; affine reports
// errors itself, in one line.
void quiet_message(xentoollog_logger*, xentoollog_level, int, const char*, const char*, va_list) {}
void quiet_destroy(xentoollog_logger*) {}
xentoollog_logger quiet_logger{quiet_message, nullptr, quiet_destroy};

#define AFFINE_XC_FUNCTIONS(X)                                                                                 \
    X(xc_interface_open) X(xc_interface_close) X(xc_get_cpumap_size) X(xc_get_nodemap_size) X(xc_get_max_cpus) \
    X(xc_physinfo) X(xc_cputopoinfo) X(xc_numainfo) X(xc_domain_getinfolist) X(xc_vcpu_getaffinity)           \
    X(xc_vcpu_setaffinity) X(xc_domain_node_getaffinity) X(xc_domain_node_setaffinity) X(xc_send_debug_keys)  \
    X(xc_readconsolering) X(xc_cpupool_getinfo) X(xc_cpupool_infofree) X(xc_version) X(xc_availheap)

struct Api {
#define AFFINE_XC_MEMBER(f) decltype(&::f) f = nullptr;
    AFFINE_XC_FUNCTIONS(AFFINE_XC_MEMBER)
#undef AFFINE_XC_MEMBER
};

Result<Api> bind_api(void* handle, const std::string& library) {
    Api api;
#define AFFINE_XC_BIND(f)                                                                                      \
    api.f = reinterpret_cast<decltype(api.f)>(dlsym(handle, #f));                                              \
    if (api.f == nullptr) return failure(fmt::format("{} has no function {}: unsupported Xen version", library, #f));
    AFFINE_XC_FUNCTIONS(AFFINE_XC_BIND)
#undef AFFINE_XC_BIND
    return api;
}

std::unexpected<Error> call_failed(const std::string& what) {
    int code = errno;
    return failure(fmt::format("{}: {}", what, std::strerror(code)), code);
}

template <typename Tag>
std::vector<std::uint8_t> to_bytes(const IdSet<Tag>& set, int bytes) {
    std::vector<std::uint8_t> map(static_cast<std::size_t>(bytes), 0);
    for (int id : set)
        if (id / 8 < bytes) map[static_cast<std::size_t>(id / 8)] |= static_cast<std::uint8_t>(1U << (id % 8));
    return map;
}

template <typename Tag>
IdSet<Tag> from_bytes(const std::vector<std::uint8_t>& map) {
    IdSet<Tag> set;
    for (std::size_t i = 0; i < map.size() * 8; ++i)
        if ((map[i / 8] >> (i % 8)) & 1U) set.insert(static_cast<int>(i));
    return set;
}

class XenctrlHypervisor final : public Hypervisor {
public:
    XenctrlHypervisor(Api api, xc_interface* xch) : api_(api), xch_(xch) {
        cpumap_bytes_ = api_.xc_get_cpumap_size(xch_);
        nodemap_bytes_ = api_.xc_get_nodemap_size(xch_);
    }
    ~XenctrlHypervisor() override { api_.xc_interface_close(xch_); }
    XenctrlHypervisor(const XenctrlHypervisor&) = delete;
    XenctrlHypervisor& operator=(const XenctrlHypervisor&) = delete;

    [[nodiscard]] std::string name() const override { return "xen"; }

    Result<Topology> topology() override {
        xc_physinfo_t info{};
        if (api_.xc_physinfo(xch_, &info) != 0) return call_failed("xc_physinfo");
        unsigned ncpus = info.max_cpu_id + 1;
        std::vector<xc_cputopo_t> cputopo(ncpus);
        if (api_.xc_cputopoinfo(xch_, &ncpus, cputopo.data()) != 0) return call_failed("xc_cputopoinfo");
        unsigned nnodes = info.max_node_id + 1;
        std::vector<xc_meminfo_t> meminfo(nnodes);
        std::vector<std::uint32_t> distance(static_cast<std::size_t>(nnodes) * nnodes);
        if (api_.xc_numainfo(xch_, &nnodes, meminfo.data(), distance.data()) != 0) return call_failed("xc_numainfo");

        Topology t;
        t.source = "xen";
        // Core ids are per socket in Xen; affine numbers physical cores host-wide, in
        // order of each core's lowest CPU.
        std::map<std::pair<std::uint32_t, std::uint32_t>, int> core_ids;
        for (unsigned c = 0; c < ncpus; ++c) {
            const xc_cputopo_t& ct = cputopo[c];
            if (ct.core == XEN_INVALID_CORE_ID) {
                t.cpus.push_back(Cpu{.id = static_cast<int>(c), .online = false, .core = -1, .package = -1,
                                     .die = std::nullopt, .node = -1});
                continue;
            }
            auto key = std::make_pair(ct.socket, ct.core);
            auto [it, added] = core_ids.try_emplace(key, static_cast<int>(core_ids.size()));
            t.cpus.push_back(Cpu{.id = static_cast<int>(c), .online = true, .core = it->second,
                                 .package = static_cast<int>(ct.socket), .die = std::nullopt,
                                 .node = ct.node == XEN_INVALID_NODE_ID ? 0 : static_cast<int>(ct.node)});
        }
        for (unsigned n = 0; n < nnodes; ++n) {
            if (meminfo[n].memsize == XEN_INVALID_MEM_SZ) continue;  // not online
            Node node;
            node.id = static_cast<int>(n);
            node.memory_total_bytes = meminfo[n].memsize;
            node.memory_free_bytes = meminfo[n].memfree;
            for (unsigned m = 0; m < nnodes; ++m) {
                std::uint32_t d = distance[static_cast<std::size_t>(n) * nnodes + m];
                if (d != XEN_INVALID_NODE_DIST && meminfo[m].memsize != XEN_INVALID_MEM_SZ)
                    node.distances[static_cast<int>(m)] = static_cast<int>(d);
            }
            for (const Cpu& c : t.cpus)
                if (c.online && c.node == node.id) node.cpus.insert(c.id);
            t.nodes.push_back(std::move(node));
        }
        t.allowed_cpus = t.online_cpus();
        t.allowed_nodes = t.all_nodes();
        return checked_topology(std::move(t), "Xen topology", ErrorKind::failed);
    }

    Result<int> cpu_id_limit() override {
        int n = api_.xc_get_max_cpus(xch_);
        if (n <= 0) return call_failed("xc_get_max_cpus");
        return n;
    }
    Result<int> node_id_limit() override { return nodemap_bytes_ * 8; }

    Result<CpuSet> pool_cpus(int domid) override {
        xc_domaininfo_t info{};
        int got = api_.xc_domain_getinfolist(xch_, static_cast<std::uint32_t>(domid), 1, &info);
        if (got < 0) return call_failed(fmt::format("xc_domain_getinfolist (domain {})", domid));
        if (got == 0 || info.domain != domid) {
            errno = ESRCH;
            return call_failed(fmt::format("domain {}", domid));
        }
        xc_cpupoolinfo_t* pool = api_.xc_cpupool_getinfo(xch_, info.cpupool);
        if (pool == nullptr) return call_failed(fmt::format("xc_cpupool_getinfo (pool {})", info.cpupool));
        std::vector<std::uint8_t> map(pool->cpumap, pool->cpumap + cpumap_bytes_);
        bool same_pool = pool->cpupool_id == info.cpupool;
        api_.xc_cpupool_infofree(xch_, pool);
        if (!same_pool) return failure(fmt::format("cpupool {} of domain {} not found", info.cpupool, domid));
        return from_bytes<CpuTag>(map);
    }

    Result<std::vector<DomainInfo>> domains() override {
        std::vector<DomainInfo> out;
        std::vector<xc_domaininfo_t> batch(256);
        std::uint32_t next = 0;
        while (true) {
            int got = api_.xc_domain_getinfolist(xch_, next, static_cast<unsigned>(batch.size()), batch.data());
            if (got < 0) return call_failed("xc_domain_getinfolist");
            for (int i = 0; i < got; ++i) {
                const xc_domaininfo_t& d = batch[static_cast<std::size_t>(i)];
                out.push_back(DomainInfo{
                    .domid = d.domain,
                    .vcpu_id_limit = d.max_vcpu_id == XEN_INVALID_MAX_VCPU_ID ? 0 : static_cast<int>(d.max_vcpu_id) + 1,
                    .online_vcpus = static_cast<int>(d.nr_online_vcpus),
                    .memory_bytes = d.tot_pages * page_bytes});
                next = d.domain + 1U;
            }
            if (got < static_cast<int>(batch.size())) break;
        }
        return out;
    }

    Result<Vcpu> vcpu_affinity(int domid, int vcpu) override {
        std::vector<std::uint8_t> hard(static_cast<std::size_t>(cpumap_bytes_)), soft(hard.size());
        if (api_.xc_vcpu_getaffinity(xch_, static_cast<std::uint32_t>(domid), vcpu, hard.data(), soft.data(),
                                     XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT) != 0)
            return call_failed(fmt::format("xc_vcpu_getaffinity (domain {} vCPU {})", domid, vcpu));
        return Vcpu{vcpu, from_bytes<CpuTag>(hard), from_bytes<CpuTag>(soft), false};
    }

    Result<EffectiveAffinity> set_vcpu_affinity(int domid, int vcpu, const CpuSet& hard, const CpuSet& soft,
                                                AffinityFlags flags) override {
        auto hard_map = to_bytes(hard, cpumap_bytes_);
        auto soft_map = to_bytes(soft, cpumap_bytes_);
        if (api_.xc_vcpu_setaffinity(xch_, static_cast<std::uint32_t>(domid), vcpu, hard_map.data(), soft_map.data(),
                                     static_cast<std::uint32_t>(flags)) != 0)
            return call_failed(fmt::format("xc_vcpu_setaffinity (domain {} vCPU {})", domid, vcpu));
        EffectiveAffinity out;
        if (has(flags, AffinityFlags::hard)) out.hard = from_bytes<CpuTag>(hard_map);
        if (has(flags, AffinityFlags::soft)) out.soft = from_bytes<CpuTag>(soft_map);
        return out;
    }

    Result<NodeSet> node_affinity(int domid) override {
        std::vector<std::uint8_t> map(static_cast<std::size_t>(nodemap_bytes_));
        if (api_.xc_domain_node_getaffinity(xch_, static_cast<std::uint32_t>(domid), map.data()) != 0)
            return call_failed(fmt::format("xc_domain_node_getaffinity (domain {})", domid));
        return from_bytes<NodeTag>(map);
    }

    Result<void> set_node_affinity(int domid, const NodeSet& nodes) override {
        auto map = to_bytes(nodes, nodemap_bytes_);
        if (api_.xc_domain_node_setaffinity(xch_, static_cast<std::uint32_t>(domid), map.data()) != 0)
            return call_failed(fmt::format("xc_domain_node_setaffinity (domain {})", domid));
        return {};
    }

    std::optional<NodeAffinityMode> node_affinity_mode(int) override { return std::nullopt; }

    Result<DomainMemory> memory_per_node() override {
        if (api_.xc_send_debug_keys(xch_, "u") != 0) return call_failed("xc_send_debug_keys u");
        auto text = console();
        if (!text) return std::unexpected(text.error());
        return parse_numa_dump(*text);
    }

    Result<DomainFreeMemory> domain_free_memory(const Topology& topology) override {
        DomainFreeMemory free;
        auto text = console();
        if (!text) return std::unexpected(text.error());
        if (auto printed = parse_heap_layout(*text).dma_bits) {
            free.dma_bits = *printed;
            free.dma_bits_source = "Xen's boot message";
        } else if (auto option = dma_bits_option(command_line())) {
            free.dma_bits = *option;
            free.dma_bits_source = "dma_bits= on Xen's command line";
        } else if (topology.nodes.size() > 1) {
            // The boot message has left the ring: Xen's rule on the node layout of
            // a NUMA dump.
            if (api_.xc_send_debug_keys(xch_, "u") != 0) return call_failed("xc_send_debug_keys u");
            text = console();
            if (!text) return std::unexpected(text.error());
            free.dma_bits = x86_dma_bits(parse_heap_layout(*text).nodes);
            free.dma_bits_source = "Xen's rule on the node layout";
        } else {
            free.dma_bits_source = "one node: Xen keeps no memory for last";
        }
        const int min_width = free.dma_bits > 0 ? static_cast<int>(free.dma_bits) + 1 : 0;
        for (const Node& n : topology.nodes) {
            std::uint64_t bytes = 0;
            if (api_.xc_availheap(xch_, min_width, 0, n.id, &bytes) != 0)
                return call_failed(fmt::format("xc_availheap (node {})", n.id));
            free.first[n.id] = bytes;
        }
        return free;
    }

private:
    // The console ring (small: tens of KiB), read whole, newest text last.
    Result<std::string> console() {
        std::vector<char> buffer(std::size_t{1} << 20);
        unsigned int chars = static_cast<unsigned int>(buffer.size());
        std::uint32_t index = 0;
        char* data = buffer.data();
        if (api_.xc_readconsolering(xch_, data, &chars, 0, 0, &index) != 0) return call_failed("xc_readconsolering");
        return std::string(data, chars);
    }

    std::string command_line() {
        xen_commandline_t line{};
        if (api_.xc_version(xch_, XENVER_commandline, &line) != 0) return {};
        return std::string(line, strnlen(line, sizeof line));
    }

    Api api_;
    xc_interface* xch_;
    int cpumap_bytes_ = 0;
    int nodemap_bytes_ = 0;
};

}  // namespace

XenctrlFacts xenctrl_facts() {
    XenctrlFacts facts;
    facts.built_for = std::string(built_for);
    Library lib = load_library();
    if (lib.handle == nullptr) {
        facts.why_not = built_for.empty() ? lib.error : fmt::format("{} is not installed here", built_for);
        return facts;
    }
    dlclose(lib.handle);
    facts.loadable = true;
    return facts;
}

Result<std::unique_ptr<Hypervisor>> open_xenctrl() {
    Library lib = load_library();
    if (lib.handle == nullptr)
        return failure(built_for.empty()
                           ? fmt::format("affine xen is not available: {}", lib.error)
                           : fmt::format("affine xen needs dom0 of a Xen {} host: {} is not installed here (this "
                                         "affine was built for Xen {} and loads no other release)",
                                         release_of(built_for), built_for, release_of(built_for)),
                       ENOENT);
    // The library stays loaded for the life of the process.
    auto api = bind_api(lib.handle, std::string(built_for));
    if (!api) return std::unexpected(api.error());
    xc_interface* xch = api->xc_interface_open(&quiet_logger, &quiet_logger, 0);
    if (xch == nullptr) {
        int code = errno;
        return failure(fmt::format("affine xen needs dom0 of a Xen host: cannot open the hypervisor "
                                   "interface ({}; is /dev/xen/privcmd there, and are you root?)",
                                   std::strerror(code)),
                       code);
    }
    // The tools and the hypervisor of one release go together (the domctl and sysctl
    // interfaces change): refuse another release's hypervisor in one line rather
    // than fail call by call.
    int version = api->xc_version(xch, XENVER_version, nullptr);
    std::string running = fmt::format("{}.{}", version >> 16, version & 0xffff);
    if (version < 0 || running != release_of(built_for)) {
        api->xc_interface_close(xch);
        return failure(fmt::format("this hypervisor is Xen {}, but affine was built for Xen {} ({}): rebuild "
                                   "affine against this release's libxen-dev",
                                   version < 0 ? std::string("of unknown version") : running,
                                   release_of(built_for), built_for),
                       ENOTSUP);
    }
    return std::make_unique<XenctrlHypervisor>(*api, xch);
}

#else  // built without the libxen-dev headers

XenctrlFacts xenctrl_facts() {
    return {"", false, "this affine was built without Xen support (no xenctrl.h)"};
}

Result<std::unique_ptr<Hypervisor>> open_xenctrl() {
    return failure("affine xen needs dom0 of a Xen host: this affine was built without Xen support (no xenctrl.h)",
                   ENOSYS);
}

#endif

}  // namespace affine::xen
