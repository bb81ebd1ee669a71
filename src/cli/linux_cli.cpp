#include "linux_cli.hpp"

#include <fmt/format.h>

#include <limits>
#include <map>

#include "core/integer.hpp"
#include "affine/error.hpp"
#include "affine/set_grammar.hpp"

namespace affine::cli {

int parse_task_id_or_throw(const std::string& text) {
    // Any positive id is well formed; one the kernel does not have is "no such task".
    return value_or_throw(detail::parse_integer_in<int>(text, "process id", 1, std::numeric_limits<int>::max()));
}

namespace {

// "node 1", "nodes 0,2-3": the words a person writes for a non-empty node set.
std::string nodes_phrase(const NodeSet& nodes) {
    return fmt::format("{} {}", nodes.count() == 1 ? "node" : "nodes", to_list(nodes));
}

}  // namespace

void print_migration(const MigrationReport& r) {
    if (r.from.empty()) {
        fmt::print("pid {}: no pages outside {} to move\n", r.pid, nodes_phrase(r.to));
    } else {
        fmt::print("pid {}: pages on {} moved to {}\n", r.pid, nodes_phrase(r.from), nodes_phrase(r.to));
    }
    std::map<int, std::uint64_t> nodes;
    for (auto [n, p] : r.pages_before) nodes[n] += 0;
    for (auto [n, p] : r.pages_after) nodes[n] += 0;
    fmt::print("  {:>4}  {:>10}  {:>10}  {:>10}\n", "node", "before", "after", "change");
    for (auto [n, unused] : nodes) {
        auto before = r.pages_before.contains(n) ? r.pages_before.at(n) : 0;
        auto after = r.pages_after.contains(n) ? r.pages_after.at(n) : 0;
        fmt::print("  {:>4}  {:>10}  {:>10}  {:>+10}\n", n, before, after,
                   static_cast<long long>(after) - static_cast<long long>(before));
    }
    // With nothing to move there is no source node left to count pages on.
    if (r.from.empty()) {
        fmt::print("  pages not moved: {} (kernel)\n", r.pages_not_moved);
        return;
    }
    std::uint64_t left = 0;
    for (int n : r.from) left += r.pages_after.contains(n) ? r.pages_after.at(n) : 0;
    fmt::print("  pages not moved: {} (kernel), {} still on {}\n", r.pages_not_moved, left, nodes_phrase(r.from));
}

}  // namespace affine::cli
