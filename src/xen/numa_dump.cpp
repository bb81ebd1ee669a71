#include "numa_dump.hpp"

#include <charconv>
#include <cstdint>

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

}  // namespace

DomainMemory parse_numa_dump(std::string_view console) {
    DomainMemory last;     // the most recent complete dump
    DomainMemory current;  // the dump being read
    bool in_dump = false;
    int domid = -1;
    std::size_t pos = 0;
    while (pos < console.size()) {
        auto end = console.find('\n', pos);
        if (end == std::string_view::npos) end = console.size();
        std::string_view line = message_of(console.substr(pos, end - pos));
        pos = end + 1;
        if (line == "Memory location of each domain:") {
            if (in_dump) last = std::move(current);
            current.clear();
            in_dump = true;
            domid = -1;
            continue;
        }
        if (!in_dump) continue;
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
                continue;
            }
        }
        if (line.starts_with("Node ") && domid >= 0) {
            auto colon = line.find(':');
            std::uint64_t node = 0;
            if (colon != std::string_view::npos && parse_number(line.substr(5, colon - 5), node) &&
                parse_number(line.substr(colon + 1), value)) {
                current[domid][static_cast<int>(node)] = value * page_bytes;
                continue;
            }
        }
        // Any other line ends the block (the next key's output, or a log message).
        last = std::move(current);
        current.clear();
        in_dump = false;
        domid = -1;
    }
    if (in_dump) last = std::move(current);
    return last;
}

}  // namespace affine::xen
