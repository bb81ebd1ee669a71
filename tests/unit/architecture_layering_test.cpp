// The layering ARCHITECTURE.md describes, checked on the sources: which folder may
// include which, and the rules that keep the core pure. A broken rule names the file
// and the line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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

bool includes_from(const std::string& text, const std::string& dir) {
    return text.starts_with("#include") &&
           (text.find("\"../" + dir + "/") != std::string::npos || text.find("\"" + dir + "/") != std::string::npos);
}

void expect_no_include(const std::string& from, const std::vector<std::string>& forbidden) {
    for (const Line& l : lines_of(from))
        for (const std::string& dir : forbidden)
            EXPECT_FALSE(includes_from(l.text, dir)) << l.file << ":" << l.number << ": src/" << from
                                                     << " must not include src/" << dir << ": " << l.text;
}

TEST(Layering, CoreIsPure) {
    expect_no_include("core", {"linux", "host", "xen", "sim", "cli"});
    for (const Line& l : lines_of("core"))
        EXPECT_EQ(l.text.find("thread_local"), std::string::npos)
            << l.file << ":" << l.number << ": the core keeps no hidden state";
}

TEST(Layering, XenBackendDoesNotKnowTheSimulator) {
    // The simulated host implements the Xen interface; the interface and the real
    // backend never reach back into it.
    expect_no_include("xen", {"sim", "host", "cli", "linux"});
    expect_no_include("sim", {"host", "cli", "linux"});
}

TEST(Layering, LibraryDoesNotReachTheFrontEnd) {
    for (const char* dir : {"core", "linux", "host", "xen", "sim", "nri"}) expect_no_include(dir, {"cli"});
}

TEST(Layering, FrontEndUsesTypedCapabilities) {
    for (const Line& l : lines_of("cli"))
        EXPECT_EQ(l.text.find("dynamic_cast"), std::string::npos)
            << l.file << ":" << l.number << ": reach a backend's extras through its interface, not a cast";
}

}  // namespace
