// The NRI plugin service of `affine nri`: the runtime's calls, decoded, answered from
// the container placement rules (container_placement.hpp), encoded. Pure: no socket,
// no clock; the edge (plugin_connection.hpp) moves the bytes.
//
// Speaks both API generations: NRI v0.6 (containerd 1.7) calls Configure,
// Synchronize, CreateContainer, UpdateContainer, StopContainer, Shutdown and
// funnels the other events through StateChange; newer runtimes call each event's own
// method. The plugin subscribes only to events every generation knows.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "affine/placement.hpp"
#include "container_placement.hpp"
#include "ttrpc.hpp"

namespace affine::nri {

// A soft container's process, for the daemon to keep its threads softly on `cpus`.
struct SoftHandOff {
    int pid = 0;
    CpuSet cpus;
    std::string container;  // "namespace/pod/name", for the log
};

struct PluginAnswer {
    RpcResponse response;
    std::vector<SoftHandOff> soft;  // soft containers that started
    std::vector<std::string> log;  // one line per decision, with its reason
    bool shutdown = false;         // the runtime asked the plugin to stop
};

// The events the plugin asks for (Configure's bit mask: 1 << (event - 1)): container
// creation, start (and after it, for the pid of a soft container), update, stop and
// removal.
int subscribed_events();

class Plugin {
public:
    explicit Plugin(PlacementHost host);

    // Answers one call of the plugin service. A method the plugin does not serve gets
    // Unimplemented (the runtime then uses StateChange); an undecodable message
    // InvalidArgument; a refused placement an error the runtime reports for that
    // container. The log lines are safe text (safe_text.hpp), whatever the runtime sent.
    PluginAnswer handle(const RpcRequest& request);

    // The encoded UpdateContainersRequest of the changes no answer could carry (a
    // removal reported through StateChange), or nullopt; taking them clears them.
    std::optional<std::string> take_unsolicited_updates();

    [[nodiscard]] const ContainerPlacer& placer() const { return placer_; }

private:
    PluginAnswer answer(const RpcRequest& request);

    ContainerPlacer placer_;
    std::vector<ContainerUpdate> unsolicited_;
    std::vector<RunningContainer> sync_running_;  // a Synchronize split over several calls: so far
};

// The encoded RegisterPluginRequest.
std::string register_plugin_request(const std::string& name, const std::string& index);

}  // namespace affine::nri
