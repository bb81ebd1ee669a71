// The kernel feature probes behind affine::probe_kernel_features(), each over the
// seams so the unit tests run them on fakes.
#pragma once

#include "affine/kernel_features.hpp"
#include "sysfs.hpp"
#include "syscalls.hpp"

namespace affine::linux_backend {

// Sets MPOL_PREFERRED_MANY on the calling thread with `nodes` (nodes it may use)
// and puts its previous policy back. EINVAL from the kernel means the mode is unknown.
FeatureProbe probe_preferred_many(Syscalls& sys, const SysFs& fs);

// Finds the cgroup v2 mount in /proc/self/mountinfo and whether its
// cgroup.controllers lists cpuset.
FeatureProbe probe_cgroup_cpuset(const SysFs& fs);

// Binds a NETLINK_CONNECTOR socket to the proc connector's group.
FeatureProbe probe_proc_connector(Syscalls& sys);

}  // namespace affine::linux_backend
