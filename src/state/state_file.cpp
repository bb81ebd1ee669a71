#include "state_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace affine {
namespace {

std::unexpected<Error> io_failure(const std::string& what, int code) {
    return failure(fmt::format("{}: {}", what, std::strerror(code)), code);
}

std::string parent_dir(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

Result<void> make_dirs(const std::string& dir) {
    if (dir.empty() || dir == "/" || dir == ".") return {};
    struct stat st{};
    if (::stat(dir.c_str(), &st) == 0) return {};
    if (auto parent = make_dirs(parent_dir(dir)); !parent) return parent;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return io_failure("create " + dir, errno);
    return {};
}


Result<void> write_all(int fd, std::string_view text, const std::string& name) {
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_failure("write " + name, errno);
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

}  // namespace

Result<StateFile> StateFile::lock(std::string path, LockWait wait, ParentDirs dirs) {
    if (path.empty()) return usage_error("state file: empty path");
    if (dirs == ParentDirs::create)
        if (auto made = make_dirs(parent_dir(path)); !made) return std::unexpected(made.error());
    std::string lock_path = path + ".lock";
    UniqueFd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return io_failure("open the lock file " + lock_path, errno);
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) return io_failure("stat " + lock_path, errno);
    if (!S_ISREG(st.st_mode)) return failure(fmt::format("{} is not a regular file", lock_path), EINVAL);
    int op = LOCK_EX | (wait == LockWait::fail_if_held ? LOCK_NB : 0);
    while (::flock(fd.get(), op) != 0) {
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK)
            return failure(fmt::format("{} is in use by another affine process (it holds {})", path, lock_path),
                           EWOULDBLOCK);
        return io_failure("lock " + lock_path, errno);
    }
    return StateFile(std::move(path), std::move(fd));
}

Result<std::optional<std::string>> StateFile::read() const {
    UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return std::optional<std::string>();
        if (errno == ELOOP) return failure(fmt::format("{} is a symbolic link; a state file must not be one", path_), ELOOP);
        return io_failure("read " + path_, errno);
    }
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) return io_failure("stat " + path_, errno);
    if (!S_ISREG(st.st_mode)) return failure(fmt::format("{} is not a regular file", path_), EINVAL);
    std::string text;
    char buf[65536];
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_failure("read " + path_, errno);
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    return std::optional<std::string>(std::move(text));
}

Result<void> StateFile::write(std::string_view contents) {
    std::string dir = parent_dir(path_);
    std::string tmp = path_ + ".XXXXXX";
    // mkstemp creates the file O_EXCL with mode 0600: a name nobody else holds.
    UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (!fd) return io_failure(fmt::format("create a temporary file beside {}", path_), errno);
    auto discard = [&](std::unexpected<Error> e) {
        ::unlink(tmp.c_str());
        return e;
    };
    if (auto w = write_all(fd.get(), contents, tmp); !w) return discard(std::unexpected(w.error()));
    if (::fsync(fd.get()) != 0) return discard(io_failure("sync " + tmp, errno));
    if (::close(fd.release()) != 0) return discard(io_failure("close " + tmp, errno));
    if (::rename(tmp.c_str(), path_.c_str()) != 0)
        return discard(io_failure(fmt::format("rename {} to {}", tmp, path_), errno));
    // The rename is durable once the directory is.
    UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd) return io_failure("open the directory " + dir, errno);
    if (::fsync(dfd.get()) != 0) return io_failure("sync the directory " + dir, errno);
    return {};
}

Result<int> StateFile::remove_leftover_temporaries() {
    std::string dir = parent_dir(path_);
    auto slash = path_.rfind('/');
    std::string prefix = path_.substr(slash == std::string::npos ? 0 : slash + 1) + ".";
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return io_failure("read the directory " + dir, errno);
    int removed = 0;
    while (const dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        // mkostemp's six letters and digits after the state file's name.
        if (!name.starts_with(prefix) || name.size() != prefix.size() + 6) continue;
        if (!std::ranges::all_of(name.substr(prefix.size()), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }))
            continue;
        if (::unlinkat(::dirfd(d), e->d_name, 0) == 0) ++removed;
    }
    ::closedir(d);
    return removed;
}

Result<void> StateFile::remove() {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) return io_failure("remove " + path_, errno);
    return {};
}

}  // namespace affine
