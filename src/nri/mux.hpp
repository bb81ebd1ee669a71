// NRI's connection multiplexer: several logical connections over the one socket
// between a runtime and a plugin. Every frame is an 8-byte header (connection id,
// payload length: big-endian 32-bit each) and the payload, a piece of that
// connection's byte stream. Connection 1 carries the plugin service (the runtime
// calls the plugin), connection 2 the runtime service (the plugin calls the
// runtime); 0 is reserved. Pure: bytes in, frames out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "frame_splitter.hpp"

namespace affine::nri {

inline constexpr std::uint32_t plugin_service_conn = 1;
inline constexpr std::uint32_t runtime_service_conn = 2;
inline constexpr std::size_t mux_header_bytes = 8;
// The largest payload the runtime's multiplexer accepts (NRI v0.6 to v0.12: 16 MiB).
inline constexpr std::uint32_t mux_max_payload = 1u << 24;

struct MuxFrame {
    std::uint32_t conn = 0;
    std::string payload;
};

// One frame of `payload` on `conn`. Usage error when the payload is above
// mux_max_payload or conn is 0.
Result<std::string> encode_mux_frame(std::uint32_t conn, std::string_view payload);

class MuxDecoder {
public:
    MuxDecoder();
    // The frames completed by `bytes`, in order. Failed error for an oversized frame
    // or a frame on the reserved connection 0 (the stream is then unusable). Frames
    // of connections other than 1 and 2 are returned: the caller decides.
    Result<std::vector<MuxFrame>> feed(std::string_view bytes);

private:
    FrameSplitter splitter_;
};

}  // namespace affine::nri
