// The one reader of the kernel's per-CPU accounting (/proc/stat and /proc/schedstat),
// for numad -w without a daemon and for the daemon's interval alike. Reads through
// the SysFs seam; the parsers are pure (affine/host_load.hpp).
#pragma once

#include "affine/host_load.hpp"
#include "sysfs.hpp"

namespace affine::linux_backend {

// /proc/stat's busy and total time per CPU. Failed error when it cannot be read or
// parsed (the message says which).
Result<CpuTimes> read_cpu_times(const SysFs& fs);

// /proc/schedstat's run-queue wait per CPU; empty when the kernel has no schedstat.
CpuRunDelays read_cpu_run_delays(const SysFs& fs);

}  // namespace affine::linux_backend
