// `affine xen create`: its options and its action (cmd_xen_create.cpp), registered
// in the xen command's table (cmd_xen.cpp).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace affine::cli {

struct XenCreateRequest {
    std::string config;                  // the xl configuration file
    std::vector<std::string> overrides;  // KEY=VALUE, as xl takes them
    std::string policy = "best-effort";
    std::string exclude;
    bool dry_run = false;
};

inline constexpr const char* xen_create_summary =
    "create a domain with xl, placed by the planner before its memory is allocated";

void add_xen_create_options(CLI::App& sub, XenCreateRequest& request);

// Runs the command on the hypervisor named by `host_spec`; returns the exit status
// (xl's own when xl fails).
int run_xen_create(const std::string& host_spec, const XenCreateRequest& request);

}  // namespace affine::cli
