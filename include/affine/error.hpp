// Errors as values: every fallible library function returns Result<T>.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace affine {

// Why an operation did not happen; decides the exit status of the command line.
enum class ErrorKind {
    usage,   // the request itself is malformed (exit status 2)
    failed,  // a well-formed request the system refused or could not do (exit status 1)
};

// What went wrong, in the user's terms: what was being done, to what, and why.
// `code` is the errno of the system call that failed, or 0.
struct Error {
    ErrorKind kind = ErrorKind::failed;
    std::string message;
    int code = 0;
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> usage_error(std::string message) {
    return std::unexpected(Error{ErrorKind::usage, std::move(message), 0});
}

inline std::unexpected<Error> failure(std::string message, int code = 0) {
    return std::unexpected(Error{ErrorKind::failed, std::move(message), code});
}

// The one exception type: thrown only at the top of the command line, from an Error,
// and caught by the command line's run(), which prints it and sets the exit status.
struct CommandError {
    Error error;
};

// The front ends' two ways to raise an error, and the only ones:
//
// value_or_throw(result[, context]): the value of `result`, or its error thrown as a
// CommandError; with `context`, the message becomes "context: message".
template <typename T>
T value_or_throw(Result<T> result, std::string_view context = {}) {
    if (!result) {
        Error e = std::move(result.error());
        if (!context.empty()) e.message = std::string(context) + ": " + e.message;
        throw CommandError{std::move(e)};
    }
    if constexpr (!std::is_void_v<T>) return std::move(*result);
}

// throw_error(error): throws a fresh error, made with usage_error() or failure(), or
// one a call returned.
[[noreturn]] inline void throw_error(std::unexpected<Error> error) { throw CommandError{std::move(error).error()}; }
[[noreturn]] inline void throw_error(Error error) { throw CommandError{std::move(error)}; }

}  // namespace affine
