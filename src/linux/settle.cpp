// The sweep loop of pin --all-threads and shield.
#include "settle.hpp"

#include <array>
#include <chrono>
#include <cstddef>

namespace affine::linux_backend {
namespace {

using std::chrono::milliseconds;

// The quiet periods after a sweep that changed nothing. A clone in flight takes
// microseconds on a quiet host; under load, or on a virtual CPU the host has
// descheduled, it can take tens of milliseconds.
constexpr std::array quiet_periods{milliseconds(1),  milliseconds(2),  milliseconds(4), milliseconds(8),
                                   milliseconds(16), milliseconds(32), milliseconds(64)};

}  // namespace

Result<Settling> sweep_until_settled(Syscalls& sys, int max_sweeps, const std::function<Result<bool>()>& sweep) {
    Settling s;
    std::size_t quiet = 0;  // quiet periods passed since the last change
    while (s.sweeps < max_sweeps) {
        ++s.sweeps;
        auto changed = sweep();
        if (!changed) return std::unexpected(changed.error());
        if (*changed) {
            quiet = 0;
            continue;
        }
        if (quiet == quiet_periods.size()) return s;
        sys.sleep_for(quiet_periods[quiet++]);
    }
    s.settled = false;
    return s;
}

}  // namespace affine::linux_backend
