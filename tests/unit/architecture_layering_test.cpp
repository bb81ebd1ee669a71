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

// Every line of the .cpp and .hpp files under src/DIR.
std::vector<Line> lines_of(const std::string& dir) {
    std::vector<Line> out;
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(AFFINE_SOURCE_DIR) / "src" / dir)) {
        auto ext = entry.path().extension();
        if (ext != ".cpp" && ext != ".hpp") continue;
        std::ifstream in(entry.path());
        std::string text;
        for (int n = 1; std::getline(in, text); ++n)
            out.push_back({fs::relative(entry.path(), AFFINE_SOURCE_DIR).string(), n, text});
    }
    return out;
}

// The folder a project include names ("../core/x.hpp" or "core/x.hpp"), or "" for
// a public header (affine/...), a system header or an include within the folder.
std::string included_folder(const std::string& text) {
    if (!text.starts_with("#include \"")) return "";
    std::string path = text.substr(10);
    if (path.starts_with("../")) path = path.substr(3);
    auto slash = path.find('/');
    if (slash == std::string::npos) return "";
    std::string folder = path.substr(0, slash);
    return folder == "affine" ? "" : folder;
}

// Every folder of src/ and the folders it may include from; the public headers
// (include/affine/) are open to all. Dependencies run one way: the pure core at the
// bottom, the backends and the daemon's edge above it, the front end on top.
const std::map<std::string, std::set<std::string>>& layers() {
    static const std::map<std::string, std::set<std::string>> table = {
        {"core", {}},
        {"state", {}},
        {"linux", {"core", "state"}},
        {"xen", {"core", "state"}},
        {"sim", {"core", "state", "xen"}},
        {"host", {"core", "linux", "state", "xen", "sim"}},
        {"daemon", {"core", "linux", "state"}},
        {"nri", {"core", "linux", "state", "daemon"}},
        {"cli", {"core", "linux", "state", "xen", "sim", "host", "daemon", "nri"}},
    };
    return table;
}

TEST(Layering, EveryFolderHasItsPlace) {
    for (const auto& entry : fs::directory_iterator(fs::path(AFFINE_SOURCE_DIR) / "src")) {
        if (!entry.is_directory()) continue;
        std::string folder = entry.path().filename().string();
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

TEST(Layering, CoreKeepsNoHiddenState) {
    for (const Line& l : lines_of("core"))
        EXPECT_EQ(l.text.find("thread_local"), std::string::npos)
            << l.file << ":" << l.number << ": the core keeps no hidden state";
}

TEST(Layering, FrontEndUsesTypedCapabilities) {
    for (const Line& l : lines_of("cli"))
        EXPECT_EQ(l.text.find("dynamic_cast"), std::string::npos)
            << l.file << ":" << l.number << ": reach a backend's extras through its interface, not a cast";
}

}  // namespace
