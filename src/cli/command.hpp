// The command table of `affine`: each subcommand is a name, a one-line summary and a
// function that declares its options and returns the action to run.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/placement.hpp"
#include "affine/topology.hpp"

namespace affine::cli {

// What a subcommand does once its arguments are parsed: returns the exit status.
using Action = std::function<int()>;

struct Command {
    std::string_view name;
    std::string_view summary;
    std::function<Action(CLI::App& sub)> define;
};

// A command with its own grammar (numad's getopt options): it parses the words after
// its name itself, and runs also when the program is invoked under its name (a link).
struct RawCommand {
    std::string_view name;
    std::string_view summary;
    std::function<int(const std::vector<std::string>& args)> run;
};

// Every subcommand, in the order `affine help` lists them; then the raw ones.
const std::vector<Command>& command_table();
const std::vector<RawCommand>& raw_command_table();

// Runs the command line; prints "affine: <message>" for errors and returns the exit
// status (0 done, 1 failed, 2 usage error).
int run(int argc, char** argv);

// Shared option: --host SPEC (live, a host file, a synthetic spec, hwloc:...).
void add_host_option(CLI::App& sub, std::string& spec);
// The host named by --host; throws CommandError when it cannot be loaded.
Topology load_host_or_throw(const std::string& spec);

// Shared by `place` and `run --place`: one request from --vcpus, --memory, --cores
// and a policy; the host with --exclude CPUS reserved. Throw CommandError on bad input.
PlacementRequest single_placement_request(int vcpus, const std::string& memory, bool cores, PlacementPolicy policy);
PlacementHost placement_host_or_throw(Topology topology, const std::string& exclude);

// "affine VERSION" and which platforms this binary can drive.
std::string version_text();
// The version alone ("0.1.0 (development build, git ...)").
std::string_view version_number();

// Subcommand definitions, one file each under src/cli/.
Command topo_command();
Command calc_command();
Command show_command();
Command pin_command();
Command bind_command();
Command run_command();
Command migrate_command();
Command shield_command();
Command place_command();
Command xen_command();
Command daemon_command();
RawCommand numad_command();

}  // namespace affine::cli
