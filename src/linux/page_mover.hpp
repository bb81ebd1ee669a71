// Moving a running process's memory in bounded steps: move_pages(2) over its
// mappings, a batch of pages at a time, from a cursor kept between steps, so no
// step holds the process's pages for long and a large process is moved over many
// steps (migrate_pages moves everything at once). Internal to the Linux backend;
// the daemon's placement loop calls it within its per-interval byte budget.
#pragma once

#include <chrono>
#include <cstdint>
#include <set>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "procfs.hpp"

namespace affine::linux_backend {

struct PageMoveStep {
    std::uint64_t moved_bytes = 0;    // pages now on the target nodes that were not
    std::uint64_t refused_bytes = 0;  // pages the kernel would not move (shared, pinned, busy)
    std::uint64_t scanned_bytes = 0;  // address space looked at
    // Pages move_pages found present outside `to` (and `also_home`) and that this
    // step handled: what numa_maps counts outside but a whole scan never saw is
    // hidden from move_pages.
    std::uint64_t seen_outside_bytes = 0;
    bool wrapped = false;             // the scan reached the last mapping: the next step starts over
};

// Where a scan of a process's mappings stands between steps. A scan walks the parts
// of its mappings aligned to the transparent huge page size first (where one move
// can carry a huge page), then their unaligned edges (4K pages only): moving a page
// costs about as much as moving a huge page on a busy or emulated CPU (its TLB
// shootdown), so the memory that moves fastest moves first.
struct MoveCursor {
    std::uint64_t address = 0;
    bool edges = false;  // in the second part of the scan
    [[nodiscard]] bool at_start() const { return address == 0 && !edges; }
};

// Moves at most `max_bytes` of the pages of `pid` that lie outside `to` onto `to`
// (spread over its nodes in turn), scanning the mappings of /proc/PID/maps from
// `cursor` (updated) and stopping after `time_budget`. Pages not
// present are skipped (nothing to move), and so are the mappings that start at an
// address of `skip` (shared_file_starts). Pages on a node of `also_home` stay too
// (a tiered placement's overflow nodes: home, but not where pages are moved).
// Failed error when the process is gone (ESRCH) or the kernel refuses the caller
// (EPERM, with the reason).
Result<PageMoveStep> move_pages_step(const Env& env, int pid, const NodeSet& to, std::uint64_t max_bytes,
                                     std::chrono::milliseconds time_budget, MoveCursor& cursor,
                                     const std::set<std::uint64_t>& skip, const NodeSet& also_home = {});

// The address ranges [start, end) of /proc/PID/maps that hold movable pages
// (the vsyscall, vvar and vdso pages are left out).
std::vector<std::pair<std::uint64_t, std::uint64_t>> parse_mapping_ranges(std::string_view maps);

// The start addresses of the mappings (of /proc/PID/numa_maps) that are files other
// processes map too: not the process's own memory to move.
std::set<std::uint64_t> shared_file_starts(const std::vector<MappingPlacement>& mappings);

}  // namespace affine::linux_backend
