// The daemon's state directory (/run/affine by default): the instance lock, the
// journal (a StateFile, src/state), the control socket.
#pragma once

#include <optional>
#include <string>

#include "os/unique_fd.hpp"
#include "affine/error.hpp"

namespace affine::daemon {

// --state-dir, else $AFFINE_STATE_DIR, else /run/affine.
std::string state_dir_path(const std::string& option);

// The paths of the daemon's files in `dir`.
std::string lock_path(const std::string& dir);     // daemon.lock: flock'ed while a daemon runs
std::string journal_path(const std::string& dir);  // soft-affinity.json
std::string socket_path(const std::string& dir);   // daemon.sock

// Creates `dir` (mode 0755, so unprivileged clients reach the socket) when missing;
// refuses a path that is a symlink or not a directory, or that another user owns.
Result<void> prepare_state_dir(const std::string& dir);

// The instance lock: held for the daemon's life (the file descriptor stays open).
class InstanceLock {
public:
    // Takes the lock without waiting; failed error naming the pid that holds it.
    static Result<InstanceLock> acquire(const std::string& dir);

private:
    explicit InstanceLock(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

// Reads `path` without following a symlink; nullopt when it does not exist.
Result<std::optional<std::string>> read_file_nofollow(const std::string& path);

}  // namespace affine::daemon
