#include "session.hpp"

#include <fmt/format.h>

namespace affine::nri {

namespace {

// Wraps a ttrpc frame into one or more multiplexer frames on `conn`.
Result<std::string> framed(std::uint32_t conn, std::uint32_t stream, TtrpcType type, std::string_view envelope) {
    auto frame = encode_ttrpc_frame(stream, type, envelope);
    if (!frame) return frame;
    return encode_mux_frame(conn, *frame);
}

}  // namespace

Result<SessionInput> Session::feed(std::string_view bytes) {
    auto frames = mux_.feed(bytes);
    if (!frames) return std::unexpected(frames.error());
    SessionInput in;
    for (const MuxFrame& m : *frames) {
        if (m.conn != plugin_service_conn && m.conn != runtime_service_conn) {
            in.ignored.push_back(fmt::format("{} bytes on unknown connection {}", m.payload.size(), m.conn));
            continue;
        }
        bool plugin_side = m.conn == plugin_service_conn;
        auto ttrpc = (plugin_side ? plugin_service_ : runtime_service_).feed(m.payload);
        if (!ttrpc) return std::unexpected(ttrpc.error());
        for (const TtrpcFrame& t : *ttrpc) {
            if (plugin_side && t.type == TtrpcType::request) {
                auto request = decode_rpc_request(t.payload);
                if (!request) return std::unexpected(request.error());
                in.calls.push_back({t.stream, std::move(*request)});
            } else if (!plugin_side && t.type == TtrpcType::response) {
                auto response = decode_rpc_response(t.payload);
                if (!response) return std::unexpected(response.error());
                in.replies.push_back({t.stream, std::move(*response)});
            } else {
                in.ignored.push_back(fmt::format("ttrpc message of type {} on connection {}",
                                                 static_cast<int>(t.type), m.conn));
            }
        }
    }
    return in;
}

Result<std::string> Session::reply(std::uint32_t stream, const RpcResponse& response) const {
    return framed(plugin_service_conn, stream, TtrpcType::response, encode_rpc_response(response));
}

Result<std::pair<std::uint32_t, std::string>> Session::call(std::string_view method, std::string payload) {
    std::uint32_t stream = next_stream_;
    RpcRequest request{std::string(runtime_service_name), std::string(method), std::move(payload), 0};
    auto bytes = framed(runtime_service_conn, stream, TtrpcType::request, encode_rpc_request(request));
    if (!bytes) return std::unexpected(bytes.error());
    next_stream_ += 2;  // client streams are odd
    return std::pair{stream, std::move(*bytes)};
}

}  // namespace affine::nri
