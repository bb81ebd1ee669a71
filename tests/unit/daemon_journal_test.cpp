// The journal file: its format, atomic 0600 writes that follow no symlink, and
// recovery from what a crash leaves (a temporary file, a truncated journal).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/json.hpp"
#include "daemon/journal.hpp"
#include "daemon/state_dir.hpp"
#include "daemon_fixture.hpp"

namespace affine::daemon {
namespace {

Journal sample() {
    Journal j;
    JournalWorkload w;
    w.pid = 4312;
    w.start_time = 123456;
    w.command = "job";
    w.uid = 1000;
    w.soft = CpuSet{0, 1};
    w.all_threads = true;
    w.children = true;
    w.origin = "run --soft by uid 1000";
    w.since = 1.7e9;
    w.requester_uid = 1000;
    w.threads.push_back({4312, 123456, CpuSet{0, 1, 2, 3}, CpuSet{0, 1, 2, 3}, CpuSet{0, 1}, std::nullopt});
    w.threads.push_back({4313, 123460, CpuSet{0, 1, 2, 3}, CpuSet{0, 1, 2, 3}, CpuSet{0, 1, 2, 3}, CpuSet{0, 1}});
    w.released.push_back({4314, 123470});
    j.workloads.push_back(w);
    return j;
}

TEST(Journal, RoundTrip) {
    auto back = parse_journal(format_journal(sample()), "j");
    ASSERT_TRUE(back) << back.error().message;
    ASSERT_EQ(back->workloads.size(), 1U);
    const auto& w = back->workloads[0];
    EXPECT_EQ(w.start_time, 123456U);
    EXPECT_TRUE(w.children);
    ASSERT_EQ(w.threads.size(), 2U);
    EXPECT_FALSE(w.threads[0].previous);
    EXPECT_EQ(w.threads[1].previous, (CpuSet{0, 1}));
    EXPECT_EQ(w.threads[1].applied, (CpuSet{0, 1, 2, 3}));
    ASSERT_EQ(w.released.size(), 1U);
    EXPECT_EQ(w.released[0].tid, 4314);
    EXPECT_EQ(w.released[0].start_time, 123470U);
    // A journal written before releases were kept reads as none released.
    auto text = format_journal(sample());
    auto older = detail::Json::parse(text);
    older["workloads"][0].erase("released");
    auto old = parse_journal(older.dump(), "j");
    ASSERT_TRUE(old) << old.error().message;
    EXPECT_TRUE(old->workloads[0].released.empty());
}

TEST(Journal, SavedAtomicallyOwnerOnly) {
    testing::DaemonWorld world;
    JournalFile f(world.journal());
    ASSERT_TRUE(f.save(sample()));
    struct stat st{};
    ASSERT_EQ(::stat(world.journal().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    auto loaded = f.load();
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->journal.workloads.size(), 1U);
    EXPECT_TRUE(loaded->set_aside.empty());
}

TEST(Journal, NoFileIsAnEmptyJournal) {
    testing::DaemonWorld world;
    auto loaded = JournalFile(world.journal()).load();
    ASSERT_TRUE(loaded);
    EXPECT_TRUE(loaded->journal.workloads.empty());
}

TEST(Journal, AnInterruptedSaveLeavesThePreviousJournal) {
    testing::DaemonWorld world;
    JournalFile f(world.journal());
    ASSERT_TRUE(f.save(sample()));
    std::string tmp = world.journal() + ".a1B2c3";  // a StateFile temporary
    std::ofstream(tmp) << "{\"version\":1,\"workl";  // killed mid-write, before the rename
    auto loaded = f.load();
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->journal.workloads.size(), 1U);
    EXPECT_FALSE(std::filesystem::exists(tmp));
}

TEST(Journal, ATruncatedJournalIsSetAsideAndReported) {
    testing::DaemonWorld world;
    std::string text = format_journal(sample());
    std::ofstream(world.journal()) << text.substr(0, text.size() / 2);
    auto loaded = JournalFile(world.journal()).load();
    ASSERT_TRUE(loaded);
    EXPECT_TRUE(loaded->journal.workloads.empty());
    EXPECT_NE(loaded->set_aside.find("is not a whole journal"), std::string::npos) << loaded->set_aside;
    EXPECT_TRUE(std::filesystem::exists(world.journal() + ".bad"));
    EXPECT_FALSE(std::filesystem::exists(world.journal()));
}

TEST(Journal, AFieldMissingOrOfAnotherTypeIsNamed) {
    std::string text = format_journal(sample());
    auto missing = parse_journal(std::string(text).replace(text.find("requester_uid"), 13, "reeuqster_uid"), "j.json");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("j.json is not a whole journal"), std::string::npos) << missing.error().message;
    EXPECT_NE(missing.error().message.find("missing field \"requester_uid\""), std::string::npos) << missing.error().message;
    auto bad_tid = parse_journal("{\"version\":1,\"workloads\":[{\"pid\":\"12\"}]}", "j.json");
    ASSERT_FALSE(bad_tid);
    EXPECT_NE(bad_tid.error().message.find("workloads[0].pid: expected an integer"), std::string::npos)
        << bad_tid.error().message;
}

TEST(Journal, SymlinksAreNeverFollowed) {
    testing::DaemonWorld world;
    std::string target = world.dir + "/elsewhere";
    std::ofstream(target) << "precious";
    std::filesystem::create_symlink(target, world.journal());
    JournalFile f(world.journal());
    EXPECT_FALSE(f.load());  // a journal that is a symlink is not read
    ASSERT_TRUE(f.save(sample()));  // the link is replaced, not written through
    EXPECT_FALSE(std::filesystem::is_symlink(world.journal()));
    ASSERT_TRUE(f.load());
    std::ifstream in(target);
    std::string content;
    in >> content;
    EXPECT_EQ(content, "precious");
}

TEST(StateDir, OneDaemonAtATime) {
    testing::DaemonWorld world;
    ASSERT_TRUE(prepare_state_dir(world.dir));
    auto first = InstanceLock::acquire(world.dir);
    ASSERT_TRUE(first);
    auto second = InstanceLock::acquire(world.dir);
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message.find(fmt::format("another affine daemon runs on this host (pid {}", ::getpid())),
              std::string::npos)
        << second.error().message;
}

TEST(StateDir, ASymlinkedStateDirIsRefused) {
    testing::DaemonWorld world;
    std::string link = world.dir + "/link";
    std::filesystem::create_directory_symlink(world.dir, link);
    auto r = prepare_state_dir(link);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("is a symlink"), std::string::npos);
}

}  // namespace
}  // namespace affine::daemon
