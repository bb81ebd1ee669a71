// toml++ for every file of affine, in one configuration: header-only (the binary
// needs no extra shared library) and exception-free. Every file that reads TOML
// includes this header instead of <toml++/toml.h>: two configurations in one
// program break the one-definition rule (and crash).
#pragma once

#undef TOML_HEADER_ONLY
#undef TOML_SHARED_LIB
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
// toml++ 3.3 asserts (debug builds) or tells the compiler to assume (clang release
// builds) that a table header's name starts with a key character; "[" at the end of
// a line breaks that, and the parser's own error for it is then never reached. Its
// assertions are made plain checks-free statements, so the parser's errors stand.
#include <toml++/impl/preprocessor.h>
#undef TOML_ASSERT
#define TOML_ASSERT(expr) static_assert(true)
#undef TOML_ASSERT_ASSUME
#define TOML_ASSERT_ASSUME(expr) static_assert(true)
#include <toml++/toml.h>

#include <string_view>

#include "affine/error.hpp"

namespace affine::detail {

// The one way affine reads a TOML document: `text` parsed as the file `source`.
// Usage error "SOURCE:LINE: why" (the one format of a file error) for a control
// character TOML forbids (any below U+0020 but tab, line feed and carriage return,
// and DEL: toml++ 3.3 asserts on some of them instead of refusing them) and for
// every syntax error toml++ reports. Pure.
Result<toml::table> parse_toml(std::string_view text, std::string_view source);

// A usage error at a line of `source`, in that format.
Error toml_error_at(std::string_view source, std::size_t line, std::string_view why);

}  // namespace affine::detail
