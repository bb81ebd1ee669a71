// State files: small files of state that several affine processes read and change
// (the shield journal, a simulated Xen host, the daemon's state). One way to hold
// them, as util-linux holds its lock and state files:
//
// - Lock for the whole read-modify-write cycle. StateFile::lock takes flock(2)
//   (exclusive) on PATH.lock, a file beside the state file that is created once and
//   never removed: the state file itself is replaced on every write, so a lock on it
//   would be a lock on a file that is no longer there. The lock is released when
//   the StateFile is destroyed (or the process ends, even by a crash: the kernel
//   drops flock locks with the last descriptor), so a stale lock cannot outlive
//   its holder.
// - Write atomically. write() puts the contents in a unique temporary in the same
//   directory (mkstemp: created O_EXCL, mode 0600), fsyncs it, renames it over
//   PATH and fsyncs the directory: a reader sees the old or the new contents, never
//   a mix, also after a crash or power loss.
// - Follow no symlink. PATH and PATH.lock are opened with O_NOFOLLOW and must be
//   regular files; rename(2) replaces a symlink at PATH instead of writing through
//   it. A state file in a shared directory cannot be turned against another file.
//
// Reading without the lock is allowed (a write never shows half a file) but sees a
// state that may change at once; whoever decides from the contents takes the lock.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "affine/error.hpp"
#include "os/unique_fd.hpp"

namespace affine {

// What lock() does when another process holds the lock.
enum class LockWait {
    wait,          // block until it is released (short read-modify-write cycles)
    fail_if_held,  // fail at once with EWOULDBLOCK (long operations a user starts)
};

// Whether lock() creates the directory of the state file (mode 0755) if missing.
enum class ParentDirs { must_exist, create };

class StateFile {
public:
    // Takes the lock of the state file `path` (which need not exist yet). Errors:
    // EWOULDBLOCK with LockWait::fail_if_held when another process holds it ("PATH
    // is in use by another affine process"); ENOENT when the directory is missing
    // (ParentDirs::must_exist); ELOOP when PATH.lock is a symlink; EACCES and the
    // like from open(2). Messages name the file; callers add what they were doing.
    static Result<StateFile> lock(std::string path, LockWait wait, ParentDirs dirs = ParentDirs::must_exist);

    [[nodiscard]] const std::string& path() const { return path_; }

    // The contents, or nullopt when the file does not exist. Fails when PATH is a
    // symlink or not a regular file, or cannot be read.
    [[nodiscard]] Result<std::optional<std::string>> read() const;

    // Replaces the contents atomically (see above); the file has mode 0600. On
    // failure the previous contents are intact and no temporary is left behind.
    Result<void> write(std::string_view contents);

    // Removes the state file (not the lock file); removing a missing file succeeds.
    Result<void> remove();

    // Removes the temporaries a writer killed before its rename left beside PATH
    // (PATH.XXXXXX, as write() names them); returns how many. The state file itself
    // is still the last whole one.
    Result<int> remove_leftover_temporaries();

private:
    StateFile(std::string path, UniqueFd lock_fd) : path_(std::move(path)), lock_fd_(std::move(lock_fd)) {}
    std::string path_;
    UniqueFd lock_fd_;  // closing it releases the lock
};

}  // namespace affine
