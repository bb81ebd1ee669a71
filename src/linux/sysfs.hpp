// The one seam for reading sysfs and procfs: every path is taken under a root
// directory, so a captured tree is a test fixture (as hwloc's HWLOC_FSROOT).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace affine::linux_backend {

class SysFs {
public:
    explicit SysFs(std::string root = "/");

    // The contents of `path` (an absolute path such as "/sys/devices/system/cpu/online"
    // below the root), or nullopt when it cannot be read.
    [[nodiscard]] std::optional<std::string> read(std::string_view path) const;
    // The first line of `path` without its newline.
    [[nodiscard]] std::optional<std::string> read_line(std::string_view path) const;
    // The names in directory `path` (not "." or ".."), unsorted; empty when absent.
    [[nodiscard]] std::vector<std::string> list(std::string_view path) const;
    [[nodiscard]] bool exists(std::string_view path) const;
    [[nodiscard]] const std::string& root() const { return root_; }

    // Every path read or listed from now on is appended to `paths` (a listing as
    // "PATH/"), until called with nullptr: how tests count what a reader costs.
    void record_reads(std::vector<std::string>* paths) { recorded_ = paths; }

private:
    [[nodiscard]] std::string full(std::string_view path) const;
    void note(std::string_view path) const {
        if (recorded_ != nullptr) recorded_->emplace_back(path);
    }
    std::string root_;
    std::vector<std::string>* recorded_ = nullptr;
};

// The value of the line "Key:<whitespace>value" in a /proc/PID/status text.
std::optional<std::string> status_field(std::string_view status, std::string_view key);

// The real and effective uid of a /proc/PID/status text (its "Uid:" line).
struct StatusUids {
    unsigned real = 0;
    unsigned effective = 0;
};
std::optional<StatusUids> status_uids(std::string_view status);

// "Node 0 MemTotal:       1014688 kB" (a node's meminfo, or /proc/meminfo) -> bytes,
// for the given key ("MemTotal:"); nullopt when the key is missing.
std::optional<std::uint64_t> meminfo_bytes(std::string_view text, std::string_view key);

// The memory node `node` can give a new workload: MemFree plus Inactive(file), the
// reclaimable page cache the kernel gives first (counting only MemFree would make
// every node of a long-running host look full; numad counts it too), at most
// MemTotal. nullopt when the node's meminfo cannot be read.
std::optional<std::uint64_t> node_available_bytes(const SysFs& fs, int node);

// The size of a base page (sysconf), 4096 if it cannot be read.
std::uint64_t page_bytes();

}  // namespace affine::linux_backend
