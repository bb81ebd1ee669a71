// Weighted interleave's system-wide node weights (MPOL_WEIGHTED_INTERLEAVE, Linux
// 6.9+): /sys/kernel/mm/mempolicy/weighted_interleave/nodeN, one weight (1 to 255)
// per node; from Linux 6.16 an `auto` switch (some kernels name it `__auto_type`)
// under which the kernel derives them from HMAT's bandwidths.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "affine/error.hpp"
#include "affine/topology.hpp"

namespace affine {

inline constexpr int max_interleave_weight = 255;

struct InterleaveWeights {
    std::map<int, int> weights;      // node -> weight, as the kernel holds them
    std::optional<bool> automatic;   // the auto switch; nullopt when the kernel has none
    std::string auto_file;           // its name ("auto" or "__auto_type"), "" when none
};

// Pure. Weights proportional to each memory node's read bandwidth from its nearest
// CPUs (HMAT access class 1, else class 0), reduced by their greatest common
// divisor and scaled down to at most 255 (never below 1). Nodes without a read
// bandwidth are left out. Failure when no node has one (the host shows no HMAT).
Result<std::map<int, int>> weights_from_bandwidth(const Topology& topology);

// "NODE:W,NODE:W" (weights 1 to 255, each node once) -> the map. Usage error naming
// the item otherwise.
Result<std::map<int, int>> parse_interleave_weights(std::string_view text);

// Reads the kernel's weights under `root`. Failure (ENOENT) naming the kernel when
// it has no weighted interleave. Reads live system state.
Result<InterleaveWeights> read_interleave_weights(const std::string& root = "/");

// Writes `weights` (nodes the kernel lists only; usage error for another) and reads
// back what holds. On a kernel with the auto switch, writing a weight turns it off
// (the kernel's rule). Needs root (failure EACCES/EPERM otherwise). Changes live
// system state.
Result<InterleaveWeights> write_interleave_weights(const std::map<int, int>& weights, const std::string& root = "/");

// Turns the kernel's auto switch on (weights from HMAT by the kernel itself) and
// reads back. Failure when the kernel has no such switch. Changes live state.
Result<InterleaveWeights> enable_automatic_weights(const std::string& root = "/");

}  // namespace affine
