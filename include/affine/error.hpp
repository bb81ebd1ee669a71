// Errors as values: every fallible library function returns Result<T>.
#pragma once

#include <expected>
#include <string>
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

// The one exception type: thrown only at the top of the command line, from an Error.
struct CommandError {
    Error error;
};

// Returns the value of `result`, or throws its error as a CommandError (front ends only).
template <typename T>
T value_or_throw(Result<T> result) {
    if (!result) throw CommandError{std::move(result.error())};
    return std::move(*result);
}

}  // namespace affine
