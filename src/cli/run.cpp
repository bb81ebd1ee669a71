#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "affine/host.hpp"
#include "command.hpp"

namespace affine::cli {
namespace {

constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

std::string help_text() {
    std::string text = "affine: where work runs and where its memory lives, on Linux and Xen.\n\n"
                       "usage: affine COMMAND [ARGS...]   (affine COMMAND --help for details)\n\n"
                       "commands:\n";
    for (const Command& c : command_table()) text += fmt::format("  {:<10} {}\n", c.name, c.summary);
    for (const RawCommand& c : raw_command_table()) text += fmt::format("  {:<10} {}\n", c.name, c.summary);
    text += fmt::format("  {:<10} {}\n", "help", "this list");
    text += "\nexit status: 0 done, 1 the operation failed, 2 usage or parse error\n";
    return text;
}

// Runs an action, turning the one exception type into "affine: message" and a status.
int run_action(const std::function<int()>& action) {
    try {
        return action();
    } catch (const CommandError& e) {
        fmt::print(stderr, "affine: {}\n", e.error.message);
        return e.error.kind == ErrorKind::usage ? exit_usage : exit_failed;
    }
}

// A command with its own grammar, named by the program name (a `numad` link to
// this binary) or by the first word.
const RawCommand* raw_command(int argc, char** argv, int& first_arg) {
    std::string_view program = argc > 0 ? std::string_view(argv[0]) : std::string_view();
    if (auto slash = program.rfind('/'); slash != std::string_view::npos) program.remove_prefix(slash + 1);
    for (const RawCommand& c : raw_command_table()) {
        if (program == c.name) {
            first_arg = 1;
            return &c;
        }
        if (argc > 1 && std::string_view(argv[1]) == c.name) {
            first_arg = 2;
            return &c;
        }
    }
    return nullptr;
}

}  // namespace

void add_host_option(CLI::App& sub, std::string& spec) {
    sub.add_option("--host", spec,
                   "host to read or plan against: live (default), a host JSON file, "
                   "a synthetic spec (nodes=4,cores=8,smt=2,mem=64G), or hwloc:DESC|FILE.xml");
}

Topology load_host_or_throw(const std::string& spec) { return value_or_throw(load_host(spec)); }

int run(int argc, char** argv) {
    int first_arg = 0;
    if (const RawCommand* raw = raw_command(argc, argv, first_arg)) {
        std::vector<std::string> args(argv + first_arg, argv + argc);
        return run_action([&] { return raw->run(args); });
    }
    CLI::App app{"affine"};
    app.set_help_flag();  // `affine help` and `affine --help` print the generated table
    app.require_subcommand(0, 1);
    bool show_help = false;
    bool show_version = false;
    app.add_flag("-h,--help", show_help);
    app.add_flag("-V,--version", show_version);
    app.add_subcommand("help", "list the commands");

    // Only the command named on the line declares its options: affine runs many
    // times from scripts, and declaring every command's options costs more than
    // most commands' work. An unknown name gets them all, for CLI11's message.
    std::string_view named = argc > 1 ? std::string_view(argv[1]) : std::string_view();
    bool known = std::ranges::any_of(command_table(), [&](const Command& c) { return c.name == named; });

    Action action;
    for (const Command& c : command_table()) {
        if (known && c.name != named) continue;
        CLI::App* sub = app.add_subcommand(std::string(c.name), std::string(c.summary));
        sub->set_help_flag("-h,--help", "print this command's options");
        auto define = c.define;
        auto made = std::make_shared<Action>(define(*sub));
        sub->callback([&action, made] { action = *made; });
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        if (!app.get_subcommands().empty()) return app.exit(e);
        std::fputs(help_text().c_str(), stdout);
        return 0;
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        // CLI11 names the subcommand and option; keep our one-line error format.
        fmt::print(stderr, "affine: {}\n", e.what());
        return exit_usage;
    }
    if (show_version) {
        fmt::print("{}\n", version_text());
        return 0;
    }
    if (show_help || app.got_subcommand("help") || !action) {
        std::fputs(help_text().c_str(), show_help || app.got_subcommand("help") ? stdout : stderr);
        return show_help || app.got_subcommand("help") ? 0 : exit_usage;
    }
    return run_action(action);
}

}  // namespace affine::cli
