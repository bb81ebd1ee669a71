// Bounded page moves with move_pages(2) (see page_mover.hpp).
#include "page_mover.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/integer.hpp"
#include "core/text.hpp"
#include "affine/set_grammar.hpp"

namespace affine::linux_backend {
namespace {

constexpr std::size_t batch_pages = 512;
// The first move call of a step is this many pages: moving a page of a process
// that is running costs a TLB shootdown on its CPU, from microseconds on hardware
// to tens of milliseconds on an overcommitted virtual machine. Later calls are
// sized from the time the last one took, so one call does not outlast the step.
constexpr std::size_t first_move_pages = 16;

std::optional<std::uint64_t> hex(std::string_view text) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
    if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
    return v;
}

// The size of a transparent huge page (the kernel's PMD size), 2M when the kernel
// does not say.
std::uint64_t huge_page_bytes(const Env& env) {
    auto line = env.fs.read_line("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size");
    auto bytes = line ? detail::parse_integer<std::uint64_t>(*line) : std::nullopt;
    return bytes && *bytes > 0 ? *bytes : std::uint64_t{2} << 20;
}

// One part of a scan: the parts of the ranges aligned to `huge` (edges false), or
// what lies outside them (edges true: a range too small to hold an aligned part is
// all edge).
std::vector<std::pair<std::uint64_t, std::uint64_t>> scan_part(
    const std::vector<std::pair<std::uint64_t, std::uint64_t>>& ranges, std::uint64_t huge, bool edges) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    for (const auto& [start, stop] : ranges) {
        const std::uint64_t lo = (start + huge - 1) / huge * huge;
        const std::uint64_t hi = stop / huge * huge;
        if (lo >= hi) {
            if (edges) out.emplace_back(start, stop);
            continue;
        }
        if (!edges) {
            out.emplace_back(lo, hi);
            continue;
        }
        if (start < lo) out.emplace_back(start, lo);
        if (hi < stop) out.emplace_back(hi, stop);
    }
    return out;
}

// Moves batches of pages in move_pages calls sized from what the last call took
// per page, so that a step ends near its deadline.
class BatchMover {
public:
    BatchMover(const Env& env, int pid, const NodeSet& to, std::chrono::steady_clock::time_point deadline,
               std::uint64_t page)
        : env_(env), pid_(pid), to_(to), deadline_(deadline), page_(page) {}

    // Moves `pages` to `nodes` (one each), adding to `step`; how many were handled:
    // all, or fewer when the deadline came first (at least one call is made).
    Result<std::size_t> move(const std::vector<std::uint64_t>& pages, const std::vector<int>& nodes,
                             PageMoveStep& step) {
        std::size_t done = 0;
        while (done < pages.size()) {
            auto now = std::chrono::steady_clock::now();
            if (done > 0 && now >= deadline_) break;
            std::size_t n = first_move_pages;
            if (per_page_.count() > 0)
                n = static_cast<std::size_t>(std::max<std::int64_t>(
                    1, std::chrono::duration_cast<std::chrono::nanoseconds>(deadline_ - now).count() /
                           per_page_.count()));
            n = std::min(n, pages.size() - done);
            const auto from = static_cast<std::ptrdiff_t>(done);
            const auto to = static_cast<std::ptrdiff_t>(done + n);
            slice_.assign(pages.begin() + from, pages.begin() + to);
            slice_nodes_.assign(nodes.begin() + from, nodes.begin() + to);
            if (auto r = env_.sys.move_pages(pid_, slice_, slice_nodes_, status_); !r) {
                if (r.error() == ESRCH) return failure(fmt::format("no such process: {}", pid_), ESRCH);
                return failure(fmt::format("move the pages of pid {} to node {}: {}", pid_, to_list(to_),
                                           std::strerror(r.error())),
                               r.error());
            }
            per_page_ = std::max(std::chrono::nanoseconds{1},
                                 std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                                      now) /
                                     static_cast<std::int64_t>(n));
            for (std::size_t i = 0; i < n && i < status_.size(); ++i) {
                if (status_[i] >= 0 && to_.contains(status_[i])) step.moved_bytes += page_;
                else step.refused_bytes += page_;
            }
            done += n;
        }
        return done;
    }

private:
    const Env& env_;
    int pid_;
    const NodeSet& to_;
    std::chrono::steady_clock::time_point deadline_;
    std::uint64_t page_;
    std::chrono::nanoseconds per_page_{0};  // what the last call took per page
    std::vector<std::uint64_t> slice_;
    std::vector<int> slice_nodes_;
    std::vector<int> status_;
};

}  // namespace

