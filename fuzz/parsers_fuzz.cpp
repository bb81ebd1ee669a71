// libFuzzer target for every parser of outside input. The first byte of an input
// picks the parser, the rest is its text (seed corpora in fuzz/seeds/ and the test
// fixtures carry the byte; run.sh prefixes them):
//   g  the CPU/node set grammar, location terms included, on a host with SMT, dies,
//      split L3s and CPU ids that alternate between packages; classic masks and
//      kernel lists
//   s  sizes                        y  synthetic host specs
//   h  host files, then the planner and the location terms on the host read
//   r  placement request lines (place --requests), then the planner
//   x  the simulated Xen host's state file
//   n  /proc/PID/numa_maps          p  /proc/TID/stat
//   t  /proc/TID/status             d  the Xen NUMA dump (debug key 'u')
//   u  Xen's heap layout on its console (DMA width, node spans) and dma_bits=
//   q  the daemon's socket requests   c  the daemon's configuration (TOML, rules)
//   j  the daemon's journal           a  untrusted text made safe (safe_text)
//   m  NRI's connection multiplexer stream   f  ttrpc frames (NRI's RPC framing)
//   i  what a runtime sends `affine nri`: the multiplexer, ttrpc and the envelopes,
//      and every call decoded and answered by the plugin on a 2-node host
//   b  the plugin's calls without the framing: records of a method byte, a 16-bit
//      big-endian length and that many bytes of the method's protobuf message
//   w  weighted interleave's NODE:W,... weights
//   k  /proc/stat                   e  /proc/schedstat (run-queue waits per CPU)
//   z  a thread's schedstat         v  a cgroup's cpu.pressure
// Host files (h) also carry tiered memory (tiers, HMAT access classes, memory-side
// caches): the tiered planner and the weights from bandwidth run on them too.
// Beyond "no crash, no undefined behaviour", each checks what must hold: whatever
// parses prints and parses back to itself, sets stay within the host, plans are
// within the host they were made on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "affine/host.hpp"
#include "affine/interleave_weights.hpp"
#include "affine/placement.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "daemon/engine/daemon_config.hpp"
#include "daemon/engine/daemon_protocol.hpp"
#include "core/safe_text.hpp"
#include "daemon/journal.hpp"
#include "daemon/kernel_accounting.hpp"
#include "affine/tiered_placement.hpp"
#include "affine/xl_config.hpp"
#include "linux/procfs.hpp"
#include "nri/container_status.hpp"
#include "nri/mux.hpp"
#include "nri/plugin.hpp"
#include "nri/session.hpp"
#include "nri/ttrpc.hpp"
#include "xen/sim/sim_hypervisor.hpp"
#include "xen/numa_dump.hpp"

