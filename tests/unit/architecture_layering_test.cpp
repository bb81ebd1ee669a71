// The layering ARCHITECTURE.md describes, checked on the sources: which folder may
// include which, and the rules that keep the core pure. A broken rule names the file
// and the line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Line {
    std::string file;
    int number = 0;
    std::string text;
};

// Each folder of src/ and what it may include. A domain's pure code is a folder of
// its own inside the domain (daemon/engine, xen/model, xen/sim), with its own layer.
const std::map<std::string, std::set<std::string>>& layers() {
    static const std::map<std::string, std::set<std::string>> table = {
        {"core", {}},
        {"planner", {"core"}},
        {"os", {}},
        {"state", {"os"}},
        {"linux", {"core", "planner", "os", "state"}},
        {"xen/model", {"core", "planner"}},
        {"xen", {"core", "planner", "os", "state", "xen/model"}},
        {"xen/sim", {"core", "planner", "os", "state", "xen", "xen/model"}},
        {"host", {"core", "planner", "linux", "os", "state", "xen", "xen/model", "xen/sim"}},
        {"daemon/engine", {"core", "planner"}},
        {"daemon", {"core", "planner", "linux", "os", "state", "daemon/engine"}},
        {"nri", {"core", "planner", "linux", "os", "state", "daemon", "daemon/engine"}},
        {"cli", {"core", "planner", "linux", "os", "state", "xen", "xen/model", "xen/sim", "host", "daemon",
                 "daemon/engine", "nri"}},
    };
    return table;
}

// The layer of a file or include path relative to src/: the longest folder of the
// table it lies in ("" when none).
std::string layer_of(const std::string& path) {
    std::string best;
    for (const auto& [folder, allowed] : layers())
        if (path.starts_with(folder + "/") && folder.size() > best.size()) best = folder;
    return best;
}

// The folder a quoted include of src/ names ("" for public headers and neighbours).
std::string included_folder(const std::string& text) {
    if (!text.starts_with("#include \"")) return "";
    std::string path = text.substr(10, text.find('"', 10) - 10);
    return path.starts_with("affine/") ? "" : layer_of(path);
}

// The lines of every source file whose own layer is `dir`.
std::vector<Line> lines_of(const std::string& dir) {
    std::vector<Line> out;
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(AFFINE_SOURCE_DIR) / "src" / dir)) {
        auto ext = entry.path().extension();
        if (ext != ".cpp" && ext != ".hpp") continue;
        if (layer_of(fs::relative(entry.path(), fs::path(AFFINE_SOURCE_DIR) / "src").string()) != dir) continue;
        std::ifstream in(entry.path());
        std::string text;
        for (int n = 1; std::getline(in, text); ++n)
            out.push_back({fs::relative(entry.path(), AFFINE_SOURCE_DIR).string(), n, text});
    }
    return out;
}

TEST(Layering, EveryFolderHasItsPlace) {
    const fs::path src = fs::path(AFFINE_SOURCE_DIR) / "src";
    for (const auto& entry : fs::recursive_directory_iterator(src)) {
        if (!entry.is_directory()) continue;
        std::string folder = fs::relative(entry.path(), src).string();
        EXPECT_TRUE(layers().contains(folder))
            << "src/" << folder << " is in no layer: add it to layers() here and to ARCHITECTURE.md";
    }
}

TEST(Layering, IncludesFollowTheLayers) {
    for (const auto& [folder, allowed] : layers()) {
        if (!fs::exists(fs::path(AFFINE_SOURCE_DIR) / "src" / folder)) continue;
        for (const Line& l : lines_of(folder)) {
            std::string to = included_folder(l.text);
            if (to.empty() || to == folder) continue;
            EXPECT_TRUE(allowed.contains(to))
                << l.file << ":" << l.number << ": src/" << folder << " must not include src/" << to << ": " << l.text;
        }
    }
}

// The pure layers: the model, the planner, the daemon's engine and the Xen model.
const std::vector<std::string> pure_layers = {"core", "planner", "daemon/engine", "xen/model"};

TEST(Layering, PureCodeKeepsNoHiddenState) {
    for (const auto& folder : pure_layers)
        for (const Line& l : lines_of(folder))
            EXPECT_EQ(l.text.find("thread_local"), std::string::npos)
                << l.file << ":" << l.number << ": pure code keeps no hidden state";
}

TEST(Layering, PureCodeDoesNoIo) {
    const std::vector<std::string> io_headers = {"<sys/", "<unistd.h>", "<fcntl.h>", "<fstream>", "<filesystem>",
                                                 "<cstdio>", "<iostream>"};
    for (const auto& folder : pure_layers)
        for (const Line& l : lines_of(folder))
            for (const auto& header : io_headers)
                EXPECT_FALSE(l.text.starts_with("#include " + header))
                    << l.file << ":" << l.number << ": pure code does no I/O: " << l.text;
}

TEST(Layering, FrontEndUsesTypedCapabilities) {
    for (const Line& l : lines_of("cli"))
        EXPECT_EQ(l.text.find("dynamic_cast"), std::string::npos)
            << l.file << ":" << l.number << ": reach a backend's extras through its interface, not a cast";
}

}  // namespace
