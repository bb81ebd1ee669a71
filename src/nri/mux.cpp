#include "mux.hpp"

#include <fmt/format.h>

namespace affine::nri {

Result<std::string> encode_mux_frame(std::uint32_t conn, std::string_view payload) {
    if (conn == 0) return usage_error("NRI multiplexer: connection 0 is reserved");
    if (payload.size() > mux_max_payload)
        return usage_error(fmt::format("NRI multiplexer: a frame of {} bytes is above the {} allowed", payload.size(),
                                       mux_max_payload));
    std::string out;
    out.reserve(mux_header_bytes + payload.size());
    append_be32(out, conn);
    append_be32(out, static_cast<std::uint32_t>(payload.size()));
    out.append(payload);
    return out;
}

MuxDecoder::MuxDecoder() : splitter_(mux_header_bytes, 4, mux_max_payload, "NRI multiplexer frame") {}

Result<std::vector<MuxFrame>> MuxDecoder::feed(std::string_view bytes) {
    auto frames = splitter_.feed(bytes);
    if (!frames) return std::unexpected(frames.error());
    std::vector<MuxFrame> out;
    out.reserve(frames->size());
    for (std::string& frame : *frames) {
        std::uint32_t conn = read_be32(frame);
        if (conn == 0) return failure("NRI multiplexer frame on the reserved connection 0");
        out.push_back({conn, frame.substr(mux_header_bytes)});
    }
    return out;
}

}  // namespace affine::nri
