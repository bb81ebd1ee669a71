// affine numad, and the affine binary run as `numad`: numad's placement advice
// (`numad -w NCPUS[:MB]`, what libvirt runs for placement='auto') from affine's
// planner; numad's daemon options are refused with their affine equivalent.
#include <fmt/format.h>

#include <cstdio>

#include "affine/host_load.hpp"
#include "affine/numad_compat.hpp"
#include "command.hpp"

namespace affine::cli {
namespace {

// libvirt reads the whole of stdout as the node list: a short write must fail the
// command, not leave libvirt a truncated list.
void write_or_throw(const std::string& text) {
    if (std::fputs(text.c_str(), stdout) == EOF || std::fflush(stdout) != 0 || std::ferror(stdout))
        throw_error(failure("numad: write error on standard output"));
}

int numad(const std::vector<std::string>& args) {
    NumadInvocation invocation = value_or_throw(parse_numad_arguments(args));
    switch (invocation.action) {
    case NumadAction::help: write_or_throw(numad_usage_text()); return 0;
    case NumadAction::version:
        write_or_throw(fmt::format("numad compatibility of affine {}\n", version_number()));
        return 0;
    case NumadAction::advice: break;
    }
    LiveHostOptions options;
    options.reserved = invocation.reserved_cpus;
    PlacementHost host = value_or_throw(read_live_placement_host(options));
    PlacementRequest request = numad_placement_request(invocation.advice);
    Plan plan = value_or_throw(plan_placement(host, request));
    // numad answers every request, with all nodes when nothing smaller fits; say why
    // on stderr, which libvirt logs and does not parse.
    if (!plan.fits()) fmt::print(stderr, "affine: {}: {}; advising every node\n", request.name, plan.fallback);
    write_or_throw(numad_node_list(plan, host.topology) + "\n");
    return 0;
}

}  // namespace

RawCommand numad_command() {
    return {"numad", "numad's placement advice for libvirt: numad -w NCPUS[:MB] (also run as `numad`)", numad};
}

}  // namespace affine::cli
