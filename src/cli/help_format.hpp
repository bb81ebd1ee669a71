// How `affine COMMAND --help` reads: usage lines a person would type, option values
// named by what they are (`--cpus CPUS`, `--to list|hex|kernel`), none of the parser's
// own notation; and the nearest name for a mistyped command or option.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace affine::cli {

// The formatter of every command's help. `usage` replaces the generated usage line
// ("pin CPUS PID... [OPTIONS]"; several lines separated by '\n', each without
// "affine "); empty: generated from the options and arguments.
class HelpFormatter : public CLI::Formatter {
public:
    explicit HelpFormatter(std::string usage = {}) : usage_(std::move(usage)) {}
    std::string make_usage(const CLI::App* app, std::string name) const override;
    std::string make_option_name(const CLI::Option* opt, bool is_positional) const override;
    std::string make_option_opts(const CLI::Option* opt) const override;

private:
    std::string usage_;
};

// Gives `sub` its usage lines (see HelpFormatter).
void set_usage(CLI::App& sub, std::string usage);

// The candidate closest to `word` when it is a likely typo of it (at most two
// edits, a swap of neighbours counting as one, and fewer than half its letters);
// nullopt otherwise.
std::optional<std::string> closest_name(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean NAME?)" for closest_name, or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace affine::cli
