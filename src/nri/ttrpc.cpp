#include "ttrpc.hpp"

#include <fmt/format.h>

#include "ttrpc.pb.h"

namespace affine::nri {

std::string encode_rpc_request(const RpcRequest& request) {
    ttrpc::Request message;
    message.set_service(request.service);
    message.set_method(request.method);
    message.set_payload(request.payload);
    message.set_timeout_nano(request.timeout_nano);
    return message.SerializeAsString();
}

Result<RpcRequest> decode_rpc_request(std::string_view bytes) {
    ttrpc::Request message;
    if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        return failure("ttrpc: the request envelope is not a valid ttrpc.Request");
    return RpcRequest{message.service(), message.method(), message.payload(), message.timeout_nano()};
}

std::string encode_rpc_response(const RpcResponse& response) {
    ttrpc::Response message;
    if (response.code != 0 || !response.message.empty()) {
        message.mutable_status()->set_code(response.code);
        message.mutable_status()->set_message(response.message);
    }
    message.set_payload(response.payload);
    return message.SerializeAsString();
}

Result<RpcResponse> decode_rpc_response(std::string_view bytes) {
    ttrpc::Response message;
    if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        return failure("ttrpc: the response envelope is not a valid ttrpc.Response");
    return RpcResponse{message.status().code(), message.status().message(), message.payload()};
}

}  // namespace affine::nri
