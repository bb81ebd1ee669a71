#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "affine/host.hpp"
#include "affine/size.hpp"

namespace affine {
namespace {

// The 64-bit fields come last so that the struct has no tail padding: libc++ 16's
// std::expected keeps its has-value flag there and a value constructed in place
// overwrites it (affine may be built with libc++).
struct SyntheticSpec {
    int nodes = 0;
    int sockets = 0;
    int cores = 0;
    int smt = 1;
    int distance = 21;
    int socket_distance = 0;  // between nodes of one socket; 0 = derive from distance
    int slow_distance = 0;    // from the nodes of its socket; 0 = derive from distance
    std::uint64_t memory = std::uint64_t{4} << 30;
    std::uint64_t slow_memory = 0;  // per socket, on a CPU-less node of a lower tier; 0 = none
};

constexpr std::string_view spec_help =
    "nodes=N,cores=C[,sockets=S][,smt=T][,mem=SIZE][,dist=D][,sdist=E][,slow=SIZE][,slowdist=F]";

Result<SyntheticSpec> parse_spec(std::string_view spec) {
    auto bad = [&](const std::string& why) {
        return usage_error(fmt::format("bad host spec \"{}\": {} (expected {})", spec, why, spec_help));
    };
    SyntheticSpec s;
    std::map<std::string, std::string> seen;
    std::size_t pos = 0;
    while (pos <= spec.size()) {
        auto comma = spec.find(',', pos);
        auto item = spec.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0)
            return bad(fmt::format("expected key=value at column {}", pos + 1));
        std::string key(item.substr(0, eq));
        std::string_view value = item.substr(eq + 1);
        // The key first: "memory=8G" is a misspelt key, not a bad number.
        static constexpr std::string_view keys[] = {"nodes", "sockets", "cores", "smt", "mem", "dist", "sdist", "slow", "slowdist"};
        if (std::ranges::find(keys, key) == std::end(keys))
            return bad(fmt::format("unknown key \"{}\"{}", key, key == "memory" ? " (memory is mem=SIZE)" : ""));
        if (seen.contains(key)) return bad(fmt::format("\"{}\" given twice", key));
        seen[key] = value;
        if (key == "mem" || key == "slow") {
            auto size = parse_size(value);
            if (!size) return std::unexpected(size.error());
            (key == "mem" ? s.memory : s.slow_memory) = *size;
        } else {
            int v = 0;
            auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
            if (ec != std::errc{} || ptr != value.data() + value.size() || v < 1)
                return bad(fmt::format("{} must be a positive integer, not \"{}\"", key, value));
            if (key == "nodes") s.nodes = v;
            else if (key == "sockets") s.sockets = v;
            else if (key == "cores") s.cores = v;
            else if (key == "smt") s.smt = v;
            else if (key == "dist") s.distance = v;
            else if (key == "sdist") s.socket_distance = v;
            else s.slow_distance = v;  // slowdist
        }
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    if (s.nodes == 0) return bad("nodes= is required");
    if (s.cores == 0) return bad("cores= is required");
    if (s.sockets == 0) s.sockets = s.nodes;
    if (s.nodes % s.sockets != 0)
        return bad(fmt::format("{} nodes cannot be spread evenly over {} sockets", s.nodes, s.sockets));
    if (static_cast<long long>(s.nodes) * s.cores * s.smt > 65536)
        return bad("more than 65,536 CPUs");
    if (s.distance <= 10 || (s.socket_distance != 0 && s.socket_distance <= 10) ||
        (s.slow_distance != 0 && s.slow_distance <= 10))
        return bad("remote distances must be greater than 10 (the local distance)");
    if (s.socket_distance == 0) s.socket_distance = (10 + s.distance + 1) / 2;
    if (seen.contains("slowdist") && s.slow_memory == 0) return bad("slowdist= needs slow=SIZE");
    if (s.slow_distance == 0) s.slow_distance = s.distance;
    return s;
}

}  // namespace

// The tiers of a host with slow=: the kernel's id for DRAM, and the next one down.
constexpr int dram_tier = 4;
constexpr int slow_tier = 5;

Result<Topology> synthetic_topology(std::string_view spec) {
    auto parsed = parse_spec(spec);
    if (!parsed) return std::unexpected(parsed.error());
    const SyntheticSpec& s = *parsed;
    const int nodes_per_socket = s.nodes / s.sockets;
    Topology t;
    t.source = std::string(spec);
    int cpu_id = 0;
    for (int n = 0; n < s.nodes; ++n) {
        Node node;
        node.id = n;
        node.memory_total_bytes = s.memory;
        node.memory_free_bytes = s.memory;
        for (int m = 0; m < s.nodes; ++m) {
            bool same_socket = n / nodes_per_socket == m / nodes_per_socket;
            node.distances[m] = m == n ? 10 : same_socket ? s.socket_distance : s.distance;
        }
        for (int c = 0; c < s.cores; ++c) {
            for (int thread = 0; thread < s.smt; ++thread) {
                // One L3 cache per node: its cores share it.
                t.cpus.push_back(Cpu{.id = cpu_id, .online = true, .core = n * s.cores + c,
                                     .package = n / nodes_per_socket, .die = std::nullopt, .node = n, .l3 = n});
                node.cpus.insert(cpu_id++);
            }
        }
        if (s.slow_memory > 0) node.memory_tier = dram_tier;
        t.nodes.push_back(std::move(node));
    }
    // The slower CPU-less nodes, one per socket, numbered after the others: F from
    // the nodes of their socket, F + (D - 10) from the rest, D between themselves.
    if (s.slow_memory > 0) {
        for (int socket = 0; socket < s.sockets; ++socket) {
            Node slow;
            slow.id = s.nodes + socket;
            slow.memory_total_bytes = slow.memory_free_bytes = s.slow_memory;
            slow.memory_tier = slow_tier;
            for (Node& n : t.nodes) {
                bool own = n.id < s.nodes ? n.id / nodes_per_socket == socket : n.id == slow.id;
                int d = n.id >= s.nodes ? s.distance : own ? s.slow_distance : s.slow_distance + s.distance - 10;
                n.distances[slow.id] = d;
                slow.distances[n.id] = d;
            }
            slow.distances[slow.id] = 10;
            t.nodes.push_back(std::move(slow));
        }
    }
    t.allowed_cpus = t.online_cpus();
    t.allowed_nodes = t.all_nodes();
    return checked_topology(std::move(t), fmt::format("host {}", spec));
}

}  // namespace affine
