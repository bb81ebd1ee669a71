// One rule for JSON output in every command: `--json` prints compact JSON (one line,
// for scripts), `--json=pretty` or `--pretty` indented JSON (for people).
#pragma once

#include <CLI/CLI.hpp>

#include "core/json.hpp"

namespace affine::cli {

// Declares --json[=compact|pretty] and --pretty on `sub`; either sets `json`. The
// style chosen holds for the process (one command runs per process).
void add_json_flag(CLI::App& sub, bool& json, const std::string& help);

// Prints `value` in the style chosen on the command line, and a newline.
void print_json(const detail::Json& value);

}  // namespace affine::cli
