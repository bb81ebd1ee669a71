// Asking the running daemon: the client side of the control socket, for the
// commands (pin --soft, run --soft, show, daemon status/reload).
#pragma once

#include <string>

#include "daemon/engine/daemon_protocol.hpp"
#include "affine/error.hpp"

namespace affine::daemon {

// What asking the daemon gave. `answer` is the response body, the daemon's own
// refusal as it said it (usage or failed), or a broken connection; when no daemon
// listens, `absent` is set and `answer` is the failure saying how to start one.
struct DaemonReply {
    Result<detail::Json> answer;
    bool absent = false;
};

// Sends one request to the daemon of state directory `state_dir` (see
// state_dir_path).
DaemonReply ask_daemon(const protocol::Request& request, const std::string& state_dir = "");

}  // namespace affine::daemon
