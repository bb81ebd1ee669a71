#include "state_dir.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace affine::daemon {
namespace {

std::unexpected<Error> sys_failure(const std::string& what, int err) {
    return failure(fmt::format("{}: {}", what, std::strerror(err)), err);
}

}  // namespace

std::string state_dir_path(const std::string& option) {
    if (!option.empty()) return option;
    const char* env = std::getenv("AFFINE_STATE_DIR");
    return env != nullptr && *env != '\0' ? env : "/run/affine";
}

std::string lock_path(const std::string& dir) { return dir + "/daemon.lock"; }
std::string journal_path(const std::string& dir) { return dir + "/soft-affinity.json"; }
std::string socket_path(const std::string& dir) { return dir + "/daemon.sock"; }

Result<void> prepare_state_dir(const std::string& dir) {
    struct stat st{};
    if (::lstat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT) return sys_failure(fmt::format("state directory {}", dir), errno);
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
            return sys_failure(fmt::format("create the state directory {}", dir), errno);
        if (::lstat(dir.c_str(), &st) != 0) return sys_failure(fmt::format("state directory {}", dir), errno);
    }
    if (S_ISLNK(st.st_mode)) return failure(fmt::format("state directory {} is a symlink; refusing it", dir), ELOOP);
    if (!S_ISDIR(st.st_mode)) return failure(fmt::format("state directory {} is not a directory", dir), ENOTDIR);
    if (st.st_uid != ::geteuid())
        return failure(fmt::format("state directory {} belongs to uid {}, not to this daemon's uid {}", dir, st.st_uid,
                                   ::geteuid()),
                       EPERM);
    if ((st.st_mode & 0022) != 0)
        return failure(fmt::format("state directory {} is writable by others (mode {:o}); make it 0755", dir,
                                   st.st_mode & 07777),
                       EPERM);
    return {};
}

Result<InstanceLock> InstanceLock::acquire(const std::string& dir) {
    std::string path = lock_path(dir);
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return sys_failure(fmt::format("open the lock {}", path), errno);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char buf[32] = {};
        ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
        std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "?";
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
        if (err == EWOULDBLOCK)
            return failure(fmt::format("another affine daemon runs on this host (pid {}, lock {})", holder, path),
                           EBUSY);
        return sys_failure(fmt::format("lock {}", path), err);
    }
    std::string pid = fmt::format("{}\n", ::getpid());
    if (::ftruncate(fd.get(), 0) != 0 ||
        ::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
        return sys_failure(fmt::format("write {}", path), errno);
    return InstanceLock(std::move(fd));
}

Result<std::optional<std::string>> read_file_nofollow(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        if (errno == ELOOP) return failure(fmt::format("{} is a symlink; refusing to read it", path), ELOOP);
        return sys_failure(fmt::format("read {}", path), errno);
    }
    std::string text;
    char buf[65536];
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return sys_failure(fmt::format("read {}", path), errno);
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    return text;
}

}  // namespace affine::daemon