std::vector<std::pair<std::uint64_t, std::uint64_t>> parse_mapping_ranges(std::string_view maps) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    for (std::string_view line : detail::lines_of(maps)) {
        if (line.find("[vsyscall]") != std::string_view::npos || line.find("[vvar") != std::string_view::npos ||
            line.find("[vdso]") != std::string_view::npos)
            continue;
        auto dash = line.find('-');
        auto space = line.find(' ');
        if (dash == std::string_view::npos || space == std::string_view::npos || dash > space) continue;
        auto start = hex(line.substr(0, dash));
        auto stop = hex(line.substr(dash + 1, space - dash - 1));
        if (!start || !stop || *stop <= *start) continue;
        ranges.emplace_back(*start, *stop);
    }
    return ranges;
}

std::set<std::uint64_t> shared_file_starts(const std::vector<MappingPlacement>& mappings) {
    std::set<std::uint64_t> starts;
    for (const MappingPlacement& m : mappings)
        if (m.shared_file())
            if (auto start = hex(m.address)) starts.insert(*start);
    return starts;
}

Result<PageMoveStep> move_pages_step(const Env& env, int pid, const NodeSet& to, std::uint64_t max_bytes,
                                     std::chrono::milliseconds time_budget, MoveCursor& cursor,
                                     const std::set<std::uint64_t>& skip, const NodeSet& also_home) {
    if (to.empty()) return usage_error("no target node given");
    auto maps = env.fs.read(fmt::format("/proc/{}/maps", pid));
    if (!maps) return failure(fmt::format("no such process: {}", pid), ESRCH);
    auto ranges = parse_mapping_ranges(*maps);
    std::erase_if(ranges, [&](const auto& r) { return skip.contains(r.first); });
    const std::uint64_t page = page_bytes();
    const std::vector<int> targets(to.begin(), to.end());
    std::size_t next_target = 0;
    auto deadline = std::chrono::steady_clock::now() + time_budget;

    PageMoveStep step;
    std::vector<std::uint64_t> addresses;
    std::vector<int> status;
    std::vector<std::uint64_t> moving;
    std::vector<int> nodes;
    BatchMover mover{env, pid, to, deadline, page};
    const std::uint64_t huge = huge_page_bytes(env);
    for (;;) {
        for (const auto& [start, stop] : scan_part(ranges, huge, cursor.edges)) {
            if (stop <= cursor.address) continue;
            std::uint64_t address = std::max(start, cursor.address - cursor.address % page);
            while (address < stop) {
                if (step.moved_bytes >= max_bytes || std::chrono::steady_clock::now() >= deadline) {
                    cursor.address = address;
                    return step;
                }
                addresses.clear();
                for (std::uint64_t a = address; a < stop && addresses.size() < batch_pages; a += page)
                    addresses.push_back(a);
                address = addresses.back() + page;
                step.scanned_bytes += addresses.size() * page;
                // Where each page is now (no node: a query).
                if (auto r = env.sys.move_pages(pid, addresses, {}, status); !r) {
                    if (r.error() == ESRCH) return failure(fmt::format("no such process: {}", pid), ESRCH);
                    if (r.error() == EPERM || r.error() == EACCES)
                        return failure(fmt::format("move the pages of pid {}: {}", pid, explain_permission(env, pid)),
                                       r.error());
                    return failure(fmt::format("move the pages of pid {}: {}", pid, std::strerror(r.error())),
                                   r.error());
                }
                moving.clear();
                nodes.clear();
                bool cut = false;  // the byte budget ends inside this batch
                for (std::size_t i = 0; i < addresses.size() && i < status.size(); ++i) {
                    // Not present, or home.
                    if (status[i] < 0 || to.contains(status[i]) || also_home.contains(status[i])) continue;
                    if (moving.size() * page >= max_bytes - step.moved_bytes) {
                        cut = true;
                        break;
                    }
                    moving.push_back(addresses[i]);
                    nodes.push_back(targets[next_target++ % targets.size()]);
                }
                auto handled = mover.move(moving, nodes, step);
                if (!handled) return std::unexpected(handled.error());
                step.seen_outside_bytes += *handled * page;
                if (*handled < moving.size()) {
                    cursor.address = moving[*handled];  // the rest of the batch, next step
                    return step;
                }
                // Pages left over in this batch (the byte budget ran out) are looked at again.
                if (cut && !moving.empty()) address = moving.back() + page;
            }
        }
        if (cursor.edges) break;
        cursor = {0, true};
    }
    cursor = {};
    step.wrapped = true;
    return step;
}

}  // namespace affine::linux_backend
