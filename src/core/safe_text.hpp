// Text another process wrote (a task's comm, its cgroup path, a rule or file name)
// made safe to carry: into the daemon's journal, its socket replies, log lines and
// --json output. One place does it, where the text enters. Pure.
#pragma once

#include <string>
#include <string_view>

namespace affine::detail {

// `text` as valid UTF-8 without control characters: every byte that is not part of
// a well-formed UTF-8 sequence (a stray continuation byte, a character cut short,
// an overlong form, a surrogate, past U+10FFFF) and every control character (C0,
// DEL, C1) becomes "\xNN" with its value in hex, as systemd escapes journal fields.
// Text that is already safe comes back unchanged; a backslash is kept as it is, so
// the result is for reading, not for turning back into the original bytes.
std::string safe_text(std::string_view text);

// Whether `text` is already what safe_text returns.
bool is_safe_text(std::string_view text);

}  // namespace affine::detail
