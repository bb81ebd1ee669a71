#include "kernel_features.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <sstream>

#include "affine/set_grammar.hpp"

namespace affine::linux_backend {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

// mountinfo escapes blanks and backslashes in paths as octal (\040).
std::string unescape_mount_path(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
            out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 3)), nullptr, 8));
            i += 3;
        } else {
            out += text[i];
        }
    }
    return out;
}

// The mount point of the first cgroup2 file system in a mountinfo text.
std::optional<std::string> cgroup2_mount(std::string_view mountinfo) {
    std::istringstream lines{std::string(mountinfo)};
    for (std::string line; std::getline(lines, line);) {
        auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream after(line.substr(dash + 3));
        std::string fstype;
        after >> fstype;
        if (fstype != "cgroup2") continue;
        std::istringstream before(line.substr(0, dash));
        std::string id, parent, device, root, mount_point;
        if (before >> id >> parent >> device >> root >> mount_point) return unescape_mount_path(mount_point);
    }
    return std::nullopt;
}

NodeSet probe_nodes(const SysFs& fs) {
    NodeSet allowed;
    if (auto status = fs.read("/proc/self/status"))
        if (auto v = status_field(*status, "Mems_allowed_list"))
            if (auto s = parse_id_list(*v)) allowed = NodeSet::from_words(s->words());
    if (auto line = fs.read_line("/sys/devices/system/node/has_memory"))
        if (auto s = parse_id_list(*line)) {
            NodeSet with_memory = NodeSet::from_words(s->words());
            if (!(allowed & with_memory).empty()) allowed = allowed & with_memory;
        }
    if (allowed.empty()) allowed.insert(0);
    // One node is enough to tell whether the kernel knows the mode.
    NodeSet one;
    one.insert(*allowed.first());
    return one;
}

}  // namespace

FeatureProbe probe_preferred_many(Syscalls& sys, const SysFs& fs) {
    auto before = sys.get_mempolicy();
    if (!before) return {false, fmt::format("no (get_mempolicy: {})", errno_text(before.error()))};
    NodeSet nodes = probe_nodes(fs);
    auto result = sys.set_mempolicy(mpol::preferred_many, nodes);
    FeatureProbe probe;
    if (result) {
        probe = {true, "yes"};
    } else if (result.error() == EINVAL && sys.set_mempolicy(mpol::preferred, nodes)) {
        // The same nodes are fine for MPOL_PREFERRED: the kernel does not know the mode.
        probe = {false, "no (the kernel refuses the mode: Linux 5.15 or later has it)"};
    } else {
        probe = {false, fmt::format("no (set_mempolicy with node {}: {})", to_list(nodes), errno_text(result.error()))};
    }
    if (auto restored = sys.set_mempolicy(before->mode, before->nodes); !restored)
        probe.detail += fmt::format("; restoring the policy failed: {}", errno_text(restored.error()));
    return probe;
}

FeatureProbe probe_cgroup_cpuset(const SysFs& fs) {
    auto mountinfo = fs.read("/proc/self/mountinfo");
    if (!mountinfo) return {false, "no (/proc/self/mountinfo is not readable)"};
    auto mount = cgroup2_mount(*mountinfo);
    if (!mount) return {false, "no (no cgroup2 file system is mounted)"};
    std::string file = (*mount == "/" ? std::string() : *mount) + "/cgroup.controllers";
    auto controllers = fs.read_line(file);
    if (!controllers) return {false, fmt::format("no ({} is not readable)", file)};
    std::istringstream words(*controllers);
    for (std::string w; words >> w;)
        if (w == "cpuset") return {true, fmt::format("yes (cgroup2 at {})", *mount)};
    return {false, fmt::format("no (cgroup2 at {} lists no cpuset controller: \"{}\")", *mount, *controllers)};
}

FeatureProbe probe_proc_connector(Syscalls& sys) {
    auto result = sys.bind_proc_connector();
    if (result) return {true, "yes"};
    if (result.error() == EPERM || result.error() == EACCES)
        return {false, fmt::format("no (binding to its netlink group: {}; it needs CAP_NET_ADMIN)",
                                   errno_text(result.error()))};
    if (result.error() == EPROTONOSUPPORT || result.error() == ENOENT)
        return {false, "no (the kernel has no proc connector: CONFIG_PROC_EVENTS)"};
    return {false, fmt::format("no (netlink connector socket: {})", errno_text(result.error()))};
}

}  // namespace affine::linux_backend

namespace affine {

KernelFeatures probe_kernel_features() {
    using namespace linux_backend;
    SysFs fs;
    Syscalls& sys = real_syscalls();
    return {probe_preferred_many(sys, fs), probe_cgroup_cpuset(fs), probe_proc_connector(sys)};
}

}  // namespace affine
