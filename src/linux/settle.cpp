// The sweep loop of pin --all-threads and shield.
#include "settle.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <span>

namespace affine::linux_backend {
namespace {

using std::chrono::milliseconds;

// The quiet periods after a sweep that changed nothing. A clone in flight takes
// microseconds on a quiet host; under load, or on a virtual CPU the host has
// descheduled, it can take tens of milliseconds. A process that started no task
// while affine swept is unlikely to have a clone in flight, and each extra sweep
// of a process with 10,000 threads costs a 15 ms listing: one short period there.
constexpr std::array busy_quiet_periods{milliseconds(1),  milliseconds(2),  milliseconds(4), milliseconds(8),
                                        milliseconds(16), milliseconds(32), milliseconds(64)};
constexpr std::array still_quiet_periods{milliseconds(2)};

}  // namespace

Result<Settling> sweep_until_settled(Syscalls& sys, int max_sweeps, const std::function<Result<Sweep>()>& sweep) {
    Settling s;
    std::size_t quiet = 0;  // quiet periods passed since the last change
    bool busy = false;      // a listing after the first held new tasks
    while (s.sweeps < max_sweeps) {
        auto done = sweep();
        if (!done) return std::unexpected(done.error());
        if (++s.sweeps > 1 && done->new_tasks) busy = true;
        if (done->changed) {
            quiet = 0;
            continue;
        }
        std::span<const milliseconds> periods = busy_quiet_periods;
        if (!busy) periods = still_quiet_periods;
        if (quiet >= periods.size()) return s;
        sys.sleep_for(periods[quiet++]);
    }
    s.settled = false;
    return s;
}

}  // namespace affine::linux_backend
