#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "affine/host.hpp"

namespace affine {

Result<Topology> load_host(std::string_view spec) {
    if (spec.empty() || spec == "live") return read_linux_topology("/");
    if (spec.starts_with("hwloc:")) return hwloc_topology(spec.substr(6));
    if (spec.find('=') != std::string_view::npos) return synthetic_topology(spec);
    std::string path(spec);
    // A directory is a root holding sys/ and proc/: a captured host (as HWLOC_FSROOT).
    if (struct stat st{}; ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        std::string cpus = path + "/sys/devices/system/cpu";
        if (::stat(cpus.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            return usage_error(fmt::format("--host {}: a directory is read as a captured root holding sys/ (and "
                                           "proc/), but {} does not exist",
                                           path, cpus));
        return read_linux_topology(path);
    }
    std::ifstream in(path);
    if (!in)
        return usage_error(fmt::format("--host {}: {} (expected live, a host JSON file, "
                                       "hwloc:DESC|FILE.xml, or a spec such as nodes=4,cores=8,smt=2,mem=64G)",
                                       path, std::strerror(errno)));
    std::stringstream text;
    text << in.rdbuf();
    return topology_from_json(text.str(), path);
}

}  // namespace affine
