// ttrpc, containerd's RPC protocol, as NRI uses it inside each multiplexed
// connection: a 10-byte header (payload length, stream id: big-endian 32-bit; message
// type; flags) and a protobuf payload, a Request envelope from the client or a
// Response envelope from the server; a unary call is one of each on one stream
// (client streams have odd ids). Pure: bytes in, messages out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "frame_splitter.hpp"

namespace affine::nri {

inline constexpr std::size_t ttrpc_header_bytes = 10;
inline constexpr std::uint32_t ttrpc_max_payload = 4u << 20;  // ttrpc's message limit

enum class TtrpcType : std::uint8_t { request = 1, response = 2, data = 3 };

// The status codes of google.rpc (the subset a plugin answers with).
enum class RpcCode : std::int32_t { ok = 0, invalid_argument = 3, internal = 13, unimplemented = 12 };

struct TtrpcFrame {
    std::uint32_t stream = 0;
    TtrpcType type = TtrpcType::request;
    std::uint8_t flags = 0;
    std::string payload;
};

// A decoded Request envelope.
struct RpcRequest {
    std::string service;  // "nri.pkg.api.v1alpha1.Plugin"
    std::string method;   // "CreateContainer"
    std::string payload;  // the encoded request message
    std::int64_t timeout_nano = 0;
};

// A decoded Response envelope: status code 0 and the encoded answer, or an error.
struct RpcResponse {
    std::int32_t code = 0;
    std::string message;
    std::string payload;
};

// One frame. Usage error when the payload is above ttrpc_max_payload.
Result<std::string> encode_ttrpc_frame(std::uint32_t stream, TtrpcType type, std::string_view payload,
                                       std::uint8_t flags = 0);

class TtrpcDecoder {
public:
    TtrpcDecoder();
    // The frames completed by `bytes`. Failed error for an oversized frame or an
    // unknown message type (the stream is then unusable).
    Result<std::vector<TtrpcFrame>> feed(std::string_view bytes);

private:
    FrameSplitter splitter_;
};

// The envelopes (ttrpc.cpp; the frames are in ttrpc_frame.cpp). Decoding: failed error naming the envelope when the bytes are not one.
std::string encode_rpc_request(const RpcRequest& request);
Result<RpcRequest> decode_rpc_request(std::string_view bytes);
std::string encode_rpc_response(const RpcResponse& response);
Result<RpcResponse> decode_rpc_response(std::string_view bytes);

}  // namespace affine::nri
