// The command table of `affine`: each subcommand is a name, a one-line summary and a
// function that declares its options and returns the action to run.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/placement.hpp"
#include "affine/topology.hpp"

namespace affine::cli {

// What a subcommand does once its arguments are parsed: returns the exit status.
using Action = std::function<int()>;

// Where the words of a command to run begin (run, shield --exec). They are given to
// the command as they are, never parsed: no option of affine is read among them,
// and an empty word or one such as "[a,b]" reaches the command unchanged.
enum class CommandWords {
    none,
    after_options,  // at the first word that is not an option (or after "--"): run
    after_dashes,   // after "--" only: shield CPUS --exec -- COMMAND...
};

// What the command line gives a command besides its options: the words of the
// command to run (run, shield --exec; empty for the others), split off before
// parsing. It is filled after `define` returns and before the action runs, and
// outlives the action: an action reads it, never keeps it.
struct CommandLine {
    std::vector<std::string> words;
};

struct Command {
    std::string_view name;
    std::string_view summary;
    std::function<Action(CLI::App& sub, const CommandLine& line)> define;
    CommandWords words = CommandWords::none;
    // What another tool's option the command does not take is in affine ("-N" on run:
    // numactl's --cpunodebind), for its "unknown option" error; nullopt if nothing.
    std::function<std::optional<std::string>(std::string_view option)> foreign_option = {};
};

// A command with its own grammar (numad's getopt options): it parses the words after
// its name itself, and runs also when the program is invoked under its name (a link).
struct RawCommand {
    std::string_view name;
    std::string_view summary;
    std::function<int(const std::vector<std::string>& args)> run;
    std::function<std::string()> usage = {};  // what `affine help NAME` prints
};

// Every subcommand, in the order `affine help` lists them; then the raw ones.
const std::vector<Command>& command_table();
const std::vector<RawCommand>& raw_command_table();

// Runs the command line and returns the exit status (0 done, 1 failed, 2 usage
// error; `run` passes on its command's status, as it becomes the command, and
// `xen create` xl's when xl fails). Every error, whatever its kind (CommandError, a parse error, a write error
// on stdout, an exception from a library), ends as one "affine: <message>" line on
// stderr; nothing escapes.
int run(int argc, char** argv);

// Shared option: --host SPEC (live, a host file, a captured root, a synthetic spec,
// hwloc:...).
void add_host_option(CLI::App& sub, std::string& spec);

// An integer option or argument, read by the one number parser (core/integer.hpp):
// anything but a whole number from `min` to `max` is a usage error naming it.
CLI::Option* add_number_option(CLI::App& sub, const std::string& name, int& target, const std::string& help,
                               int min, int max);

// The most vCPUs (or threads) an option takes, as placement request lines allow.
inline constexpr int max_vcpus_argument = 1 << 20;

// Flushes standard output; throws CommandError "write error: ..." (exit 1) when the
// output could not be written. run() calls it after every command; a command calls
// it itself before it executes another program in its place.
void flush_output_or_throw();

// The host named by --host; throws CommandError when it cannot be loaded.
Topology load_host_or_throw(const std::string& spec);

// Shared by `place` and `run --place`: one request from --vcpus, --memory, --cores
// and a policy; the host with --exclude CPUS reserved. Throw CommandError on bad input.
PlacementRequest single_placement_request(std::string_view command, int vcpus, const std::string& memory, bool cores,
                                          PlacementPolicy policy);
// The bytes of a --memory SIZE of `command` ("place", "xen place"): a usage error
// naming the command for a bad size and for less than a page (a missing unit).
std::uint64_t memory_option_or_throw(const std::string& text, std::string_view command);
PlacementHost placement_host_or_throw(Topology topology, const std::string& exclude);
// --memory-tier top|any, for the commands that plan (place, run --place).
void add_memory_tier_option(CLI::App& sub, std::string& value);

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
Command weights_command();
Command xen_command();
Command daemon_command();
Command nri_command();
RawCommand numad_command();

}  // namespace affine::cli
