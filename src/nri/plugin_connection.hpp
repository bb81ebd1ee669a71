// The socket edge of `affine nri`: dials the runtime's NRI socket (or takes the
// socket a runtime handed a pre-registered plugin), registers, and serves the
// plugin's calls until the connection ends. Reads and writes the socket; the protocol
// is in session.hpp, the answers in plugin.hpp.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "affine/error.hpp"
#include "plugin.hpp"
#include "os/unique_fd.hpp"

namespace affine::nri {

struct ConnectionOptions {
    std::string name = "affine";  // the plugin's name and index as the runtime lists it
    std::string index = "90";
    // The runtime closes a plugin that has not registered within 5 s (its default);
    // the registration answer is awaited this long.
    std::chrono::milliseconds registration_timeout{5000};
    // Hands a soft container that started to the daemon; returns the line to log.
    // Unset: soft containers keep the whole shared pool, nothing else.
    std::function<std::string(const SoftHandOff&)> hand_soft;
};

enum class ConnectionEnd {
    closed,    // the runtime closed the connection (it stopped or restarted)
    shutdown,  // the runtime asked the plugin to shut down
    stopped,   // `stop` was set (a signal)
};

// Connects to the runtime's NRI socket at `path`. Failed error with the reason.
Result<UniqueFd> dial_runtime(const std::string& path);

// Registers on the connected socket `fd` and serves until the connection ends. Every
// log line goes to `log`. Failed error when the registration is refused or times
// out, or the stream is broken. Does not close `fd`.
Result<ConnectionEnd> serve_connection(int fd, Plugin& plugin, const ConnectionOptions& options,
                                       const std::function<void(const std::string&)>& log,
                                       const std::atomic<bool>& stop);

}  // namespace affine::nri
