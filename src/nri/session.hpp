// One plugin's side of a runtime connection, as bytes: the multiplexer, ttrpc on
// each of the two connections, and the envelopes. Pure: the edge reads the socket
// into feed() and writes what reply() and call() return.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "affine/error.hpp"
#include "mux.hpp"
#include "ttrpc.hpp"

namespace affine::nri {

// A call of the runtime to the plugin service.
struct IncomingCall {
    std::uint32_t stream = 0;
    RpcRequest request;
};

// The runtime's answer to a call of the plugin.
struct IncomingReply {
    std::uint32_t stream = 0;
    RpcResponse response;
};

struct SessionInput {
    std::vector<IncomingCall> calls;
    std::vector<IncomingReply> replies;
    std::vector<std::string> ignored;  // what was skipped, and why (for the log)
};

class Session {
public:
    // What `bytes` completed. Failed error when the stream is broken (an oversized
    // frame, a reserved connection, a malformed envelope): the connection must close.
    Result<SessionInput> feed(std::string_view bytes);

    // The bytes that answer the runtime's call on `stream`.
    Result<std::string> reply(std::uint32_t stream, const RpcResponse& response) const;

    // The bytes of a call of the plugin to the runtime service, and its stream id.
    Result<std::pair<std::uint32_t, std::string>> call(std::string_view method, std::string payload);

private:
    MuxDecoder mux_;
    TtrpcDecoder plugin_service_;
    TtrpcDecoder runtime_service_;
    std::uint32_t next_stream_ = 1;
};

inline constexpr std::string_view plugin_service_name = "nri.pkg.api.v1alpha1.Plugin";
inline constexpr std::string_view runtime_service_name = "nri.pkg.api.v1alpha1.Runtime";

}  // namespace affine::nri
