// Asking the running daemon: the client side of the control socket, for the
// commands (pin --soft, run --soft, show, daemon status/reload).
#pragma once

#include <string>

#include "daemon/engine/daemon_protocol.hpp"
#include "affine/error.hpp"

namespace affine::daemon {

// The errno of the error ask_daemon returns when no daemon listens.
inline constexpr int daemon_absent_code = ENOTCONN;

// Sends one request to the daemon of state directory `state_dir` (see
// state_dir_path) and returns the response body. Errors: no daemon runs (failed,
// code daemon_absent_code, saying how to start one); the daemon's own refusal, as
// it said it (usage or failed); a broken connection.
Result<detail::Json> ask_daemon(const protocol::Request& request, const std::string& state_dir = "");

inline bool is_daemon_absent(const Error& e) { return e.code == daemon_absent_code; }

}  // namespace affine::daemon
