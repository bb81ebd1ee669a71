// affine weights: weighted interleave's system-wide node weights: show, set by
// hand, or set from HMAT's bandwidths.
#include <fmt/format.h>

#include "core/json.hpp"
#include "affine/host.hpp"
#include "affine/interleave_weights.hpp"
#include "command.hpp"
#include "json_output.hpp"

namespace affine::cli {
namespace {

struct Options {
    std::string weights;
    bool from_hmat = false;
    bool json = false;
};

void print_weights(const InterleaveWeights& w, const Topology& host) {
    long total = 0;
    for (const auto& [node, weight] : w.weights) total += weight;
    fmt::print("weighted interleave (MPOL_WEIGHTED_INTERLEAVE): automatic weights {}\n",
               !w.automatic ? "not in this kernel" : *w.automatic ? "on (the kernel's, from HMAT)" : "off");
    fmt::print("{:>4} {:>7} {:>7} {:>10}\n", "node", "weight", "share", "read MB/s");
    for (const auto& [node, weight] : w.weights) {
        const Node* n = host.node(node);
        const MemoryAccess* a = nullptr;
        if (n != nullptr)
            for (const MemoryAccess& m : n->access)
                if (m.read_bandwidth_mbps && (a == nullptr || m.access_class == 1)) a = &m;
        fmt::print("{:>4} {:>7} {:>6.1f}% {:>10}\n", node, weight, total > 0 ? 100.0 * weight / static_cast<double>(total) : 0.0,
                   a != nullptr ? fmt::format("{}", *a->read_bandwidth_mbps) : "-");
    }
}

detail::Json weights_json(const InterleaveWeights& w) {
    return {{"weights", detail::per_node_json(w.weights)},
            {"automatic", w.automatic ? detail::Json(*w.automatic) : detail::Json(nullptr)},
            {"auto_file", w.auto_file.empty() ? detail::Json(nullptr) : detail::Json(w.auto_file)}};
}

int weights(const Options& opt) {
    if (opt.from_hmat && !opt.weights.empty())
        throw_error(usage_error("give either --from-hmat or NODE:W,..., not both"));
    Topology host = load_host_or_throw("live");
    InterleaveWeights w;
    if (opt.from_hmat) {
        InterleaveWeights now = value_or_throw(read_interleave_weights());
        if (!now.auto_file.empty())
            w = value_or_throw(enable_automatic_weights());
        else
            w = value_or_throw(write_interleave_weights(value_or_throw(weights_from_bandwidth(host), "--from-hmat")),
                               "--from-hmat");
    } else if (!opt.weights.empty()) {
        w = value_or_throw(write_interleave_weights(value_or_throw(parse_interleave_weights(opt.weights))));
    } else {
        w = value_or_throw(read_interleave_weights());
    }
    if (opt.json)
        print_json(weights_json(w));
    else
        print_weights(w, host);
    return 0;
}

}  // namespace

Command weights_command() {
    return {"weights", "weighted interleave's node weights: show them, set them (NODE:W,...) or from HMAT",
            [](CLI::App& sub, const CommandLine&) -> Action {
                auto opt = std::make_shared<Options>();
                sub.add_option("WEIGHTS", opt->weights,
                               "set the weights: NODE:W,... (W from 1 to 255; needs root); read back after");
                sub.add_flag("--from-hmat", opt->from_hmat,
                             "set them from each node's read bandwidth to its nearest CPUs (the kernel's own "
                             "automatic weights where it has them, Linux 6.16+; needs root)");
                add_json_flag(sub, opt->json, "print {\"weights\": {...}, \"automatic\": ..., \"auto_file\": ...}");
                return [opt] { return weights(*opt); };
            }};
}

}  // namespace affine::cli