namespace {

using namespace affine;

void require(bool condition) {
    if (!condition) std::abort();
}

// 2 packages x 2 dies x 2 cores x 2 threads; CPU ids alternate between packages and
// SMT siblings come last, as on many two-socket servers; one L3 per die.
const Topology& grammar_host() {
    static const Topology t = [] {
        Topology h;
        for (int id = 0; id < 16; ++id) {
            int thread = id / 8, package = id % 2, core_in_package = (id / 2) % 4;
            int die = core_in_package / 2;
            h.cpus.push_back(Cpu{.id = id, .online = true, .core = package * 4 + core_in_package, .package = package,
                                 .die = die, .node = package, .l3 = package * 2 + die});
            (void)thread;
        }
        h.nodes = {Node{.id = 0, .cpus = {0, 2, 4, 6, 8, 10, 12, 14}, .memory_total_bytes = 1 << 30,
                        .memory_free_bytes = 1 << 30, .distances = {{0, 10}, {1, 21}}, .access = {}, .memory_side_caches = {}},
                   Node{.id = 1, .cpus = {1, 3, 5, 7, 9, 11, 13, 15}, .memory_total_bytes = 1 << 30,
                        .memory_free_bytes = 1 << 30, .distances = {{0, 21}, {1, 10}}, .access = {}, .memory_side_caches = {}}};
        auto checked = checked_topology(std::move(h), "fuzz host");
        if (!checked) std::abort();
        checked->allowed_cpus = checked->online_cpus();
        checked->allowed_nodes = checked->all_nodes();
        return *checked;
    }();
    return t;
}

void grammar(std::string_view text, const Topology& host) {
    if (auto cpus = parse_cpu_set(text, host)) {
        require(!cpus->empty());
        require(cpus->is_subset_of(host.all_cpus()));
        require(*parse_cpu_set(to_list(*cpus), host) == *cpus);
        require(*parse_cpu_set(to_hex(*cpus), host) == *cpus);
    }
    if (auto nodes = parse_node_set(text, host)) {
        require(nodes->is_subset_of(host.all_nodes()));
        require(*parse_node_set(to_list(*nodes), host) == *nodes);
    }
}

void masks_and_lists(std::string_view text) {
    if (auto mask = parse_cpu_mask(text)) require(*parse_cpu_mask(to_hex(*mask)) == *mask);
    if (auto list = parse_id_list(text)) require(*parse_id_list(to_list(*list)) == *list);
}

// A plan on `host` uses only its CPUs and nodes, and as much memory as asked.
void plan_on(const Topology& topology, const PlacementRequest& request) {
    PlacementHost host = make_placement_host(topology);
    auto plan = plan_placement(host, request);
    if (!plan || plan->outcome != PlanOutcome::placed) return;
    require(plan->cpus.is_subset_of(topology.all_cpus()));
    require(plan->nodes.is_subset_of(topology.all_nodes()));
    std::uint64_t total = 0;
    for (const auto& [node, bytes] : plan->memory_bytes_per_node) total += bytes;
    require(total == request.memory_bytes);
    // The tiered planner: no CPU-less home, memory within each node's free memory.
    for (auto use : {MemoryTierUse::top_first, MemoryTierUse::top_only}) {
        auto tiered = plan_tiered_placement(host, request, use);
        if (!tiered || tiered->outcome == PlanOutcome::refused) continue;
        std::uint64_t sum = 0;
        for (const auto& [node, bytes] : tiered->memory_bytes_per_node) {
            require(topology.node(node) != nullptr && bytes <= topology.node(node)->memory_free_bytes);
            sum += bytes;
        }
        require(sum == request.memory_bytes);
        for (int node : tiered->nodes) require(topology.node(node)->has_cpus());
    }
}

void host_file(std::string_view text) {
    auto t = topology_from_json(text, "fuzz");
    if (!t) return;
    auto back = topology_from_json(topology_to_json(*t), "fuzz");
    require(back && *back == *t);
    for (std::string_view term : {"core:0", "socket:0", "die:0", "l3:0", "all", "node:0"}) grammar(term, *t);
    if (t->nodes.size() <= 64) plan_on(*t, PlacementRequest{.vcpus = 2, .memory_bytes = 1 << 20});
    if (auto weights = weights_from_bandwidth(*t))
        for (const auto& [node, w] : *weights) require(w >= 1 && w <= max_interleave_weight);
}

void request_line(std::string_view text) {
    auto request = placement_request_from_json(text);
    if (!request) return;
    static const Topology host = *synthetic_topology("nodes=4,sockets=2,cores=2,smt=2,mem=1G");
    if (request->vcpus <= 64) plan_on(host, *request);
}

void sim_state(std::string_view text) {
    auto host = xen::sim_state_from_json(text, "fuzz");
    if (!host) return;
    auto back = xen::sim_state_from_json(xen::sim_state_json(*host), "fuzz");
    require(back.has_value());
    require(xen::sim_state_json(*back) == xen::sim_state_json(*host));
}

void status(std::string_view text) {
    for (std::string_view key : {"Name", "Tgid", "Uid", "Cpus_allowed_list", "Mems_allowed_list"})
        if (auto value = linux_backend::status_field(text, key)) masks_and_lists(*value);
}

// A request that parses formats to a line that parses to the same request; any
// answer, whatever the bytes in it, is one line of JSON.
void daemon_request(std::string_view text) {
    auto request = protocol::parse_request(text, 65536);
    if (request) {
        auto back = protocol::parse_request(protocol::format_request(*request), 65536);
        require(back && back->op == request->op && back->ids == request->ids && back->cpus == request->cpus);
    }
    protocol::WorkloadStatus w;
    w.command = std::string(text.substr(0, 64));
    std::string line = protocol::ok_response({{"workloads", protocol::to_json(w)}});
    require(line.find('\n') == std::string::npos && protocol::parse_response(line).has_value());
}

void daemon_config(std::string_view text) {
    auto config = parse_daemon_config(text, "fuzz.conf", grammar_host());
    if (!config) return;
    require(config->interval.count() >= 100 && config->interval.count() <= 60000);
    require(!(grammar_host().online_cpus() - config->reserved_cpus).empty());
    for (const auto& rule : config->rules.rules) require(detail::is_safe_text(rule.name));
}

void daemon_journal(std::string_view text) {
    auto journal = daemon::parse_journal(text, "fuzz");
    if (!journal) return;
    auto back = daemon::parse_journal(daemon::format_journal(*journal), "fuzz");
    require(back && back->workloads.size() == journal->workloads.size());
    require(daemon::format_journal(*back) == daemon::format_journal(*journal));
}

void untrusted_text(std::string_view text) {
    std::string safe = detail::safe_text(text);
    require(detail::is_safe_text(safe));
    require(detail::safe_text(safe) == safe);
    require(detail::is_safe_text(text) == (safe == text));
}

// Feeds `text` to `feed` in pieces of changing sizes, as reads return a stream; false
// when `feed` refused a piece (the stream broke) and the rest was not fed.
template <typename Feed>
bool in_pieces(std::string_view text, Feed feed) {
    std::size_t fed = 0;
    for (std::size_t step = 1; fed < text.size(); step = step * 3 % 17 + 1) {
        auto piece = text.substr(fed, step);
        fed += piece.size();
        if (!feed(piece)) return false;
    }
    return true;
}

// A framed stream fed in pieces: every frame decoded encodes back to the very bytes
// it came from.
template <typename Decoder, typename Encode>
void framed_stream(std::string_view text, Encode encode) {
    Decoder decoder;
    std::string again;
    bool whole = in_pieces(text, [&](std::string_view piece) {
        auto frames = decoder.feed(piece);
        if (!frames) return false;
        for (const auto& frame : *frames) {
            auto bytes = encode(frame);
            require(bytes.has_value());
            again += *bytes;
        }
        return true;
    });
    if (whole) require(text.starts_with(again));
}

// An xl configuration as `xen create` reads it: the settings, the domain, its CPU
// specs resolved on a host, and each setting written back as an override reads
// the same.
void xl_config(std::string_view text) {
    auto config = parse_xl_config(text, "fuzz.cfg");
    if (!config) return;
    auto domain = xl_domain_from_config(*config);
    if (!domain) return;
    require(domain->vcpus >= 1 && domain->max_vcpus >= domain->vcpus && domain->maxmem_mib >= domain->memory_mib);
    if (domain->vcpus <= 64) {
        if (domain->cpus) (void)resolve_xl_cpus(*domain->cpus, domain->vcpus, grammar_host(), "cpus");
        if (domain->cpus_soft) (void)resolve_xl_cpus(*domain->cpus_soft, domain->vcpus, grammar_host(), "cpus_soft");
    }
    XlConfig again = *config;
    require(apply_xl_overrides(again, {"name=" + xl_quote(domain->name)}).has_value());
    require(xl_domain_from_config(again).has_value());
}

// The NRI plugin on 2 nodes of 2 cores with 2 threads. Whatever the runtime sends, no
// CPU is both exclusive to a container and in another container's cpuset or the shared
// pool, every answer carries a status the runtime knows and encodes, every log line is
// one safe line, and the status `affine daemon status` shows reads back.
const PlacementHost& nri_host() {
    static const PlacementHost host = [] {
        auto topology = synthetic_topology("nodes=2,cores=2,smt=2,mem=4G");
        if (!topology) std::abort();
        return make_placement_host(*topology);
    }();
    return host;
}

nri::RpcResponse nri_answer(nri::Plugin& plugin, const nri::RpcRequest& request) {
    nri::PluginAnswer answer = plugin.handle(request);
    auto code = static_cast<nri::RpcCode>(answer.response.code);
    require(code == nri::RpcCode::ok || code == nri::RpcCode::invalid_argument || code == nri::RpcCode::internal ||
            code == nri::RpcCode::unimplemented);
    for (const auto& line : answer.log) require(detail::is_safe_text(line) && line.find('\n') == std::string::npos);
    const auto& placed = plugin.placer().containers();
    for (const auto& [id, c] : placed) {
        if (c.mode != nri::CpuMode::exclusive) continue;
        require(!c.exclusive.empty() && !c.exclusive.intersects(plugin.placer().shared_pool()));
        for (const auto& [other_id, other] : placed)
            require(other_id == id || !c.exclusive.intersects(other.assigned.cpus));
    }
    // What `affine daemon status` shows reads back as written.
    auto status = nri::plugin_status(plugin.placer(), 1, 1);
    auto back = nri::plugin_status_from_json(nri::to_json(status), "fuzz");
    require(back && back->containers.size() == status.containers.size());
    (void)plugin.take_unsolicited_updates();
    return answer.response;
}

void nri_session(std::string_view text) {
    nri::Session session;
    nri::Plugin plugin(nri_host());
    in_pieces(text, [&](std::string_view piece) {
        auto input = session.feed(piece);
        if (!input) return false;
        for (const auto& call : input->calls)
            require(session.reply(call.stream, nri_answer(plugin, call.request)).has_value());
        return true;
    });
}

void nri_messages(std::string_view text) {
    static constexpr std::string_view methods[] = {
        "Configure",     "Synchronize",         "CreateContainer",    "UpdateContainer", "StopContainer",
        "StateChange",   "RemoveContainer",     "PostStartContainer", "StartContainer",  "RunPodSandbox",
        "Shutdown",      "PostCreateContainer", "ValidateContainerAdjustment"};
    nri::Plugin plugin(nri_host());
    while (text.size() >= 3) {
        auto method = methods[static_cast<unsigned char>(text[0]) % std::size(methods)];
        std::size_t length = static_cast<unsigned char>(text[1]) << 8 | static_cast<unsigned char>(text[2]);
        auto payload = text.substr(3, length);
        text.remove_prefix(3 + payload.size());
        nri_answer(plugin, {std::string(nri::plugin_service_name), std::string(method), std::string(payload), 0});
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0]) {
        case 'g':
            grammar(text, grammar_host());
            masks_and_lists(text);
            break;
        case 's':
            // What format_size prints, parse_size takes.
            if (auto bytes = parse_size(text)) require(*bytes > 0 && parse_size(format_size(*bytes)).has_value());
            break;
        case 'y':
            if (text.size() < 64) (void)synthetic_topology(text);
            break;
        case 'h': host_file(text); break;
        case 'r': request_line(text); break;
        case 'x': sim_state(text); break;
        case 'n': (void)linux_backend::own_bytes_per_node(linux_backend::parse_numa_maps(text)); break;
        case 'p': (void)linux_backend::parse_task_stat(text); break;
        case 't': status(text); break;
        case 'd': (void)xen::parse_numa_dump(text); break;
        case 'u': {
            auto layout = xen::parse_heap_layout(text);
            (void)xen::x86_dma_bits(layout.nodes);
            (void)xen::dma_bits_option(text);
            break;
        }
        case 'q': daemon_request(text); break;
        case 'c': daemon_config(text); break;
        case 'j': daemon_journal(text); break;
        case 'a': untrusted_text(text); break;
        case 'm':
            framed_stream<nri::MuxDecoder>(text, [](const nri::MuxFrame& f) { return nri::encode_mux_frame(f.conn, f.payload); });
            break;
        case 'f':
            framed_stream<nri::TtrpcDecoder>(text, [](const nri::TtrpcFrame& f) {
                return nri::encode_ttrpc_frame(f.stream, f.type, f.payload, f.flags);
            });
            break;
        case 'i': nri_session(text); break;
        case 'b': nri_messages(text); break;
        case 'w':
            if (auto weights = parse_interleave_weights(text))
                for (const auto& [node, w] : *weights) require(w >= 1 && w <= max_interleave_weight && node >= 0);
            break;
        case 'k':
            // A reading compared with itself: every CPU known and idle.
            if (auto times = parse_cpu_times(text))
                for (double busy : cpu_load_between(*times, *times).busy) require(busy == -1.0 || busy == 0.0);
            break;
        case 'e': {
            auto delays = parse_cpu_run_delays(text);
            for (double waiting : waiting_between(delays, delays, std::chrono::milliseconds(250)))
                require(waiting == 0.0);
            break;
        }
        case 'z':
            if (auto t = daemon::parse_schedstat(text)) {
                auto sample = daemon::thread_sample_between(*t, *t, Millis(250));
                require(sample.run_share == 0.0 && sample.wait_share == 0.0);
            }
            break;
        case 'v': (void)daemon::parse_cpu_pressure(text); break;
        case 'l': xl_config(text); break;
        default: return -1;  // not a parser: keep out of the corpus
    }
    return 0;
}
