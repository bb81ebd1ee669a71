// The sweep loop of pin --all-threads and shield.
#include "settle.hpp"

#include <sys/syscall.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <set>

namespace affine::linux_backend {
namespace {

using std::chrono::milliseconds;

// Waits between sweeps. A clone in flight takes microseconds on a quiet host;
// under load, or on a virtual CPU the host has descheduled, it can take tens or
// hundreds of milliseconds. A process that started no task while affine swept is
// unlikely to have a clone in flight, and each extra sweep of a process with
// 10,000 threads costs a 15 ms listing: one short wait there.
constexpr milliseconds first_wait{1};
constexpr milliseconds longest_wait{64};
constexpr milliseconds wait_without_proof{127};  // for tasks whose state cannot be told
constexpr milliseconds most_wait{1000};
constexpr milliseconds still_wait{2};

bool is_clone_call(long nr) {
#ifdef SYS_clone
    if (nr == SYS_clone) return true;
#endif
#ifdef SYS_clone3
    if (nr == SYS_clone3) return true;
#endif
#ifdef SYS_fork
    if (nr == SYS_fork) return true;
#endif
#ifdef SYS_vfork
    if (nr == SYS_vfork) return true;
#endif
    return false;
}

}  // namespace

CloneCheck clone_check(const SysFs& fs, int tid) {
    auto text = fs.read(task_dir(tid) + "/syscall");
    if (!text) return fs.exists(task_dir(tid)) ? CloneCheck::cannot_tell : CloneCheck::outside;  // gone: outside
    // "running", or "NR ARGS... SP PC" of a blocked task ("-1 SP PC" outside a call).
    if (text->starts_with("running")) return CloneCheck::maybe_inside;
    long nr = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), nr);
    if (ec != std::errc{}) return CloneCheck::cannot_tell;
    return is_clone_call(nr) ? CloneCheck::maybe_inside : CloneCheck::outside;
}

Result<Settling> sweep_until_settled(const Env& env, int max_sweeps, const std::function<Result<Sweep>()>& sweep) {
    Settling s;
    bool busy = false;              // a listing after the first held new tasks
    std::set<int> unproven;         // changed tasks not yet seen outside a clone
    bool without_proof = false;     // a changed task whose state cannot be told
    milliseconds waited{0};         // since the last change
    milliseconds next = first_wait;
    while (s.sweeps < max_sweeps) {
        auto done = sweep();
        if (!done) return std::unexpected(done.error());
        if (++s.sweeps > 1 && done->new_tasks) busy = true;
        if (!done->changed.empty()) {
            unproven.insert(done->changed.begin(), done->changed.end());
            waited = milliseconds(0);
            next = first_wait;
            // A process that started no task while affine swept: the next sweep, after
            // the still wait, is the one that confirms (one at once would list every
            // thread again for nothing).
            if (!busy) {
                env.sys.sleep_for(still_wait);
                waited = still_wait;
            }
            continue;
        }
        if (waited >= most_wait) return s;
        if (!busy) {
            if (waited >= still_wait && !done->exited_unchanged) return s;
            env.sys.sleep_for(still_wait);
            waited += still_wait;
            continue;
        }
        // Seen outside a clone now, after its change: its clones are in /proc by the
        // next sweep. Sweep again at once when that proved something.
        bool proved = false;
        for (auto it = unproven.begin(); it != unproven.end();) {
            CloneCheck c = clone_check(env.fs, *it);
            if (c == CloneCheck::maybe_inside) {
                ++it;
                continue;
            }
            without_proof = without_proof || c == CloneCheck::cannot_tell;
            proved = proved || c == CloneCheck::outside;
            it = unproven.erase(it);
        }
        if (proved) continue;
        bool time_left = without_proof && waited < wait_without_proof;
        if (unproven.empty() && !time_left && !done->exited_unchanged) return s;
        env.sys.sleep_for(next);
        waited += next;
        next = std::min(next * 2, longest_wait);
    }
    s.settled = false;
    return s;
}

}  // namespace affine::linux_backend
