#include "container_status.hpp"

#include "core/safe_text.hpp"

namespace affine::nri {

PluginStatus plugin_status(const ContainerPlacer& placer, int plugin_pid, std::uint64_t plugin_start_time) {
    PluginStatus status;
    status.plugin_pid = plugin_pid;
    status.plugin_start_time = plugin_start_time;
    for (const auto& [id, c] : placer.containers())
        status.containers.push_back({id, c.spec.pod, c.spec.name, std::string(to_string(c.mode)), c.nodes,
                                     c.assigned.cpus, c.assigned.mems, c.why});
    return status;
}

detail::Json to_json(const PluginStatus& status) {
    detail::Json containers = detail::Json::array();
    for (const auto& c : status.containers) {
        // Names and ids come from the runtime: made safe before they reach a terminal.
        containers.push_back({{"id", detail::safe_text(c.id)},
                              {"pod", detail::safe_text(c.pod)},
                              {"name", detail::safe_text(c.name)},
                              {"mode", c.mode},
                              {"nodes", detail::ids_json(c.nodes)},
                              {"cpus", detail::ids_json(c.cpus)},
                              {"mems", detail::ids_json(c.mems)},
                              {"why", detail::safe_text(c.why)}});
    }
    return {{"plugin_pid", status.plugin_pid},
            {"plugin_start_time", status.plugin_start_time},
            {"containers", containers}};
}

Result<PluginStatus> plugin_status_from_json(const detail::Json& json, const std::string& source) {
    detail::JsonReader in(source);
    PluginStatus status;
    auto pid = in.integer(json, "plugin_pid", "$");
    if (!pid) return std::unexpected(pid.error());
    status.plugin_pid = static_cast<int>(*pid);
    auto start = in.integer_or(json, "plugin_start_time", "$", 0, 0);
    if (!start) return std::unexpected(start.error());
    status.plugin_start_time = static_cast<std::uint64_t>(*start);
    auto containers = in.array(json, "containers", "$");
    if (!containers) return std::unexpected(containers.error());
    for (std::size_t i = 0; i < (*containers)->size(); ++i) {
        const detail::Json& c = (**containers)[i];
        std::string where = fmt::format("$.containers[{}]", i);
        ContainerStatus s;
        for (auto [key, field] : {std::pair{"id", &s.id}, {"pod", &s.pod}, {"name", &s.name}, {"mode", &s.mode},
                                  {"why", &s.why}}) {
            auto text = in.string(c, key, where);
            if (!text) return std::unexpected(text.error());
            *field = detail::safe_text(*text);
        }
        detail::FirstError first;
        first.into(in.id_array<NodeTag>(c, "nodes", where), s.nodes);
        first.into(in.id_array<CpuTag>(c, "cpus", where), s.cpus);
        first.into(in.id_array<NodeTag>(c, "mems", where), s.mems);
        auto read = std::move(first).result(std::move(s));
        if (!read) return std::unexpected(read.error());
        status.containers.push_back(std::move(*read));
    }
    return status;
}

std::string plugin_status_path(std::string_view dir) { return std::string(dir) + "/nri.json"; }

}  // namespace affine::nri
