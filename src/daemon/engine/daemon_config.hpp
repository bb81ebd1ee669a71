// The daemon's configuration file (TOML): its keys, defaults and checks. Pure: the
// text comes in, a DaemonConfig or an error naming the line comes out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/placement.hpp"
#include "placement_rules.hpp"
#include "rebalance.hpp"
#include "soft_affinity.hpp"
#include "affine/topology.hpp"

namespace affine {

enum class OnStop {
    restore,  // a clean stop gives every managed thread back the mask it had when taken
    leave,    // a clean stop leaves the masks as they are (requests stay in the journal)
};
std::string_view to_string(OnStop on_stop);

struct DaemonConfig {
    Millis interval{250};               // how often the kernel's accounting is read
    OnStop on_stop = OnStop::restore;
    CpuSet reserved_cpus;               // never given to managed threads
    CpuSet housekeeping_cpus;           // the daemon's own CPUs; empty: it does not pin itself
    std::size_t max_request_bytes = 65536;  // control socket: longest request line
    // What one user (but root, and the daemon's own rules) may have the daemon manage.
    std::size_t max_workloads_per_user = 64;
    std::size_t max_threads_per_user = 4096;
    SoftAffinityTuning tuning;
    PlacementRules rules;               // [[rule]] tables and the global exclusions
    RebalanceOptions placement;         // [placement]: how rule-placed workloads move
    std::string source = "defaults";    // the file it came from
};

// Parses the configuration text of file `source` against `host` (CPU sets use the
// set grammar). Usage error "FILE:LINE: what is wrong (what is allowed)" for a
// syntax error, an unknown key, a value of the wrong type or out of range.
Result<DaemonConfig> parse_daemon_config(std::string_view text, const std::string& source, const Topology& host);

// Parses a duration: "500ms", "2s", "1.5s", "1m".
Result<Millis> parse_duration(std::string_view text);
std::string format_duration(Millis ms);

}  // namespace affine
