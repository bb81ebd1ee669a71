// Sweeping the tasks of a process (or of the host) until they hold still: the
// one loop behind `pin --all-threads` and `shield`. Internal to the Linux backend.
#pragma once

#include <functional>
#include <vector>

#include "affine/error.hpp"
#include "procfs.hpp"

namespace affine::linux_backend {

// What one sweep saw and did.
struct Sweep {
    std::vector<int> changed;  // the tasks it changed
    bool new_tasks = false;    // its listing held tasks the previous listing did not
    // A listed task exited before it could be changed: it may have had the old mask
    // and started a task the listing did not show, which the next sweep lists.
    bool exited_unchanged = false;
};

struct Settling {
    int sweeps = 0;        // how many sweeps ran
    bool settled = true;   // false: tasks still needed changes after the last sweep allowed
};

// Whether task `tid` is now outside any clone: it has exited, or /proc/TID/syscall
// shows it blocked in a system call other than clone, clone3, fork and vfork (or
// outside one). Reading that file needs the rights of ptrace.
enum class CloneCheck { outside, maybe_inside, cannot_tell };
CloneCheck clone_check(const SysFs& fs, int tid);

// Runs `sweep` until the tasks hold still. A sweep lists the tasks and changes those
// that need it. A task cloned by one that had not been changed yet copies the old
// mask, and shows up in /proc only when its clone completes, which may be after a
// listing that looked complete; outside a cpuset nothing copies the parent's new
// mask later. So, when tasks were being started during the sweeps (a listing after
// the first held new ones), every changed task must be seen outside a clone after
// its change (clone_check), and then one more sweep must change nothing and see no
// task exit unchanged; between sweeps affine waits 1, 2, 4, ... 64 ms and then 64
// ms at a time, at most 1 s after the last change. A changed task whose state
// cannot be told gets the waits up to 127 ms. When no task was started during the
// sweeps, one wait of 2 ms (and more while tasks exit unchanged, up to 1 s). A
// sweep that changes something starts the waits over. At most `max_sweeps` sweeps;
// an error from `sweep` ends the loop and is returned.
Result<Settling> sweep_until_settled(const Env& env, int max_sweeps, const std::function<Result<Sweep>()>& sweep);

}  // namespace affine::linux_backend
