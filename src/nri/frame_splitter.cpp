#include "frame_splitter.hpp"

#include <fmt/format.h>

namespace affine::nri {

std::uint32_t read_be32(std::string_view bytes) {
    auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])); };
    return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

void append_be32(std::string& out, std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

FrameSplitter::FrameSplitter(std::size_t header_bytes, std::size_t length_offset, std::uint32_t max_payload,
                             std::string what)
    : header_bytes_(header_bytes), length_offset_(length_offset), max_payload_(max_payload), what_(std::move(what)) {}

Result<std::vector<std::string>> FrameSplitter::feed(std::string_view bytes) {
    if (!failed_.empty()) return failure(failed_);
    buffered_.append(bytes);
    std::vector<std::string> frames;
    std::size_t pos = 0;
    while (buffered_.size() - pos >= header_bytes_) {
        std::uint32_t length = read_be32(std::string_view(buffered_).substr(pos + length_offset_, 4));
        if (length > max_payload_) {
            failed_ = fmt::format("{} announces {} bytes, more than the {} allowed", what_, length, max_payload_);
            buffered_.clear();
            return failure(failed_);
        }
        std::size_t size = header_bytes_ + length;
        if (buffered_.size() - pos < size) break;
        frames.push_back(buffered_.substr(pos, size));
        pos += size;
    }
    buffered_.erase(0, pos);
    return frames;
}

}  // namespace affine::nri
