// A soft-affinity request as the daemon holds it: which process (its pid and start
// time, so that a reused pid is never taken for it), what was asked and who asked.
// It is the one model of a managed workload: the live workload (soft_manager.hpp),
// its journal entry (journal.hpp) and its status (daemon_protocol.hpp) are each this
// request and what that view adds, so a field of the request is declared once.
#pragma once

#include <set>
#include <string>

#include "affine/id_set.hpp"

namespace affine::daemon {

struct SoftRequest {
    int pid = 0;
    unsigned long long start_time = 0;
    std::string command;
    unsigned uid = 0;                 // the process's owner
    CpuSet soft;
    bool all_threads = false;
    bool children = false;            // its child processes too, as they start
    std::set<int> named;              // without all_threads: the threads asked for
    std::string origin;               // who asked, and how
    double since = 0;                 // unix time the request was made
    unsigned requester_uid = 0;       // who asked (children are checked against it)
    bool requester_cap_sys_nice = false;
};

}  // namespace affine::daemon
