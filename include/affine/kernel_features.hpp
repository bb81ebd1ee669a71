// What the running kernel offers affine, probed at run time: not what affine was
// built for, but what this kernel, in this process's context, lets it do.
#pragma once

#include <string>

namespace affine {

// One probed feature: whether it is available here, and in the user's terms what
// was found ("yes" needs no more; "no" says why: the errno, the missing file).
struct FeatureProbe {
    bool available = false;
    std::string detail;
};

struct KernelFeatures {
    // The MPOL_PREFERRED_MANY memory policy (Linux 5.15+), which `run --mem-policy
    // preferred` with several nodes needs.
    FeatureProbe preferred_many;
    // cgroup v2 mounted with the cpuset controller available (cpusets of `show`,
    // `shield`).
    FeatureProbe cgroup_cpuset;
    // Permission to listen to the kernel's process events (a NETLINK_CONNECTOR
    // socket bound to the proc connector's group), which the daemon uses to see new
    // processes at once; it needs CAP_NET_ADMIN.
    FeatureProbe proc_connector;
};

// Probes the running kernel. Reads live state; sets the calling thread's memory
// policy for an instant and restores it, opens and closes a netlink socket;
// nothing outlives the call.
KernelFeatures probe_kernel_features();

}  // namespace affine
