// The kernel's weighted-interleave weights in sysfs: reading, writing, the auto switch.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "affine/interleave_weights.hpp"
#include "affine/set_grammar.hpp"
#include "core/integer.hpp"
#include "sysfs.hpp"
#include "os/unique_fd.hpp"

namespace affine {
namespace {

const std::string weights_dir = "/sys/kernel/mm/mempolicy/weighted_interleave";

std::string kernel_release() {
    utsname u{};
    return ::uname(&u) == 0 ? std::string(u.release) : std::string("this kernel");
}

// Writes one sysfs attribute: a single write(2), whose error is the kernel's answer
// (O_TRUNC changes nothing in sysfs and keeps a copied tree right).
Result<void> write_attribute(const std::string& root, const std::string& path, const std::string& value) {
    std::string full = (root == "/" ? "" : root) + path;
    UniqueFd fd(::open(full.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        int err = errno;
        return failure(fmt::format("write {} to {}: {}{}", value, path, std::strerror(err),
                                   err == EACCES || err == EPERM ? " (needs root)" : ""),
                       err);
    }
    ssize_t n = ::write(fd.get(), value.data(), value.size());
    int err = errno;
    if (n != static_cast<ssize_t>(value.size()))
        return failure(fmt::format("write {} to {}: {}", value, path, n < 0 ? std::strerror(err) : "short write"),
                       n < 0 ? err : EIO);
    return {};
}

}  // namespace

Result<InterleaveWeights> read_interleave_weights(const std::string& root) {
    linux_backend::SysFs fs(root);
    if (!fs.exists(weights_dir))
        return failure(fmt::format("kernel {} has no weighted interleave ({} is missing; Linux 6.9+)",
                                   root == "/" ? kernel_release() : "under " + root, weights_dir),
                       ENOENT);
    InterleaveWeights w;
    for (const auto& name : fs.list(weights_dir)) {
        std::string path = weights_dir + "/" + name;
        if (name == "auto" || name == "__auto_type") {
            auto line = fs.read_line(path);
            if (!line) return failure(fmt::format("cannot read {}", path), EIO);
            // The kernel prints "true" or "false"; accept 1/0 too.
            w.automatic = *line == "true" || *line == "1" || *line == "Y";
            w.auto_file = name;
            continue;
        }
        if (!name.starts_with("node")) continue;
        auto node = detail::parse_integer<int>(std::string_view(name).substr(4));
        if (!node || *node < 0 || *node > max_id) continue;
        auto line = fs.read_line(path);
        auto weight = line ? detail::parse_integer<int>(*line) : std::nullopt;
        if (!weight) return failure(fmt::format("cannot read a weight from {}", path), EIO);
        w.weights[*node] = *weight;
    }
    return w;
}

Result<InterleaveWeights> write_interleave_weights(const std::map<int, int>& weights, const std::string& root) {
    auto before = read_interleave_weights(root);
    if (!before) return before;
    NodeSet known;
    for (const auto& [node, w] : before->weights) known.insert(node);
    for (const auto& [node, w] : weights)
        if (!known.contains(node))
            return usage_error(fmt::format("node {} has no weight file (the kernel lists nodes {})", node,
                                           to_list(known)));
    for (const auto& [node, w] : weights)
        if (auto r = write_attribute(root, fmt::format("{}/node{}", weights_dir, node), std::to_string(w)); !r)
            return std::unexpected(r.error());
    auto after = read_interleave_weights(root);
    if (!after) return after;
    for (const auto& [node, w] : weights)
        if (after->weights[node] != w)
            return failure(fmt::format("node {}: the kernel holds weight {} instead of {}", node, after->weights[node], w));
    return after;
}

Result<InterleaveWeights> enable_automatic_weights(const std::string& root) {
    auto before = read_interleave_weights(root);
    if (!before) return before;
    if (before->auto_file.empty())
        return failure(fmt::format("kernel {} has no automatic weights (no {}/auto; Linux 6.16+)",
                                   root == "/" ? kernel_release() : "under " + root, weights_dir),
                       ENOENT);
    if (auto r = write_attribute(root, weights_dir + "/" + before->auto_file, "true"); !r)
        return std::unexpected(r.error());
    auto after = read_interleave_weights(root);
    if (after && after->automatic != true)
        return failure(fmt::format("{}/{}: the kernel did not turn automatic weights on", weights_dir,
                                   before->auto_file));
    return after;
}

}  // namespace affine
