// affine numad, and the affine binary run as `numad`: numad's placement advice
// (`numad -w NCPUS[:MB]`, what libvirt runs for placement='auto') from affine's
// planner, asked of the running daemon (its live view) or, without one, on a fresh
// reading of the host; numad's daemon options are refused with their affine
// equivalent.
#include <fmt/format.h>

#include <cstdio>

#include "daemon/control_client.hpp"
#include "daemon/daemon.hpp"
#include "affine/host.hpp"
#include "affine/host_load.hpp"
#include "affine/numad_compat.hpp"
#include "affine/set_grammar.hpp"
#include "affine/tiered_placement.hpp"
#include "command.hpp"

namespace affine::cli {
namespace {

// libvirt reads the whole of stdout as the node list: a short write must fail the
// command, not leave libvirt a truncated list.
void write_or_throw(const std::string& text) {
    if (std::fputs(text.c_str(), stdout) == EOF || std::fflush(stdout) != 0 || std::ferror(stdout))
        throw_error(failure("numad: write error on standard output"));
}

// The running daemon's answer from its live view; nullopt when no daemon runs (or it
// cannot answer: then a fresh reading answers, and stderr says why).
std::optional<std::string> advice_from_daemon(const NumadInvocation& invocation) {
    protocol::Request r;
    r.op = protocol::Op::advise;
    r.cpu_hundredths = invocation.advice.cpu_hundredths;
    r.memory_mib = invocation.advice.memory_mib;
    r.reserved = invocation.reserved_cpus;
    auto [body, absent] = daemon::ask_daemon(r);
    if (!body) {
        if (absent) return std::nullopt;
        // A refusal of the request itself (its -R set) is the user's to see.
        if (body.error().kind == ErrorKind::usage) throw_error(body.error());
        fmt::print(stderr, "affine: the daemon gave no advice ({}); reading the host afresh\n", body.error().message);
        return std::nullopt;
    }
    if (!body->contains("nodes") || !(*body)["nodes"].is_string()) return std::nullopt;
    if (!body->value("fits", true))
        fmt::print(stderr, "affine: {}: {}; advising every node\n", numad_placement_request(invocation.advice).name,
                   body->value("why", std::string("nothing smaller fits")));
    return (*body)["nodes"].get<std::string>();
}

// The CPUs `reserved_cpus` of the daemon's configuration keeps from managed work,
// as a set-grammar term ("" when none or no configuration). A configuration that
// does not read is said on stderr and ignored.
std::string configured_reserved_cpus() {
    auto host = read_linux_topology("/");
    if (!host) return {};
    auto config = daemon::load_daemon_config(daemon::default_config_path, false, *host);
    if (!config) {
        fmt::print(stderr, "affine: {}; its reserved_cpus are not applied\n", config.error().message);
        return {};
    }
    return config->reserved_cpus.empty() ? std::string() : to_list(config->reserved_cpus);
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
    if (auto nodes = advice_from_daemon(invocation)) {
        write_or_throw(*nodes + "\n");
        return 0;
    }
    LiveHostOptions options;
    options.reserved = invocation.reserved_cpus;
    if (std::string configured = configured_reserved_cpus(); !configured.empty())
        options.reserved = options.reserved.empty() ? configured : options.reserved + "," + configured;
    PlacementHost host = value_or_throw(read_live_placement_host(options));
    PlacementRequest request = numad_placement_request(invocation.advice);
    Plan plan = value_or_throw(plan_tiered_placement(host, request));
    // numad answers every request, with all nodes when nothing smaller fits; say why
    // on stderr, which libvirt logs and does not parse.
    if (!plan.fits()) fmt::print(stderr, "affine: {}: {}; advising every node\n", request.name, plan.fallback);
    write_or_throw(numad_node_list(plan, host.topology) + "\n");
    return 0;
}

}  // namespace

RawCommand numad_command() {
    return {"numad", "numad's placement advice for libvirt: numad -w NCPUS[:MB] (also run as `numad`)", numad,
            [] { return numad_usage_text(); }};
}

}  // namespace affine::cli
