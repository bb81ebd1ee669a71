// The ttrpc frames (no protobuf here: the envelopes are in ttrpc.cpp).
#include <fmt/format.h>

#include "ttrpc.hpp"

namespace affine::nri {

Result<std::string> encode_ttrpc_frame(std::uint32_t stream, TtrpcType type, std::string_view payload,
                                       std::uint8_t flags) {
    if (payload.size() > ttrpc_max_payload)
        return usage_error(fmt::format("ttrpc: a message of {} bytes is above the {} allowed", payload.size(),
                                       ttrpc_max_payload));
    std::string out;
    out.reserve(ttrpc_header_bytes + payload.size());
    append_be32(out, static_cast<std::uint32_t>(payload.size()));
    append_be32(out, stream);
    out.push_back(static_cast<char>(type));
    out.push_back(static_cast<char>(flags));
    out.append(payload);
    return out;
}

TtrpcDecoder::TtrpcDecoder() : splitter_(ttrpc_header_bytes, 0, ttrpc_max_payload, "ttrpc frame") {}

Result<std::vector<TtrpcFrame>> TtrpcDecoder::feed(std::string_view bytes) {
    auto frames = splitter_.feed(bytes);
    if (!frames) return std::unexpected(frames.error());
    std::vector<TtrpcFrame> out;
    out.reserve(frames->size());
    for (const std::string& frame : *frames) {
        auto type = static_cast<std::uint8_t>(frame[8]);
        if (type < 1 || type > 3) return failure(fmt::format("ttrpc frame of unknown type {}", type));
        out.push_back({read_be32(std::string_view(frame).substr(4)), static_cast<TtrpcType>(type),
                       static_cast<std::uint8_t>(frame[9]), frame.substr(ttrpc_header_bytes)});
    }
    return out;
}

}  // namespace affine::nri
