#include "state/state_file.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>

namespace affine {
namespace {

namespace fs = std::filesystem;

struct StateFileTest : ::testing::Test {
    fs::path dir;
    std::string path;
    void SetUp() override {
        char tmpl[] = "/tmp/affine-state-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        path = (dir / "state.json").string();
    }
    void TearDown() override { fs::remove_all(dir); }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
        std::ranges::sort(out);
        return out;
    }
};

TEST_F(StateFileTest, WritesAtomicallyWithMode0600AndReadsBack) {
    auto state = StateFile::lock(path, LockWait::fail_if_held);
    ASSERT_TRUE(state) << state.error().message;
    auto none = state->read();
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);  // not written yet
    ASSERT_TRUE(state->write("one\n"));
    ASSERT_TRUE(state->write("two\n"));
    EXPECT_EQ(state->read()->value(), "two\n");
    struct stat st{};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    // No temporary is left behind; the lock file stays.
    EXPECT_EQ(names(), (std::vector<std::string>{"state.json", "state.json.lock"}));
    ASSERT_TRUE(state->remove());
    ASSERT_TRUE(state->remove());  // idempotent
    EXPECT_FALSE(*state->read());
}

TEST_F(StateFileTest, SecondLockerFailsOrWaitsUntilReleased) {
    auto first = StateFile::lock(path, LockWait::fail_if_held);
    ASSERT_TRUE(first);
    // flock conflicts between open file descriptions, so a second lock in this
    // process behaves as a second process would.
    auto second = StateFile::lock(path, LockWait::fail_if_held);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, EWOULDBLOCK);
    EXPECT_NE(second.error().message.find("in use by another affine process"), std::string::npos);
    {
        StateFile moved = std::move(*first);  // the lock moves with the object
        EXPECT_FALSE(StateFile::lock(path, LockWait::fail_if_held));
    }
    EXPECT_TRUE(StateFile::lock(path, LockWait::fail_if_held));
    EXPECT_TRUE(StateFile::lock(path, LockWait::wait));
}

TEST_F(StateFileTest, FollowsNoSymlink) {
    std::string target = (dir / "target").string();
    std::ofstream(target) << "keep";
    fs::create_symlink(target, path);
    auto state = StateFile::lock(path, LockWait::wait);
    ASSERT_TRUE(state);
    auto read = state->read();
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().code, ELOOP);
    // Writing replaces the link itself; the file it pointed to is untouched.
    ASSERT_TRUE(state->write("new"));
    EXPECT_FALSE(fs::is_symlink(path));
    std::ifstream in(target);
    std::string kept;
    in >> kept;
    EXPECT_EQ(kept, "keep");

    fs::create_symlink(target, path + "2.lock");
    auto locked = StateFile::lock(path + "2", LockWait::wait);
    ASSERT_FALSE(locked);
    EXPECT_EQ(locked.error().code, ELOOP);
}

TEST_F(StateFileTest, ParentDirectoriesOnRequest) {
    std::string deep = (dir / "a" / "b" / "state.json").string();
    auto missing = StateFile::lock(deep, LockWait::wait);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ENOENT);
    auto made = StateFile::lock(deep, LockWait::wait, ParentDirs::create);
    ASSERT_TRUE(made) << made.error().message;
    EXPECT_TRUE(made->write("x"));
}

// Runs CHECK in a child process with a mount namespace of its own, so that mounts made
// to inject a failure reach no other process. Returns the child's exit status: 0 when
// every check held, else the number of the first that failed.
template <class Check>
int in_private_mounts(Check check) {
    pid_t child = ::fork();
    if (child == 0) {
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            ::_exit(100);
        ::_exit(check());
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

TEST_F(StateFileTest, FailedWriteKeepsTheOldContents) {
    auto state = StateFile::lock(path, LockWait::wait);
    ASSERT_TRUE(state);
    ASSERT_TRUE(state->write("old"));
    if (::geteuid() != 0) {
        // A user cannot write into a directory without write permission.
        fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
        auto w = state->write("new");
        fs::permissions(dir, fs::perms::owner_all);
        ASSERT_FALSE(w);
        EXPECT_EQ(w.error().code, EACCES);
        EXPECT_EQ(state->read()->value(), "old");
        return;
    }
    // Root writes anywhere the permissions say no: a read-only bind mount stops it.
    int status = in_private_mounts([&] {
        std::string d = dir.string();
        if (::mount(d.c_str(), d.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
            ::mount(nullptr, d.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0)
            return 101;
        auto w = state->write("new");
        if (w) return 1;
        if (w.error().code != EROFS) return 2;
        if (state->read()->value_or("") != "old") return 3;
        return 0;
    });
    EXPECT_EQ(status, 0);
    EXPECT_EQ(state->read()->value(), "old");
}

TEST_F(StateFileTest, FullFileSystemKeepsTheOldContentsAndLeavesNoTemporary) {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
    int status = in_private_mounts([&] {
        std::string d = dir.string();
        if (::mount("tmpfs", d.c_str(), "tmpfs", 0, "size=64k,mode=0700") != 0) return 101;
        auto state = StateFile::lock(path, LockWait::wait);
        if (!state || !state->write("old")) return 102;
        {   // Fill what is left of the file system.
            std::ofstream filler(dir / "filler", std::ios::binary);
            std::string block(4096, 'x');
            while (filler.write(block.data(), static_cast<std::streamsize>(block.size())) && filler.flush()) {
            }
        }
        auto w = state->write(std::string(64 * 1024, 'n'));
        if (w) return 1;
        if (w.error().code != ENOSPC) return 2;
        if (state->read()->value_or("") != "old") return 3;
        for (const auto& e : fs::directory_iterator(dir)) {
            std::string name = e.path().filename().string();
            if (name != "state.json" && name != "filler" && !name.ends_with(".lock")) return 4;
        }
        return 0;
    });
    EXPECT_EQ(status, 0);
}

}  // namespace
}  // namespace affine
