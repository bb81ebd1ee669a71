// The one owner of a file descriptor: closes it on every path out of a scope.
// Move-only; `release()` hands the descriptor on (for a close whose result counts,
// or to another owner). A negative descriptor is "none".
#pragma once

#include <unistd.h>

#include <utility>

namespace affine {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    [[nodiscard]] int get() const { return fd_; }
    [[nodiscard]] bool valid() const { return fd_ >= 0; }
    explicit operator bool() const { return valid(); }
    // The descriptor, no longer owned.
    int release() { return std::exchange(fd_, -1); }
    // Closes the descriptor held (if any) and owns `fd` instead.
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

}  // namespace affine
