// The command line's contract with scripts: parse, run, and turn every way a command
// can end into one `affine: ...` line and an exit status (0 done, 1 failed, 2 usage).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <system_error>

#include "core/integer.hpp"
#include "affine/host.hpp"
#include "command.hpp"
#include "help_format.hpp"

namespace affine::cli {
namespace {

constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

// Writes "affine: MESSAGE" to stderr without throwing (stderr may be broken too).
void print_error(std::string_view message) noexcept {
    std::fputs("affine: ", stderr);
    std::fwrite(message.data(), 1, message.size(), stderr);
    std::fputc('\n', stderr);
    std::fflush(stderr);
}

std::string help_text() {
    std::string text = "affine: where work runs and where its memory lives, on Linux and Xen.\n\n"
                       "usage: affine COMMAND [ARGS...]   (affine COMMAND --help for details)\n\n"
                       "commands:\n";
    for (const Command& c : command_table()) text += fmt::format("  {:<10} {}\n", c.name, c.summary);
    for (const RawCommand& c : raw_command_table()) text += fmt::format("  {:<10} {}\n", c.name, c.summary);
    text += fmt::format("  {:<10} {}\n", "help", "this list; help COMMAND: that command's options");
    text += "\nexit status: 0 done, 1 the operation failed, 2 usage or parse error; run gives its command's "
            "status, xen create xl's when xl fails\n";
    return text;
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

// Where the words of the command to run begin in `args` (args.size() if nowhere):
// "--", or with CommandWords::after_options the first word that is neither an
// option of `sub` nor an option's value.
std::size_t command_start(const CLI::App& sub, const std::vector<std::string>& args, CommandWords words) {
    for (std::size_t i = 2; i < args.size(); ++i) {
        const std::string& w = args[i];
        if (w == "--") return i;
        if (words != CommandWords::after_options) continue;
        if (w.size() > 1 && w[0] == '-') {
            if (w.find('=') != std::string::npos) continue;
            const CLI::Option* o = sub.get_option_no_throw(w);
            if (o != nullptr && o->get_items_expected_max() > 0) ++i;  // its value
            continue;
        }
        return i;
    }
    return args.size();
}

std::vector<CLI::App*> all_subcommands(CLI::App& app) {
    return app.get_subcommands([](CLI::App*) { return true; });
}

// The commands named on the line, outermost first: {affine}, {affine, run},
// {affine, xen, vcpu-pin}.
std::vector<CLI::App*> parsed_path(CLI::App& app) {
    std::vector<CLI::App*> path{&app};
    while (!path.back()->get_subcommands().empty()) path.push_back(path.back()->get_subcommands().front());
    return path;
}

// "run", "xen vcpu-pin": how messages name the command.
std::string command_name(const std::vector<CLI::App*>& path) {
    std::string words;
    for (std::size_t i = 1; i < path.size(); ++i) words += (words.empty() ? "" : " ") + path[i]->get_name();
    return words;
}

std::vector<std::string> subcommand_names(CLI::App& app) {
    std::vector<std::string> names;
    for (CLI::App* sub : all_subcommands(app))
        if (sub->get_name() != "help") names.push_back(sub->get_name());
    return names;
}

std::string names_of(CLI::App& app) { return fmt::format("{}", fmt::join(subcommand_names(app), ", ")); }

// The commands `affine` takes, for "unknown command": the table's, the raw ones, help.
std::vector<std::string> command_name_list(CLI::App& app) {
    std::vector<std::string> names = subcommand_names(app);
    for (const RawCommand& c : raw_command_table()) names.emplace_back(c.name);
    names.emplace_back("help");
    return names;
}

std::string command_names(CLI::App& app) { return fmt::format("{}", fmt::join(command_name_list(app), ", ")); }

// The options a command takes, for "unknown option" (a xen command also takes xen's):
// their long names, without CLI11's notation for a flag's default value.
std::vector<std::string> option_name_list(const std::vector<CLI::App*>& path) {
    std::vector<std::string> names;
    for (std::size_t i = path.size(); i-- > 1;)
        for (const CLI::Option* o : path[i]->get_options())
            if (o->nonpositional() && o->get_name() != "--help") {
                std::string name = o->get_name();
                names.push_back(name.substr(0, name.find('{')));
            }
    return names;
}

std::string option_names(const std::vector<CLI::App*>& path) {
    auto names = option_name_list(path);
    return names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "));
}

const CLI::Option* find_option(const std::vector<CLI::App*>& path, const std::string& name) {
    for (std::size_t i = path.size(); i-- > 0;)
        for (const CLI::Option* o : path[i]->get_options())
            if (o->get_name() == name || o->check_name(name)) return o;
    return nullptr;
}

// The affine equivalent of another tool's option that `cmd` does not take:
// ": numactl's -N is ..." or nullopt.
std::optional<std::string> hint_for_option(const std::string& cmd, const std::string& option) {
    for (const Command& c : command_table())
        if (c.name == cmd && c.foreign_option)
            if (auto hint = c.foreign_option(option)) return ": " + *hint;
    return std::nullopt;
}

// The first word no command took: an unknown command or option, or an extra argument.
void refuse_extras(CLI::App& app, const std::vector<CLI::App*>& path) {
    std::vector<std::string> extras = app.remaining(true);
    std::erase(extras, "--");
    if (extras.empty()) return;
    const std::string& word = extras.front();
    const std::string cmd = command_name(path);
    if (path.size() == 1 && !word.starts_with('-'))
        throw_error(usage_error(fmt::format("unknown command \"{}\"{} (commands: {})", word,
                                did_you_mean(word, command_name_list(app)), command_names(app))));
    if (!path.back()->get_subcommands([](CLI::App*) { return true; }).empty() && !word.starts_with('-'))
        throw_error(usage_error(fmt::format("unknown {} command \"{}\"{} ({} commands: {})", cmd, word,
                                did_you_mean(word, subcommand_names(*path.back())), cmd, names_of(*path.back()))));
    if (word.starts_with('-')) {
        std::string name = word.substr(0, word.find('='));
        std::vector<std::string> known =
            cmd.empty() ? std::vector<std::string>{"--help", "--version"} : option_name_list(path);
        throw_error(usage_error(fmt::format("{}unknown option \"{}\"{} ({}options: {}; affine {}--help)", cmd.empty() ? "" : cmd + ": ",
                                word, hint_for_option(cmd, name).value_or(did_you_mean(name, known)),
                                cmd.empty() ? "" : cmd + " ", cmd.empty() ? "--help, --version" : option_names(path),
                                cmd.empty() ? "" : cmd + " ")));
    }
    throw_error(usage_error(fmt::format("{}: unexpected argument \"{}\" (affine {} --help)", cmd, word, cmd)));
}

// An option or argument given as "" is refused: a script whose variable is empty
// must not get a silently different action (no pinning, the default host...).
// The words of a command to run are not among them: they belong to that command.
void refuse_empty_values(const std::vector<CLI::App*>& path) {
    const std::string cmd = command_name(path);
    for (std::size_t i = 1; i < path.size(); ++i)
        for (const CLI::Option* o : path[i]->get_options()) {
            if (o->count() == 0 || o->get_type_size_max() == 0) continue;
            const auto& results = o->results();
            if (std::ranges::any_of(results, [](const std::string& r) { return r.empty(); }))
                throw_error(usage_error(fmt::format("{}: {} is empty; expected {}", cmd, o->get_name(),
                                        o->get_description().empty() ? "a value" : o->get_description())));
        }
}

// CLI11's errors, said as affine says them.
std::string parse_error_message(CLI::App& app, const CLI::ParseError& e) {
    auto path = parsed_path(app);
    const std::string cmd = command_name(path);
    const std::string prefix = cmd.empty() ? "" : cmd + ": ";
    const std::string see = fmt::format("affine {}--help", cmd.empty() ? "" : cmd + " ");
    if (e.get_name() == "RequiredError") {
        // A command that needs a subcommand declares require_subcommand(1) (xen).
        if (path.size() > 1 && path.back()->get_require_subcommand_min() > 0 &&
            path.back()->get_subcommands().empty()) {
            refuse_extras(app, path);  // `affine xen bogus`: an unknown command, said so
            return fmt::format("{} needs a command ({} commands: {})", cmd, cmd, names_of(*path.back()));
        }
        for (const CLI::Option* o : path.back()->get_options())
            if (o->get_required() && o->count() == 0)
                return fmt::format("{}missing {} ({}; {})", prefix, o->get_name(), o->get_description(), see);
    }
    if (e.get_name() == "ArgumentMismatch") {
        for (CLI::App* level : path)
            for (const CLI::Option* o : level->get_options())
                if (o->get_items_expected_max() == 1 && o->count() > 1)
                    return fmt::format("{}{} is given {} times; give it once", prefix, o->get_name(), o->count());
        std::string what = e.what();
        std::string name = what.substr(0, what.find(':'));
        if (const CLI::Option* o = find_option(path, name))
            return fmt::format("{}{} needs a value ({})", prefix, o->get_name(), o->get_description());
    }
    if (e.get_name() == "ExtrasError") refuse_extras(app, path);
    return fmt::format("{}{} ({})", prefix, e.what(), see);
}

// `affine help [COMMAND...]`: the generated list, or that command's options.
int print_help(CLI::App& app, const std::vector<std::string>& topic) {
    if (topic.empty()) {
        std::fputs(help_text().c_str(), stdout);
        return 0;
    }
    // `help help` is this list; `help numad` a raw command's own usage.
    const RawCommand* raw = nullptr;
    for (const RawCommand& c : raw_command_table())
        if (c.name == topic.front()) raw = &c;
    if (topic.front() == "help" || raw != nullptr) {
        if (topic.size() > 1)
            throw_error(usage_error(fmt::format("help: {} has no commands: unexpected \"{}\" (affine help {})", topic.front(),
                                    topic[1], topic.front())));
        std::fputs(raw != nullptr ? raw->usage().c_str() : help_text().c_str(), stdout);
        return 0;
    }
    CLI::App* level = &app;
    std::string prefix = "affine";
    std::string words;  // "xen", "xen place": the command explained so far
    for (const std::string& word : topic) {
        auto subs = all_subcommands(*level);
        auto found = std::ranges::find(subs, word, &CLI::App::get_name);
        CLI::App* sub = found == subs.end() ? nullptr : *found;
        if (sub == nullptr || word == "help") {
            if (level == &app)
                throw_error(usage_error(fmt::format("help: unknown command \"{}\"{} (commands: {})", word,
                                        did_you_mean(word, command_name_list(app)), command_names(app))));
            if (subs.empty())
                throw_error(usage_error(fmt::format("help: {} has no commands: unexpected \"{}\" (affine help {})", words, word,
                                        words)));
            throw_error(usage_error(fmt::format("help: unknown {} command \"{}\"{} ({} commands: {})", words, word,
                                    did_you_mean(word, subcommand_names(*level)), words, names_of(*level))));
        }
        if (level != &app) prefix += " " + level->get_name();
        words += (words.empty() ? "" : " ") + word;
        level = sub;
    }
    std::fputs(level->help(prefix).c_str(), stdout);
    return 0;
}

int run_command_line(int argc, char** argv) {
    int first_arg = 0;
    if (const RawCommand* raw = raw_command(argc, argv, first_arg))
        return raw->run(std::vector<std::string>(argv + first_arg, argv + argc));
    CLI::App app{"where work runs and where its memory lives, on Linux and Xen"};
    app.name("affine");  // usage lines say affine, not the path it was run from
    app.formatter(std::make_shared<HelpFormatter>());  // inherited by every command
    app.set_help_flag();  // `affine help` and `affine --help` print the generated table
    app.require_subcommand(0, 1);
    bool show_help = false;
    bool show_version = false;
    app.add_flag("-h,--help", show_help);
    app.add_flag("-V,--version", show_version);
    std::vector<std::string> help_topic;
    CLI::App* help = app.add_subcommand("help", "list the commands, or a command's options");
    help->add_option("COMMAND", help_topic, "the command to explain");

    // Only the command named on the line declares its options: affine runs many
    // times from scripts, and declaring every command's options costs more than
    // most commands' work. Another word (help, an unknown name) gets them all.
    std::string_view named = argc > 1 ? std::string_view(argv[1]) : std::string_view();
    bool known = std::ranges::any_of(command_table(), [&](const Command& c) { return c.name == named; });

    std::vector<std::string> args(argv, argv + argc);
    CommandLine line;
    Action action;
    for (const Command& c : command_table()) {
        if (known && c.name != named) continue;
        CLI::App* sub = app.add_subcommand(std::string(c.name), std::string(c.summary));
        sub->set_help_flag("-h,--help", "print this command's options");
        sub->fallthrough();  // `daemon status --state-dir DIR`: a command's options also after its subcommand
        auto made = std::make_shared<Action>(c.define(*sub, line));
        sub->callback([&action, made] { action = *made; });
        // The command to run is split off before parsing: CLI11 would drop an empty
        // word and read "[a,b]" as a list.
        if (known && c.words != CommandWords::none) {
            std::size_t start = command_start(*sub, args, c.words);
            if (start < args.size()) {
                line.words.assign(args.begin() + static_cast<std::ptrdiff_t>(start + (args[start] == "--")),
                                        args.end());
                args.resize(start);
            }
        }
    }
    std::vector<char*> parsed_argv;
    for (std::string& a : args) parsed_argv.push_back(a.data());
    // Words no command takes are refused after parsing, in affine's words.
    app.allow_extras();
    for (CLI::App* sub : all_subcommands(app)) {
        sub->allow_extras();
        for (CLI::App* leaf : all_subcommands(*sub)) leaf->allow_extras();
    }
    try {
        app.parse(static_cast<int>(parsed_argv.size()), parsed_argv.data());
    } catch (const CLI::CallForHelp& e) {
        if (!app.get_subcommands().empty()) return app.exit(e);
        std::fputs(help_text().c_str(), stdout);
        return 0;
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        throw_error(usage_error(parse_error_message(app, e)));
    }
    auto path = parsed_path(app);
    refuse_extras(app, path);
    refuse_empty_values(path);
    if (show_version) {
        fmt::print("{}\n", version_text());
        return 0;
    }
    if (app.got_subcommand("help")) return print_help(app, help_topic);
    if (show_help) {
        std::fputs(help_text().c_str(), stdout);
        return 0;
    }
    if (path.size() == 1) {
        std::fputs(help_text().c_str(), stderr);
        return exit_usage;
    }
    if (!action) throw_error(usage_error(fmt::format("{} needs a command", command_name(path))));
    return action();
}

}  // namespace

void flush_output_or_throw() {
    errno = 0;
    if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
        int code = errno != 0 ? errno : EIO;
        throw_error(failure(fmt::format("write error: {}", std::strerror(code)), code));
    }
}

void add_host_option(CLI::App& sub, std::string& spec) {
    sub.add_option("--host", spec,
                   "host to read or plan against: live (default), a host JSON file, a directory holding a "
                   "captured sys/ (and proc/) tree, a synthetic spec (nodes=4,cores=8,smt=2,mem=64G), or "
                   "hwloc:DESC|FILE.xml");
}

CLI::Option* add_number_option(CLI::App& sub, const std::string& name, int& target, const std::string& help,
                               int min, int max) {
    std::string what = name.starts_with('-') ? name : name + " number";
    return sub.add_option_function<std::string>(
        name,
        [&target, what, min, max](const std::string& text) {
            target = value_or_throw(detail::parse_integer_in<int>(text, what, min, max));
        },
        help);
}

Topology load_host_or_throw(const std::string& spec) { return value_or_throw(load_host(spec)); }

int run(int argc, char** argv) {
    int status = exit_failed;
    try {
        status = run_command_line(argc, argv);
        flush_output_or_throw();
        return status;
    } catch (const CommandError& e) {
        print_error(e.error.message);
        status = e.error.kind == ErrorKind::usage ? exit_usage : exit_failed;
    } catch (const std::system_error& e) {
        // fmt::print throws when stdout cannot take the output.
        if (std::ferror(stdout) != 0) print_error(fmt::format("write error: {}", std::strerror(e.code().value())));
        else print_error(e.what());
        status = exit_failed;
    } catch (const std::bad_alloc&) {
        print_error("out of memory");
        status = exit_failed;
    } catch (const nlohmann::json::exception& e) {
        print_error(fmt::format("unexpected JSON: {}", e.what()));
        status = exit_failed;
    } catch (const std::exception& e) {
        print_error(fmt::format("internal error: {}", e.what()));
        status = exit_failed;
    } catch (...) {
        print_error("internal error: an unknown exception");
        status = exit_failed;
    }
    // Whatever was printed before the error still has to reach its reader; the
    // error is the one already reported.
    std::fflush(stdout);
    return status;
}

}  // namespace affine::cli
