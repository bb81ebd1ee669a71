// toml++ for every file of affine, in one configuration: header-only (the binary
// needs no extra shared library) and exception-free. Every file that reads TOML
// includes this header instead of <toml++/toml.h>: two configurations in one
// program break the one-definition rule (and crash).
#pragma once

#undef TOML_HEADER_ONLY
#undef TOML_SHARED_LIB
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>
