// numad compatibility: numad's command line read as affine's, and its placement
// advice (`numad -w NCPUS[:MB]`, what libvirt runs for `placement='auto'`) answered
// by affine's planner.
//
// numad's own grammar is getopt's: short options, an option's value either attached
// (`-w2:512`) or the next word (`-w 2:512`). Only the advice is answered here; every
// option that would start, steer or query numad's daemon is refused with the affine
// equivalent named (the affine daemon and its [[rule]] entries). Pure: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/placement.hpp"

namespace affine {

// `-w NCPUS[:MB]`: NCPUS may have a fraction (numad reads "1.5" as 150 hundredths of
// a CPU); MB is mebibytes (libvirt sends the domain's memory in KiB / 1024, rounded
// up). Without MB, numad plans no memory.
struct NumadAdviceRequest {
    std::uint64_t cpu_hundredths = 0;
    std::uint64_t memory_mib = 0;
};

enum class NumadAction {
    advice,   // -w: print the node list
    help,     // -h: print the usage
    version,  // -V: print the version
};

struct NumadInvocation {
    NumadAction action = NumadAction::advice;
    NumadAdviceRequest advice;
    std::string reserved_cpus;  // -R LIST: CPUs the advice must leave out (set grammar)
};

// Reads numad's arguments (without the program name). Usage error, naming the
// affine equivalent, for every option this compatibility does not answer: no
// option (start numad's daemon), -i, -p, -x, -r, -S, -u, -m, -t, -H, -C, -K, and
// the log options (-d, -v, -l) unless given with -w (they only change numad's log
// level, so with -w they are accepted and change nothing). Usage error for a
// malformed -w value, an unknown option, or a word that is not an option.
Result<NumadInvocation> parse_numad_arguments(const std::vector<std::string>& args);

// The planner request that answers `-w`: ceil(NCPUS) vCPUs (at least one) and MB
// MiB (one 4 KiB page when MB is 0), policy best-effort; with NCPUS 0 the request
// is memory only (prio-mem-only), as numad then weighs memory alone.
PlacementRequest numad_placement_request(const NumadAdviceRequest& request);

// The answer line (without its newline), in numad's list syntax ("0", "0-1",
// "0,2-3"): the plan's nodes; when nothing fits (fallback or refused), every node
// of the host, as numad then gives all of them. Never empty for a host with nodes.
std::string numad_node_list(const Plan& plan, const Topology& topology);

// numad's usage, with what affine answers and where the rest went.
std::string numad_usage_text();

}  // namespace affine
