#include <gtest/gtest.h>

#include "core/json.hpp"
#include "core/safe_text.hpp"

namespace affine::detail {
namespace {

TEST(SafeText, KeepsValidText) {
    EXPECT_EQ(safe_text("kworker/0:1"), "kworker/0:1");
    EXPECT_EQ(safe_text("données €𝄞"), "données €𝄞");
    EXPECT_EQ(safe_text("/system.slice/serial\\x2dgetty.service"), "/system.slice/serial\\x2dgetty.service");
    EXPECT_EQ(safe_text(""), "");
    EXPECT_TRUE(is_safe_text("qemu-system-x86"));
}

TEST(SafeText, EscapesInvalidBytes) {
    EXPECT_EQ(safe_text("\xff\xfe"), "\\xff\\xfe");
    EXPECT_FALSE(is_safe_text("\xff\xfe"));
    // comm is cut at 15 bytes: "abcdefghijklmn" + the first byte of "é".
    EXPECT_EQ(safe_text("abcdefghijklmn\xc3"), "abcdefghijklmn\\xc3");
    // a three-byte character cut after two bytes, then valid text
    EXPECT_EQ(safe_text("a\xe2\x82z"), "a\\xe2\\x82z");
    EXPECT_EQ(safe_text("\xc0\xaf"), "\\xc0\\xaf");          // overlong '/'
    EXPECT_EQ(safe_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
    EXPECT_EQ(safe_text("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
    EXPECT_EQ(safe_text("\x80x"), "\\x80x");
}

TEST(SafeText, EscapesControlCharacters) {
    EXPECT_EQ(safe_text("a\nb"), "a\\x0ab");
    EXPECT_EQ(safe_text("\x1b[31mred"), "\\x1b[31mred");
    EXPECT_EQ(safe_text("x\x7f"), "x\\x7f");
    EXPECT_EQ(safe_text("\xc2\x85"), "\\xc2\\x85");  // NEL, a C1 control
    EXPECT_EQ(safe_text(std::string_view("a\0b", 3)), "a\\x00b");
}

TEST(SafeText, ResultIsSafeAndJsonDumps) {
    for (std::string_view s : {"\xff\xfe", "abc\xe2", "\xf0\x9f\x98", "ok", "\x01\x02\xfe"}) {
        std::string safe = safe_text(s);
        EXPECT_TRUE(is_safe_text(safe)) << safe;
        Json j{{"name", safe}};
        EXPECT_NO_THROW((void)j.dump());
    }
}

}  // namespace
}  // namespace affine::detail
