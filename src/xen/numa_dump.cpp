#include "numa_dump.hpp"

#include <bit>
#include <charconv>
#include <cstdint>

#include "core/text.hpp"

namespace affine::xen {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// Drops the console prefixes Xen may put before a message: "(XEN) " and a
// "[timestamp] " when console_timestamps is on.
std::string_view message_of(std::string_view line) {
    line = trim(line);
    if (line.starts_with("(XEN)")) line = trim(line.substr(5));
    if (line.starts_with("[")) {
        auto close = line.find(']');
        if (close != std::string_view::npos) line = trim(line.substr(close + 1));
    }
    return line;
}

bool parse_number(std::string_view text, std::uint64_t& out) {
    text = trim(text);
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && ptr == text.data() + text.size();
}

// Calls f(message) for each console line, prefixes dropped.
template <typename F>
void for_each_message(std::string_view console, F f) {
    for (std::string_view line : detail::lines_of(console)) f(message_of(line));
}

// The number after `key` in `line` ("start->" of "NODE0 start->0 size->..."), up to
// the next space.
std::optional<std::uint64_t> number_after(std::string_view line, std::string_view key) {
    auto at = line.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view rest = line.substr(at + key.size());
    std::uint64_t value = 0;
    if (!parse_number(rest.substr(0, rest.find(' ')), value)) return std::nullopt;
    return value;
}

}  // namespace

DomainMemory parse_numa_dump(std::string_view console) {
    DomainMemory last;     // the most recent complete dump
    DomainMemory current;  // the dump being read
    bool in_dump = false;
    int domid = -1;
    for_each_message(console, [&](std::string_view line) {
        if (line == "Memory location of each domain:") {
            if (in_dump) last = std::move(current);
            current.clear();
            in_dump = true;
            domid = -1;
            return;
        }
        if (!in_dump) return;
        // "Domain 1 (total: 32768):" (Xen 4.17) or "d1 (total: 32768):" (later).
        std::string_view rest;
        if (line.starts_with("Domain ")) rest = line.substr(7);
        else if (line.starts_with("d") && line.size() > 1 && line[1] >= '0' && line[1] <= '9') rest = line.substr(1);
        auto total = line.find(" (total: ");
        std::uint64_t value = 0;
        if (!rest.empty() && total != std::string_view::npos && line.ends_with("):")) {
            if (parse_number(rest.substr(0, rest.find(' ')), value)) {
                domid = static_cast<int>(value);
                current[domid];
                return;
            }
        }
        if (line.starts_with("Node ") && domid >= 0) {
            auto colon = line.find(':');
            std::uint64_t node = 0;
            if (colon != std::string_view::npos && parse_number(line.substr(5, colon - 5), node) &&
                parse_number(line.substr(colon + 1), value)) {
                current[domid][static_cast<int>(node)] = value * page_bytes;
                return;
            }
        }
        // Any other line ends the block (the next key's output, or a log message).
        last = std::move(current);
        current.clear();
        in_dump = false;
        domid = -1;
    });
    if (in_dump) last = std::move(current);
    return last;
}

HeapLayout parse_heap_layout(std::string_view console) {
    HeapLayout layout;
    for_each_message(console, [&](std::string_view line) {
        if (line.starts_with("Domain heap initialised")) {
            layout.dma_bits = 0;
            if (auto bits = number_after(line, "DMA width ")) layout.dma_bits = static_cast<unsigned>(*bits);
            return;
        }
        if (line.starts_with("'u' pressed")) {  // a new dump: the last one counts
            layout.nodes.clear();
            return;
        }
        // "NODE0 start->0 size->327680 free->203046"
        std::uint64_t node = 0;
        if (!line.starts_with("NODE") || !parse_number(line.substr(4, line.find(' ') - 4), node)) return;
        auto start = number_after(line, "start->");
        auto size = number_after(line, "size->");
        if (!start || !size) return;
        layout.nodes[static_cast<int>(node)] = NodeSpan{*start, *size};
    });
    return layout;
}

unsigned x86_dma_bits(const std::map<int, NodeSpan>& nodes) {
    constexpr std::uint64_t pfns_below_4g = std::uint64_t{1} << (32 - 12);
    for (const auto& [id, span] : nodes) {
        if (span.spanned_pages == 0 || span.start_pfn >= pfns_below_4g) continue;
        std::uint64_t last = span.start_pfn + span.spanned_pages / 4 - 1;
        unsigned bits = static_cast<unsigned>(std::bit_width(last)) + 12;
        return bits < 32 ? bits : 32;
    }
    return 0;
}

std::optional<unsigned> dma_bits_option(std::string_view command_line) {
    std::optional<unsigned> value;  // the last one counts, as Xen parses left to right
    for (std::string_view word : detail::words_of(command_line)) {
        if (!word.starts_with("dma_bits=")) continue;
        std::uint64_t bits = 0;
        if (parse_number(word.substr(9), bits) && bits <= 64) value = static_cast<unsigned>(bits);
    }
    return value;
}

}  // namespace affine::xen
