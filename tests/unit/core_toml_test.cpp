#include "core/toml.hpp"

#include <gtest/gtest.h>

#include <string>

namespace affine::detail {
namespace {

std::string error_of(std::string_view text) {
    auto parsed = parse_toml(text, "daemon.conf");
    return parsed ? "" : parsed.error().message;
}

TEST(Toml, ReadsADocument) {
    auto parsed = parse_toml("# é in a comment\nname = \"é\"\nbio = '''ü\n'''\n[t]\nk = 1\n", "daemon.conf");
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->at_path("name").value_or(std::string()), "é");
    EXPECT_EQ(parsed->at_path("t.k").value_or(0), 1);
}

TEST(Toml, ErrorsNameTheFileAndLine) {
    EXPECT_TRUE(error_of("a = 1\nb = \n").starts_with("daemon.conf:2: "));
}

TEST(Toml, ATableHeaderWithoutANameIsAnError) {
    EXPECT_TRUE(error_of("a = 1\n[\nb = 2\n").starts_with("daemon.conf:2: ")) << error_of("a = 1\n[\nb = 2\n");
    EXPECT_TRUE(error_of("[[\n").starts_with("daemon.conf:1: "));
}

TEST(Toml, ControlCharactersAreRefusedWhereverTheyAre) {
    EXPECT_EQ(error_of("a = 1\n[\x01]\n"), "daemon.conf:2: control character 0x01 (TOML allows none but tab)");
    EXPECT_TRUE(error_of(std::string("a = \"x\0y\"\n", 10)).starts_with("daemon.conf:1: control character 0x00"));
    EXPECT_TRUE(error_of("a = \"\x7f\"\n").starts_with("daemon.conf:1: control character 0x7f"));
}

TEST(Toml, NonAsciiOutsideStringsAndCommentsIsRefused) {
    // TOML's bare keys are ASCII; toml++ 3.3 reaches unreachable code on some letters.
    EXPECT_EQ(error_of("a = 1\n\xca\xbe" "B = 2\n"), "daemon.conf:2: a non-ASCII character outside a string or comment");
    EXPECT_EQ(error_of("a = \"x\\\"\" \xc3\xa9\n"), "daemon.conf:1: a non-ASCII character outside a string or comment");
    EXPECT_EQ(error_of("a = \"\"\"\n\xc3\xa9\n\"\"\"\n"), "");
    // A quote inside a bare token opens no string: toml++ reads on through it.
    EXPECT_EQ(error_of("a=3s_x[[ek'\xd2\x8c'\n"), "daemon.conf:1: a non-ASCII character outside a string or comment");
    EXPECT_EQ(error_of("a = [\n  'ü',\n  \"é\"\n]\nt = { k = 'ä' }\n"), "");
}

}  // namespace
}  // namespace affine::detail
