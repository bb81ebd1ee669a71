// Creating a domain through Xen's toolstack with a plan (`affine xen create`): the
// lock that keeps concurrent creations from planning on the same free memory,
// running `xl create`, and the simulated host's stand-in for it.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "affine/error.hpp"
#include "affine/xen_preferred_first.hpp"
#include "affine/xl_config.hpp"
#include "hypervisor.hpp"
#include "os/unique_fd.hpp"

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

private:
    explicit CreateLock(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;  // closing the last descriptor releases the flock
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

// Raises domain `domid`'s memory target to `bytes`, which its balloon driver then
// populates under the domain's node affinity. The real host runs `xl mem-set DOMID
// NNNm` (libxl writes the xenstore target the guest follows, and refuses one above
// maxmem); on a simulated host the guest balloons at once (the model's allocator).
// Failure when xl fails (naming its status) or the host lacks the memory.
Result<void> set_memory_target(Hypervisor& hv, int domid, std::uint64_t bytes);

// Whether a domain holding `memory_bytes` has populated a target of `target_bytes`:
// within 2 MiB + 1/256 of the target (the guest's kernel keeps a few pages of its
// own accounting, as the ISA hole of a PV guest).
bool target_populated(std::uint64_t memory_bytes, std::uint64_t target_bytes);

// How the steps after `xl create` went.
struct PopulateOutcome {
    bool completed = false;         // every step populated, node affinity set to the final nodes
    std::size_t steps_done = 0;     // populate steps whose target was reached
    std::uint64_t memory_bytes = 0; // what the domain held at the end (its pages, as Xen counts them)
    std::string error;              // when !completed: what did not happen
};

// Runs the populate steps of `steps` on domain `domid`, already built with the
// preferred node's share: per step node affinity {N} (xc_domain_node_setaffinity),
// the target raised, then a wait of at most `timeout` until the domain holds it
// (its pages as the hypervisor counts them, read every 100 ms); finally node
// affinity = the final nodes. `say` gets one line per step as it is done. Stops at
// the first step that fails or times out and leaves the domain as it is (its node
// affinity that step's node, so memory it populates later still comes from there).
// Reads and changes live state.
PopulateOutcome populate_preferred_first(Hypervisor& hv, int domid, const PreferredFirstSteps& steps,
                                         std::chrono::milliseconds timeout,
                                         const std::function<void(const std::string&)>& say);

}  // namespace affine::xen
