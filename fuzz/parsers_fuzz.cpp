// libFuzzer target for every parser of user input: the CPU/node set grammar, classic
// masks, kernel lists, sizes, synthetic host specs, host files and the daemon's
// control requests. Beyond "no crash",
// it checks the round trip: whatever parses prints and parses back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "core/daemon_protocol.hpp"

namespace {

const affine::Topology& host() {
    // Sparse node ids and a CPU-less node make the host terms interesting.
    static const affine::Topology t = [] {
        auto base = affine::synthetic_topology("nodes=4,sockets=2,cores=4,smt=2,mem=1G");
        if (!base) std::abort();
        return *base;
    }();
    return t;
}

void require(bool condition) {
    if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto cpus = affine::parse_cpu_set(text, host())) {
        require(!cpus->empty());
        require(cpus->is_subset_of(host().all_cpus()));
        require(*affine::parse_cpu_set(affine::to_list(*cpus), host()) == *cpus);
        require(*affine::parse_cpu_set(affine::to_hex(*cpus), host()) == *cpus);
    }
    if (auto nodes = affine::parse_node_set(text, host())) {
        require(nodes->is_subset_of(host().all_nodes()));
        require(*affine::parse_node_set(affine::to_list(*nodes), host()) == *nodes);
    }
    if (auto mask = affine::parse_cpu_mask(text)) require(*affine::parse_cpu_mask(affine::to_hex(*mask)) == *mask);
    if (auto list = affine::parse_id_list(text)) require(*affine::parse_id_list(affine::to_list(*list)) == *list);
    if (auto bytes = affine::parse_size(text)) require(*bytes > 0);
    if (text.size() < 64) (void)affine::synthetic_topology(text);
    (void)affine::topology_from_json(text, "fuzz");
    if (auto request = affine::protocol::parse_request(text, 4096)) {
        auto again = affine::protocol::parse_request(affine::protocol::format_request(*request), 1 << 20);
        require(again && again->ids == request->ids && again->cpus == request->cpus);
    }
    return 0;
}
