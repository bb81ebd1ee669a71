#include "sysfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "core/text.hpp"
#include "os/unique_fd.hpp"

namespace affine::linux_backend {

SysFs::SysFs(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string SysFs::full(std::string_view path) const {
    if (root_ == "/" || root_.empty()) return std::string(path);
    return root_ + std::string(path);
}

// Plain read(2) rather than iostreams: topology discovery reads hundreds of tiny
// files on a large host, and this is what keeps `affine topo` faster than lstopo.
std::optional<std::string> SysFs::read(std::string_view path) const {
    note(path);
    UniqueFd fd(::open(full(path).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    std::string out;
    char buf[4096];
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

std::optional<std::string> SysFs::read_line(std::string_view path) const {
    auto text = read(path);
    if (!text) return std::nullopt;
    auto nl = text->find('\n');
    if (nl != std::string::npos) text->resize(nl);
    return text;
}

std::vector<std::string> SysFs::list(std::string_view path) const {
    if (recorded_ != nullptr) recorded_->push_back(std::string(path) + "/");
    std::vector<std::string> names;
    DIR* dir = ::opendir(full(path).c_str());
    if (dir == nullptr) return names;
    while (dirent* e = ::readdir(dir)) {
        std::string_view name = e->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(dir);
    return names;
}

bool SysFs::exists(std::string_view path) const {
    struct stat st{};
    return ::stat(full(path).c_str(), &st) == 0;
}

std::optional<std::string> status_field(std::string_view status, std::string_view key) {
    for (std::string_view line : detail::lines_of(status)) {
        if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ':') {
            auto value = line.substr(key.size() + 1);
            auto first = value.find_first_not_of(" \t");
            return first == std::string_view::npos ? std::string() : std::string(value.substr(first));
        }
    }
    return std::nullopt;
}

std::optional<StatusUids> status_uids(std::string_view status) {
    auto line = status_field(status, "Uid");
    if (!line) return std::nullopt;
    unsigned values[2] = {0, 0};
    const char* p = line->data();
    const char* end = p + line->size();
    for (unsigned& v : values) {
        while (p < end && (*p == ' ' || *p == '\t')) ++p;
        auto [next, ec] = std::from_chars(p, end, v);
        if (ec != std::errc()) return std::nullopt;
        p = next;
    }
    return StatusUids{values[0], values[1]};
}

std::optional<std::uint64_t> meminfo_bytes(std::string_view text, std::string_view key) {
    auto at = text.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    auto rest = text.substr(at + key.size());
    auto digits = rest.find_first_of("0123456789");
    if (digits == std::string_view::npos) return std::nullopt;
    std::uint64_t kb = 0;
    std::from_chars(rest.data() + digits, rest.data() + rest.size(), kb);
    return kb * 1024;
}

std::optional<std::uint64_t> node_available_bytes(const SysFs& fs, int node) {
    auto meminfo = fs.read("/sys/devices/system/node/node" + std::to_string(node) + "/meminfo");
    if (!meminfo) return std::nullopt;
    auto free = meminfo_bytes(*meminfo, "MemFree:");
    if (!free) return std::nullopt;
    std::uint64_t available = *free + meminfo_bytes(*meminfo, "Inactive(file):").value_or(0);
    if (auto total = meminfo_bytes(*meminfo, "MemTotal:")) available = std::min(available, *total);
    return available;
}

std::uint64_t page_bytes() {
    static const std::uint64_t size = [] {
        long s = ::sysconf(_SC_PAGESIZE);
        return s > 0 ? static_cast<std::uint64_t>(s) : std::uint64_t{4096};
    }();
    return size;
}

}  // namespace affine::linux_backend
