// The daemon's journal: every soft-affinity request (desired state that outlives
// the daemon) and every thread it manages with the mask it had when taken, keyed by
// (pid, start time) and (tid, start time) so a reused id is never mistaken for the
// old task. Written before every change, so that after a crash each thread holds
// either its journalled `previous` or `applied` mask, both the daemon's.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "daemon/engine/soft_request.hpp"

namespace affine::daemon {

struct JournalThread {
    int tid = 0;
    unsigned long long start_time = 0;
    CpuSet original;                 // its mask when taken: what a clean stop restores
    CpuSet hard;                     // where it may run (original minus reserved CPUs)
    CpuSet applied;                  // the mask the daemon set, or is about to set
    std::optional<CpuSet> previous;  // the mask before a change in flight
};

// A thread someone else changed: released, and never taken again while it lives.
struct JournalReleased {
    int tid = 0;
    unsigned long long start_time = 0;
};

// A request and the threads it holds, each with the masks a restart needs.
struct JournalWorkload : SoftRequest {
    std::vector<JournalThread> threads;
    std::vector<JournalReleased> released;  // its threads released (a restart must not take them again)
};

struct Journal {
    std::vector<JournalWorkload> workloads;
};

std::string format_journal(const Journal& journal);
// Failed error naming `path` when the text is not a whole journal (a truncated
// file, another format).
Result<Journal> parse_journal(std::string_view text, const std::string& path);

// The journal file in the state directory.
class JournalFile {
public:
    explicit JournalFile(std::string path) : path_(std::move(path)) {}
    // Writes the whole journal: a StateFile (locked, atomic replacement, fsync of the
    // file and its directory, mode 0600, no symlink followed). On failure the
    // previous journal is intact and the error says why.
    Result<void> save(const Journal& journal) const;
    // Reads it; an empty journal when there is none. A file that cannot be parsed
    // is moved aside to PATH.bad (so the daemon can start) and reported in
    // `set_aside`. Leftover temporary files of an interrupted save are removed.
    struct Loaded {
        Journal journal;
        std::string set_aside;  // why the file was set aside, "" when it was fine
    };
    Result<Loaded> load() const;
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace affine::daemon
