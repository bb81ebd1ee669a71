// Sweeping the tasks of a process (or of the host) until they hold still: the
// one loop behind `pin --all-threads` and `shield`. Internal to the Linux backend.
#pragma once

#include <functional>

#include "affine/error.hpp"
#include "syscalls.hpp"

namespace affine::linux_backend {

// What one sweep saw and did.
struct Sweep {
    bool changed = false;    // it had to change a task
    bool new_tasks = false;  // its listing held tasks the previous listing did not
};

struct Settling {
    int sweeps = 0;        // how many sweeps ran
    bool settled = true;   // false: tasks still needed changes after the last sweep allowed
};

// Runs `sweep` until the tasks hold still. A sweep lists the tasks and changes those
// that need it. A task cloned by one that had not been changed yet copies the old
// mask, and shows up in /proc only when its clone completes, which may be after a
// listing that looked complete: Linux offers no way to wait for clones in flight
// (outside a cpuset, nothing copies the parent's new mask later). So after a sweep
// that changed nothing, sweep again after quiet periods: when tasks were being
// started during the sweeps (a listing after the first held new ones), 1, 2, 4, ...
// 64 ms (127 ms in all); otherwise one of 2 ms. A sweep that changes something
// starts the quiet periods over. At most `max_sweeps` sweeps; an error from `sweep`
// ends the loop and is returned.
Result<Settling> sweep_until_settled(Syscalls& sys, int max_sweeps, const std::function<Result<Sweep>()>& sweep);

}  // namespace affine::linux_backend
