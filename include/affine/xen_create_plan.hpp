// Planning a new Xen domain from its xl configuration (`affine xen create`), before
// its memory exists. Pure: it reads a XenHost model (a snapshot of the live
// hypervisor) and an XlDomain, and does no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/placement.hpp"
#include "affine/xen_model.hpp"
#include "affine/xl_config.hpp"

namespace affine::xen {

// The planner's host for a new domain on `host`: the topology with the hypervisor's
// free memory per node, only the CPUs of cpupool 0 usable, `reserved` CPUs never
// chosen, and every domain's vCPUs as load (the load rule of xen_placement.hpp).
// A hard affinity the user gave (`hard_limit`, the union of the vCPUs' hard masks)
// is a limit: only its CPUs are usable and only its nodes may hold the memory (in
// auto mode Xen takes the node affinity from the vCPU masks, so memory cannot be
// steered elsewhere). `first_free`, when given, is each node's free memory that Xen
// hands a new domain first (above its DMA width, xen::DomainFreeMemory): the plan
// fits in it, since memory below is taken only when every node has run out.
PlacementHost xen_create_placement_host(const XenHost& host, const CpuSet& reserved,
                                        const std::optional<CpuSet>& hard_limit,
                                        const std::map<int, std::uint64_t>& first_free = {});

// The request for a new domain: its vCPUs online at start (`vcpus`) and the memory it
// is built with (`memory`: what libxl populates for a PV domain and counts for its
// own placement; `maxmem` is only a ceiling the guest may balloon up to).
PlacementRequest xen_create_request(const XlDomain& domain, PlacementPolicy policy);

}  // namespace affine::xen
