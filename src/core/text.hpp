// Splitting text read from the kernel, the hypervisor and files into lines and
// words: one way, so that every reader treats a missing last newline alike.
#pragma once

#include <string_view>
#include <vector>

namespace affine::detail {

// The lines of `text`, without their '\n'; a last line without one counts.
inline std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        lines.push_back(text.substr(pos, end - pos));
        pos = end + 1;
    }
    return lines;
}

// The words of `text`, between spaces, tabs and newlines.
inline std::vector<std::string_view> words_of(std::string_view text) {
    std::vector<std::string_view> words;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto start = text.find_first_not_of(" \t\n", pos);
        if (start == std::string_view::npos) break;
        auto end = text.find_first_of(" \t\n", start);
        if (end == std::string_view::npos) end = text.size();
        words.push_back(text.substr(start, end - start));
        pos = end;
    }
    return words;
}

}  // namespace affine::detail
