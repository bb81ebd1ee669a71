// What `affine nri` has decided, for `affine daemon status`: every container it
// places, where, and why. The plugin writes it to a state file (nri.json in the state
// directory) after each decision; `affine daemon status` reads it. Pure: the file's
// text in and out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "container_placement.hpp"
#include "core/json.hpp"

namespace affine::nri {

struct ContainerStatus {
    std::string id;
    std::string pod;   // "namespace/name"
    std::string name;
    std::string mode;  // "exclusive", "aligned" or "pool" (to_string(CpuMode))
    NodeSet nodes;     // the planned nodes
    CpuSet cpus;       // its cpuset, as the runtime was last told
    NodeSet mems;
    std::string why;   // the last decision's reason
};

struct PluginStatus {
    int plugin_pid = 0;
    // The plugin process's start time (/proc/PID/stat, clock ticks since boot): with
    // the pid, who the plugin is, so a reused pid is not taken for it. 0: not
    // recorded (a file of an earlier affine).
    std::uint64_t plugin_start_time = 0;
    std::vector<ContainerStatus> containers;  // by id
};

// The containers the placer holds now.
PluginStatus plugin_status(const ContainerPlacer& placer, int plugin_pid, std::uint64_t plugin_start_time);

// {"plugin_pid": 4242, "plugin_start_time": 123456, "containers": [{"id", "pod",
// "name", "mode", "nodes", "cpus", "mems", "why"}]}; strings as they came (made
// safe where the plugin logs them).
detail::Json to_json(const PluginStatus& status);
// Usage error naming `source` and the field when the JSON is not such a status.
Result<PluginStatus> plugin_status_from_json(const detail::Json& json, const std::string& source);

// The status file in the state directory `dir`.
std::string plugin_status_path(std::string_view dir);

}  // namespace affine::nri
