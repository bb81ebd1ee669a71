#include "json_output.hpp"

#include <fmt/format.h>

namespace affine::cli {
namespace {

bool pretty_json = false;

}  // namespace

void add_json_flag(CLI::App& sub, bool& json, const std::string& help) {
    // A flag, not an option with an optional value: `show --json 1234` must not read
    // the PID as the style.
    static std::string style;
    sub.add_flag("--json{compact}", style, help + " (one line; --json=pretty indents)")
        ->check(CLI::IsMember({"compact", "pretty"}))
        ->each([&json](const std::string& value) {
            json = true;
            pretty_json = value == "pretty";
        });
    sub.add_flag_callback(
        "--pretty",
        [&json] {
            json = true;
            pretty_json = true;
        },
        "print indented JSON (the same as --json=pretty)");
}

void print_json(const detail::Json& value) { fmt::print("{}\n", value.dump(pretty_json ? 2 : -1)); }

}  // namespace affine::cli
