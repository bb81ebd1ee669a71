// The one seam for the Linux system calls affine makes: the logic
// above it runs unchanged over a fake in the unit tests, which injects EINVAL,
// EPERM, ESRCH at chosen calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "affine/id_set.hpp"

namespace affine::linux_backend {

// A system call's result: the value, or the errno it failed with.
template <typename T>
using SysResult = std::expected<T, int>;

// The kernel's memory policy modes (uapi/linux/mempolicy.h), as plain ints so no
// libnuma header leaks into the logic.
namespace mpol {
inline constexpr int default_ = 0;
inline constexpr int preferred = 1;
inline constexpr int bind = 2;
inline constexpr int interleave = 3;
inline constexpr int local = 4;
inline constexpr int preferred_many = 5;  // Linux 5.15+
inline constexpr int weighted_interleave = 6;  // Linux 6.9+
}  // namespace mpol

class Syscalls {
public:
    virtual ~Syscalls() = default;

    // sched_getaffinity/sched_setaffinity on one thread (tid 0 = the caller), with a
    // mask as large as the kernel's (probed once), never cpu_set_t's 1,024 bits.
    virtual SysResult<CpuSet> get_affinity(int tid) = 0;
    virtual SysResult<void> set_affinity(int tid, const CpuSet& cpus) = 0;

    // set_mempolicy/get_mempolicy for the calling thread.
    virtual SysResult<void> set_mempolicy(int mode, const NodeSet& nodes) = 0;
    struct MemPolicyState {
        int mode = 0;
        NodeSet nodes;
    };
    virtual SysResult<MemPolicyState> get_mempolicy() = 0;

    // migrate_pages(pid, old, new): the number of pages that could not be moved.
    virtual SysResult<long> migrate_pages(int pid, const NodeSet& from, const NodeSet& to) = 0;

    // move_pages(pid, ...) on the pages at `addresses` (MPOL_MF_MOVE_ALL, so pages
    // other processes map move too, when the caller has CAP_SYS_NICE; else
    // MPOL_MF_MOVE): with `nodes`
    // empty it only asks where each page is; otherwise nodes[i] is page i's target.
    // status[i] is the page's node afterwards, or a negative errno (-ENOENT: not
    // present, -EFAULT: not mapped, -EBUSY, -EACCES: shared, ...).
    virtual SysResult<void> move_pages(int pid, const std::vector<std::uint64_t>& addresses,
                                       const std::vector<int>& nodes, std::vector<int>& status) = 0;

    // Opens a NETLINK_CONNECTOR socket, binds it to the proc connector's multicast
    // group (process events) and closes it: a permission probe, nothing is received.
    virtual SysResult<void> bind_proc_connector() = 0;

    // execvp: returns only on failure, with the errno.
    virtual int exec(const std::vector<std::string>& argv) = 0;

    // The caller's effective uid and pid.
    virtual unsigned effective_uid() = 0;
    virtual int self_pid() = 0;

    // Sleeps the calling thread (the quiet periods of sweep_until_settled).
    virtual void sleep_for(std::chrono::milliseconds period) = 0;
};

// The real system calls of the running kernel (one shared instance).
Syscalls& real_syscalls();

// The kernel's CPU mask size in bytes, probed with the raw sched_getaffinity call
// (doubling the buffer while the kernel answers EINVAL).
std::size_t kernel_cpu_mask_bytes();

}  // namespace affine::linux_backend
