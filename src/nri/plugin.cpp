#include "plugin.hpp"

#include <map>

#include <fmt/format.h>

#include "affine/set_grammar.hpp"
#include "core/safe_text.hpp"
#include "session.hpp"
#include "nri_api.pb.h"

namespace affine::nri {

namespace api = ::nri::pkg::api::v1alpha1;

namespace {

constexpr std::string_view policy_annotation = "affine/policy";
constexpr std::string_view soft_annotation = "affine/soft";

std::string pod_name(const api::PodSandbox& pod) { return pod.namespace_() + "/" + pod.name(); }

// The container as the placement rules see it, its pod's annotations included.
// Usage error naming the pod and the annotation when one is malformed.
Result<ContainerSpec> spec_of(const api::PodSandbox& pod, const api::Container& container) {
    ContainerSpec spec;
    spec.id = container.id();
    spec.name = container.name();
    spec.pod = pod_name(pod);
    const api::LinuxResources& r = container.linux().resources();
    spec.cpu_shares = r.cpu().shares().value();
    spec.cpu_quota = r.cpu().quota().value();
    spec.cpu_period = r.cpu().period().value();
    spec.memory_limit = r.memory().limit().value();
    const auto& annotations = pod.annotations();
    if (auto it = annotations.find(std::string(policy_annotation)); it != annotations.end()) {
        auto policy = parse_container_policy(it->second);
        if (!policy) return usage_error(fmt::format("pod {}: annotation {}: {}", spec.pod, policy_annotation,
                                                    policy.error().message));
        spec.policy = *policy;
    }
    if (auto it = annotations.find(std::string(soft_annotation)); it != annotations.end()) {
        if (it->second != "true" && it->second != "false")
            return usage_error(fmt::format("pod {}: annotation {}: '{}': allowed true, false", spec.pod, soft_annotation,
                                           it->second));
        spec.soft = it->second == "true";
    }
    return spec;
}

// The cpuset and mems a container has now; an unparsable or empty one is empty.
Assignment current_of(const api::Container& container) {
    const api::LinuxCPU& cpu = container.linux().resources().cpu();
    Assignment a;
    if (auto cpus = parse_id_list(cpu.cpus())) a.cpus = *cpus;
    if (auto mems = parse_id_list(cpu.mems())) a.mems = NodeSet::from_words(mems->words());
    return a;
}

void fill_cpu(api::LinuxCPU* cpu, const Assignment& a) {
    cpu->set_cpus(to_list(a.cpus));
    cpu->set_mems(to_list(a.mems));
}

void add_updates(google::protobuf::RepeatedPtrField<api::ContainerUpdate>* out,
                 const std::vector<ContainerUpdate>& updates, std::vector<std::string>& log) {
    for (const ContainerUpdate& u : updates) {
        api::ContainerUpdate* m = out->Add();
        m->set_container_id(u.id);
        // A container that exited meanwhile must not fail the call that carries this.
        m->set_ignore_failure(true);
        fill_cpu(m->mutable_linux()->mutable_resources()->mutable_cpu(), u.assignment);
        log.push_back(fmt::format("update container {}: cpus {}, mems {}: {}", u.id, to_list(u.assignment.cpus),
                                  to_list(u.assignment.mems), u.why));
    }
}

RpcResponse ok(const google::protobuf::MessageLite& message) { return {0, {}, message.SerializeAsString()}; }
RpcResponse error(RpcCode code, std::string message) { return {static_cast<std::int32_t>(code), std::move(message), {}}; }

template <typename Message>
bool decode(Message& m, const std::string& payload) {
    return m.ParseFromArray(payload.data(), static_cast<int>(payload.size()));
}

}  // namespace

int subscribed_events() {
    int mask = 0;
    for (api::Event e : {api::CREATE_CONTAINER, api::START_CONTAINER, api::POST_START_CONTAINER, api::UPDATE_CONTAINER,
                         api::STOP_CONTAINER, api::REMOVE_CONTAINER})
        mask |= 1 << (static_cast<int>(e) - 1);
    return mask;
}

Plugin::Plugin(PlacementHost host) : placer_(std::move(host)) {}

std::optional<std::string> Plugin::take_unsolicited_updates() {
    if (unsolicited_.empty()) return std::nullopt;
    api::UpdateContainersRequest request;
    std::vector<std::string> logged_when_decided;
    add_updates(request.mutable_update(), unsolicited_, logged_when_decided);
    unsolicited_.clear();
    return request.SerializeAsString();
}

PluginAnswer Plugin::answer(const RpcRequest& request) {
    PluginAnswer a;
    const std::string& method = request.method;
    auto bad = [&](std::string_view what) {
        a.response = error(RpcCode::invalid_argument, fmt::format("affine: {}: not a valid {}", method, what));
        return a;
    };
    if (request.service != plugin_service_name) {
        a.response = error(RpcCode::unimplemented, fmt::format("affine: no service {}", request.service));
        return a;
    }
    if (method == "Configure") {
        api::ConfigureRequest in;
        if (!decode(in, request.payload)) return bad("ConfigureRequest");
        api::ConfigureResponse out;
        out.set_events(subscribed_events());
        a.log.push_back(fmt::format("configured by {} {}{}", in.runtime_name(), in.runtime_version(),
                                    in.nri_version().empty() ? "" : " (NRI " + in.nri_version() + ")"));
        a.response = ok(out);
    } else if (method == "Synchronize") {
        api::SynchronizeRequest in;
        if (!decode(in, request.payload)) return bad("SynchronizeRequest");
        std::map<std::string, const api::PodSandbox*> pods;
        for (const auto& pod : in.pods()) pods[pod.id()] = &pod;
        for (const auto& c : in.containers()) {
            if (c.state() == api::CONTAINER_STOPPED) continue;
            api::PodSandbox none;
            auto pod = pods.find(c.pod_sandbox_id());
            auto spec = spec_of(pod == pods.end() ? none : *pod->second, c);
            if (!spec) {
                a.log.push_back(fmt::format("container {}: {} (placed with the defaults)", c.id(), spec.error().message));
                spec = spec_of(none, c);
                spec->pod = pod == pods.end() ? c.pod_sandbox_id() : pod_name(*pod->second);
            }
            sync_running_.push_back({*spec, current_of(c)});
        }
        api::SynchronizeResponse out;
        if (in.more()) {
            out.set_more(true);
            a.response = ok(out);
            return a;
        }
        auto decisions = placer_.synchronize(sync_running_);
        a.log.push_back(fmt::format("synchronized with {} running containers: {} to change",
                                    sync_running_.size(), decisions.size()));
        sync_running_.clear();
        std::vector<ContainerUpdate> updates;
        for (Decision& d : decisions) {
            a.log.push_back(d.log);
            updates.push_back({d.id, d.assignment, d.log});
        }
        std::vector<std::string> ignored;
        add_updates(out.mutable_update(), updates, ignored);
        a.response = ok(out);
    } else if (method == "CreateContainer") {
        api::CreateContainerRequest in;
        if (!decode(in, request.payload)) return bad("CreateContainerRequest");
        auto spec = spec_of(in.pod(), in.container());
        if (!spec) {
            a.response = error(RpcCode::invalid_argument, "affine: " + spec.error().message);
            a.log.push_back(spec.error().message);
            return a;
        }
        auto decision = placer_.create(*spec);
        if (!decision) {
            a.response = error(RpcCode::internal, "affine: " + decision.error().message);
            a.log.push_back(decision.error().message);
            return a;
        }
        api::CreateContainerResponse out;
        fill_cpu(out.mutable_adjust()->mutable_linux()->mutable_resources()->mutable_cpu(), decision->assignment);
        a.log.push_back(decision->log);
        add_updates(out.mutable_update(), decision->updates, a.log);
        a.response = ok(out);
    } else if (method == "UpdateContainer") {
        // The container's cpuset and mems stay ours, whatever the update asks (the
        // kubelet's own CPU manager, if enabled, would send its cpuset).
        api::UpdateContainerRequest in;
        if (!decode(in, request.payload)) return bad("UpdateContainerRequest");
        api::UpdateContainerResponse out;
        const auto& placed = placer_.containers();
        if (auto it = placed.find(in.container().id()); it != placed.end()) {
            const api::LinuxCPU& asked = in.linux_resources().cpu();
            Assignment kept = it->second.assigned;
            bool other_cpus = !asked.cpus().empty() && asked.cpus() != to_list(kept.cpus);
            bool other_mems = !asked.mems().empty() && asked.mems() != to_list(kept.mems);
            if (other_cpus || other_mems)
                add_updates(out.mutable_update(), {{it->first, kept, "an update keeps the placement"}}, a.log);
        }
        a.response = ok(out);
    } else if (method == "StopContainer") {
        api::StopContainerRequest in;
        if (!decode(in, request.payload)) return bad("StopContainerRequest");
        api::StopContainerResponse out;
        bool known = placer_.containers().contains(in.container().id());
        auto updates = placer_.remove(in.container().id());
        if (known)
            a.log.push_back(fmt::format("pod {} container {} stopped", pod_name(in.pod()), in.container().name()));
        add_updates(out.mutable_update(), updates, a.log);
        a.response = ok(out);
    } else if (method == "StateChange" || method == "RemoveContainer" || method == "StartContainer" ||
               method == "RunPodSandbox" || method == "StopPodSandbox" || method == "RemovePodSandbox" ||
               method == "PostCreateContainer" || method == "PostStartContainer" || method == "PostUpdateContainer") {
        // Events without an answer. A removal frees what a stop did not (a container
        // that never ran); its updates go out unsolicited. A soft container that
        // started is handed to the daemon with its pid.
        const api::Container* container = nullptr;
        bool removal = method == "RemoveContainer";
        bool started = method == "PostStartContainer";
        // StateChangeEvent is {event, pod, container}; every other event's request is
        // {pod, container}, read as PostStartContainerRequest.
        api::StateChangeEvent event;
        if (method == "StateChange") {
            if (!decode(event, request.payload)) return bad("StateChangeEvent");
            removal = event.event() == api::REMOVE_CONTAINER;
            started = event.event() == api::POST_START_CONTAINER;
        } else {
            api::PostStartContainerRequest plain;
            if (!decode(plain, request.payload)) return bad(method + "Request");
            *event.mutable_container() = plain.container();
            *event.mutable_pod() = plain.pod();
        }
        container = &event.container();
        if (removal) {
            auto updates = placer_.remove(container->id());
            for (const ContainerUpdate& u : updates)
                a.log.push_back(fmt::format("update container {} (unsolicited): cpus {}, mems {}: {}", u.id,
                                            to_list(u.assignment.cpus), to_list(u.assignment.mems), u.why));
            unsolicited_.insert(unsolicited_.end(), updates.begin(), updates.end());
        }
        if (started && container->pid() > 0) {
            if (auto soft = placer_.soft_cpus(container->id()))
                a.soft.push_back({static_cast<int>(container->pid()), *soft,
                                  pod_name(event.pod()) + "/" + container->name()});
        }
        a.response = ok(api::Empty{});  // every event's answer is an empty message
    } else if (method == "Shutdown") {
        a.shutdown = true;
        a.log.push_back("the runtime asked the plugin to shut down");
        a.response = ok(api::Empty{});
    } else {
        a.response = error(RpcCode::unimplemented, fmt::format("affine: {} is not served", method));
    }
    return a;
}

PluginAnswer Plugin::handle(const RpcRequest& request) {
    PluginAnswer a = answer(request);
    // Names, ids, annotations and versions come from the runtime: made safe for the log here.
    for (auto& line : a.log) line = detail::safe_text(line);
    return a;
}

std::string register_plugin_request(const std::string& name, const std::string& index) {
    api::RegisterPluginRequest request;
    request.set_plugin_name(name);
    request.set_plugin_idx(index);
    return request.SerializeAsString();
}

}  // namespace affine::nri
