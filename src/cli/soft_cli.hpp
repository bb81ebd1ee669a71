// Shared pieces of the commands that speak to the daemon: printing managed
// workloads, and asking for soft affinity.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/engine/daemon_protocol.hpp"
#include "affine/topology.hpp"

namespace affine::cli {

// "18:40:03" for a unix time.
std::string clock_time(double unix_time);

// Prints one managed workload: the process, each thread's hard, soft and applied
// masks with its state and why, and memory per node. `indent` prefixes each line.
void print_workload(const protocol::WorkloadStatus& w, const std::string& indent = "");

// --soft CPUS: a CPU set of `host`, or nullopt for "all" (no preference).
std::optional<CpuSet> parse_soft_cpus_or_throw(const std::string& text, const Topology& host);

// What the running daemon manages of these processes (pid -> workload); empty when
// no daemon runs or it manages none of them (a daemon that does not answer is said
// on stderr: the soft affinity is then unknown).
std::map<int, protocol::WorkloadStatus> managed_workloads(const std::vector<int>& ids);

// Asks the daemon to set (or, for nullopt, remove) the soft affinity of `ids`;
// throws CommandError with the daemon's refusal or the absence of a daemon.
std::vector<protocol::WorkloadStatus> request_soft_affinity(const std::vector<int>& ids,
                                                            const std::optional<CpuSet>& cpus, bool all_threads,
                                                            bool children);

}  // namespace affine::cli
