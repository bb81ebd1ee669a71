// Splitting a byte stream into length-prefixed frames: the one reader under both of
// NRI's framings (the connection multiplexer and ttrpc inside each connection).
//
// A frame is a fixed-size header holding its payload length as a big-endian 32-bit
// integer at a fixed offset, then the payload. Bytes arrive as the socket gives
// them: a frame may be split over many reads and a read may hold many frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"

namespace affine::nri {

// The big-endian 32-bit integer at `bytes[0..4)`; `bytes` holds at least 4 bytes.
std::uint32_t read_be32(std::string_view bytes);
// Appends `value` as 4 big-endian bytes.
void append_be32(std::string& out, std::uint32_t value);

class FrameSplitter {
public:
    // `what` names the framing in errors ("NRI multiplexer frame").
    FrameSplitter(std::size_t header_bytes, std::size_t length_offset, std::uint32_t max_payload, std::string what);

    // Appends `bytes` and returns every frame now complete (header and payload), in
    // order; a partial frame stays buffered. Failed error when a header announces a
    // payload above the maximum: the stream cannot be resynchronised, so the
    // splitter stays failed and every later call returns the same error.
    Result<std::vector<std::string>> feed(std::string_view bytes);

    // True when no partial frame is buffered.
    [[nodiscard]] bool idle() const { return buffered_.empty(); }

private:
    std::size_t header_bytes_;
    std::size_t length_offset_;
    std::uint32_t max_payload_;
    std::string what_;
    std::string buffered_;
    std::string failed_;
};

}  // namespace affine::nri
