// Shared pieces of the Linux commands: task arguments and report printing.
#pragma once

#include <string>

#include "affine/linux.hpp"

namespace affine::cli {

// A PID or TID argument: a positive decimal number; throws a usage CommandError
// naming the argument otherwise.
int parse_task_id_or_throw(const std::string& text);

// Prints a migration: pages per node before and after, and what did not move.
void print_migration(const MigrationReport& report);

}  // namespace affine::cli
