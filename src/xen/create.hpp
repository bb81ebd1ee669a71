// Creating a domain through Xen's toolstack with a plan (`affine xen create`): the
// lock that keeps concurrent creations from planning on the same free memory,
// running `xl create`, and the simulated host's stand-in for it.
#pragma once

#include <string>
#include <vector>

#include "affine/error.hpp"
#include "affine/xl_config.hpp"
#include "hypervisor.hpp"

namespace affine::xen {

// An exclusive flock(2) on a lock file, held from planning until the new domain's
// memory is populated, so a second `affine xen create` plans on the free memory the
// first one left. Released when destroyed. The descriptor is close-on-exec: xl
// (and the monitor process xl leaves behind) must not inherit the lock.
class CreateLock {
public:
    // Waits for the lock. Creates the file (and its directory) when missing.
    // Failure naming the file when it cannot be opened or locked.
    static Result<CreateLock> acquire(const std::string& path);
    CreateLock(CreateLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    CreateLock& operator=(CreateLock&&) = delete;
    CreateLock(const CreateLock&) = delete;
    ~CreateLock();

private:
    explicit CreateLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

// The lock file for creations on the host `host_spec` names (as --host): on the
// real host /run/affine/xen-create.lock ($AFFINE_RUN_DIR instead of /run/affine
// when set), on a simulated one STATEFILE.create-lock. Taken before the host's
// state is read.
std::string create_lock_path(std::string_view host_spec);

// The xl binary: $AFFINE_XL when set, else "xl" looked up on PATH.
std::string xl_binary();

// Runs argv[0] (looked up on PATH) with the caller's stdin, stdout and stderr and
// waits for it. Returns its exit status (128 + N when killed by signal N). Failure
// when it cannot be started.
Result<int> run_program(const std::vector<std::string>& argv);

// The command line as a shell would take it back: arguments quoted where needed.
std::string shell_command_line(const std::vector<std::string>& argv);

// A simulated host's `xl create` (hv.simulation() must not be null): the domain of
// `domain` (the configuration with every override applied) is built as libxl builds
// it: every vCPU allocated, the hard and soft masks of every vCPU from `cpus` and
// `cpus_soft` (every CPU when absent), then its memory populated by the allocator.
// Returns the domid. Failure (EEXIST) for a name in use, as xl refuses it; ENOMEM
// when the host lacks the memory; nothing is left behind. The caller commits.
Result<int> sim_xl_create(Hypervisor& hv, const XlDomain& domain);

}  // namespace affine::xen
