// A daemon's world for the unit tests: a made-up procfs tree, fake system calls,
// a state directory in /tmp, and a SoftManager over them.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "daemon/soft_manager.hpp"
#include "linux_fake.hpp"

namespace affine::daemon::testing {

using linux_backend::testing::FakeSyscalls;
using linux_backend::testing::ProcTree;

struct DaemonWorld {
    ProcTree tree;
    linux_backend::SysFs fs{tree.root()};
    FakeSyscalls sys;
    Topology host = *synthetic_topology("nodes=2,cores=1");  // CPU 0 on node 0, CPU 1 on node 1
    linux_backend::Env env{fs, sys, host};
    std::string dir;
    std::vector<std::string> log;

    DaemonWorld() {
        static int serial = 0;
        dir = (std::filesystem::temp_directory_path() / fmt::format("affine-state-{}-{}", ::getpid(), serial++)).string();
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        sys.pid = 1;
    }
    ~DaemonWorld() { std::filesystem::remove_all(dir); }
    DaemonWorld(const DaemonWorld&) = delete;
    DaemonWorld& operator=(const DaemonWorld&) = delete;

    std::string journal() const { return dir + "/soft-affinity.json"; }
    SoftManager manager() {
        return SoftManager(env, JournalFile(journal()), [this](const std::string& l) { log.push_back(l); });
    }
    // A process `pid` with threads `tids` (the first is pid), each on CPUs 0-1.
    void process(int pid, std::vector<int> tids, unsigned uid = 1000, unsigned long long start = 5000) {
        for (int tid : tids) {
            tree.add_task(pid, tid, tid == pid ? "job" : "worker", 0x400000, start, 0, uid);
            sys.masks[tid] = CpuSet{0, 1};
        }
    }
    // The thread's accounting so far (ns on a CPU, ns waiting) and the CPU it is on.
    void account(int pid, int tid, std::uint64_t run_ms, std::uint64_t wait_ms, int cpu,
                 unsigned long long start = 5000) {
        tree.write(fmt::format("/proc/{}/task/{}/schedstat", pid, tid),
                   fmt::format("{} {} 10\n", run_ms * 1000000, wait_ms * 1000000));
        tree.add_task(pid, tid, tid == pid ? "job" : "worker", 0x400000, start, cpu, 1000);
        // The process ran: its CPU time (of all its threads, /proc/PID/stat) advances.
        process_ticks[pid] += 1 + run_ms / 10;
        tree.write(fmt::format("/proc/{}/stat", pid),
                   fmt::format("{} (job) S 1 {} {} 0 -1 4194304 0 0 0 0 {} 0 0 0 20 0 1 0 {} 100 10 0 0 0 0 0 0 0 0 0 0 0 "
                               "0 0 17 {} 0 0 0 0 0",
                               pid, pid, pid, process_ticks[pid], start, cpu));
    }
    std::map<int, std::uint64_t> process_ticks;
    bool logged(std::string_view needle) const {
        for (const auto& l : log)
            if (l.find(needle) != std::string::npos) return true;
        return false;
    }
    static Clock at(long long ms) { return {Millis{ms}, 1.7e9 + static_cast<double>(ms) / 1000.0}; }
};

inline protocol::Request soft_request(std::vector<int> ids, std::optional<CpuSet> cpus, bool all_threads = true) {
    protocol::Request r;
    r.op = protocol::Op::set_soft;
    r.ids = std::move(ids);
    r.cpus = std::move(cpus);
    r.all_threads = all_threads;
    return r;
}

inline const protocol::PeerCredentials user_peer{4000, 1000, 1000, false};

}  // namespace affine::daemon::testing
