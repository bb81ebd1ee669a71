#include <fmt/format.h>

#include "command.hpp"

namespace affine::cli {

std::string version_text() { return fmt::format("affine {}\nLinux: yes", AFFINE_VERSION); }

}  // namespace affine::cli
