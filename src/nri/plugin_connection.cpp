#include "plugin_connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "session.hpp"

namespace affine::nri {

namespace {

Result<void> write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failure(fmt::format("write to the runtime: {}", std::strerror(errno)), errno);
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

}  // namespace

Result<UniqueFd> dial_runtime(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path))
        return usage_error(fmt::format("NRI socket path '{}' is longer than {} bytes", path, sizeof(addr.sun_path) - 1));
    std::memcpy(addr.sun_path, path.data(), path.size());
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return failure(fmt::format("socket: {}", std::strerror(errno)), errno);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0)
        return failure(fmt::format("connect to the NRI socket {}: {}", path, std::strerror(errno)), errno);
    return fd;
}

Result<ConnectionEnd> serve_connection(int fd, Plugin& plugin, const ConnectionOptions& options,
                                       const std::function<void(const std::string&)>& log,
                                       const std::atomic<bool>& stop) {
    Session session;
    auto registration = session.call("RegisterPlugin", register_plugin_request(options.name, options.index));
    if (!registration) return std::unexpected(registration.error());
    if (auto w = write_all(fd, registration->second); !w) return std::unexpected(w.error());
    bool registered = false;
    auto deadline = std::chrono::steady_clock::now() + options.registration_timeout;
    char buffer[64 * 1024];
    while (!stop.load()) {
        if (!registered && std::chrono::steady_clock::now() > deadline)
            return failure(fmt::format("the runtime did not answer the registration within {} ms",
                                       options.registration_timeout.count()));
        pollfd p{fd, POLLIN, 0};
        int ready = ::poll(&p, 1, 200);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return failure(fmt::format("poll: {}", std::strerror(errno)), errno);
        if (ready == 0) continue;
        ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return failure(fmt::format("read from the runtime: {}", std::strerror(errno)), errno);
        if (n == 0) return ConnectionEnd::closed;
        auto input = session.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
        if (!input) return std::unexpected(input.error());
        for (const std::string& what : input->ignored) log(fmt::format("ignored {}", what));
        for (const IncomingReply& reply : input->replies) {
            if (reply.stream == registration->first) {
                if (reply.response.code != 0)
                    return failure(fmt::format("the runtime refused the registration: {}", reply.response.message));
                registered = true;
                log(fmt::format("registered as {}-{}", options.index, options.name));
            } else if (reply.response.code != 0) {
                log(fmt::format("the runtime could not update containers: {}", reply.response.message));
            }
        }
        bool shutdown = false;
        for (const IncomingCall& call : input->calls) {
            PluginAnswer answer = plugin.handle(call.request);
            for (const std::string& line : answer.log) log(line);
            if (options.hand_soft)
                for (const SoftHandOff& soft : answer.soft) log(options.hand_soft(soft));
            auto bytes = session.reply(call.stream, answer.response);
            if (!bytes) return std::unexpected(bytes.error());
            if (auto w = write_all(fd, *bytes); !w) return std::unexpected(w.error());
            shutdown = shutdown || answer.shutdown;
        }
        if (auto updates = plugin.take_unsolicited_updates()) {
            auto bytes = session.call("UpdateContainers", std::move(*updates));
            if (!bytes) return std::unexpected(bytes.error());
            if (auto w = write_all(fd, bytes->second); !w) return std::unexpected(w.error());
        }
        if (shutdown) return ConnectionEnd::shutdown;
    }
    return ConnectionEnd::stopped;
}

}  // namespace affine::nri
