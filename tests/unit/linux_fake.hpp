// Test doubles for the Linux backend: a fake system call layer that can inject
// errors at chosen calls, and a procfs/sysfs tree built in a temporary directory.
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "affine/host.hpp"
#include "linux/procfs.hpp"
#include "linux/syscalls.hpp"

namespace affine::linux_backend::testing {

class FakeSyscalls final : public Syscalls {
public:
    std::map<int, CpuSet> masks;  // tid -> affinity; a missing tid is ESRCH
    // Errors to inject: (call name, tid) -> errno, used once each (tid -1: any).
    std::multimap<std::pair<std::string, int>, int> inject;
    std::function<void(int tid)> on_set;  // runs before a set_affinity takes effect
    std::function<void(int tid)> on_get;  // runs before a get_affinity answers
    std::function<void()> on_sleep;       // runs in each sleep_for (nothing sleeps)
    std::chrono::milliseconds slept{0};   // the sum of the sleeps asked for
    // What set_affinity stores, given the request (default: the request itself).
    std::function<CpuSet(int tid, const CpuSet&)> effective;
    int set_calls = 0;
    int get_calls = 0;
    bool preferred_many = true;
    MemPolicyState policy;
    std::vector<std::tuple<int, NodeSet, NodeSet>> migrations;
    std::function<long(int, const NodeSet&, const NodeSet&)> migrate;
    std::vector<std::vector<std::string>> execs;
    int exec_errno = ENOENT;
    unsigned euid = 1000;
    int pid = 1;

    SysResult<CpuSet> get_affinity(int tid) override {
        ++get_calls;
        if (on_get) on_get(tid);
        if (auto e = take("get_affinity", tid)) return std::unexpected(*e);
        auto it = masks.find(tid == 0 ? pid : tid);
        if (it == masks.end()) return std::unexpected(ESRCH);
        return it->second;
    }
    SysResult<void> set_affinity(int tid, const CpuSet& cpus) override {
        ++set_calls;
        if (on_set) on_set(tid);
        if (auto e = take("set_affinity", tid)) return std::unexpected(*e);
        auto it = masks.find(tid == 0 ? pid : tid);
        if (it == masks.end()) return std::unexpected(ESRCH);
        it->second = effective ? effective(tid, cpus) : cpus;
        return {};
    }
    SysResult<void> set_mempolicy(int mode, const NodeSet& nodes) override {
        if (auto e = take("set_mempolicy", mode)) return std::unexpected(*e);
        if (mode == mpol::preferred_many && !preferred_many) return std::unexpected(EINVAL);
        policy = {mode, nodes};
        return {};
    }
    SysResult<MemPolicyState> get_mempolicy() override { return policy; }
    SysResult<long> migrate_pages(int target, const NodeSet& from, const NodeSet& to) override {
        if (auto e = take("migrate_pages", target)) return std::unexpected(*e);
        migrations.emplace_back(target, from, to);
        return migrate ? migrate(target, from, to) : 0;
    }
    // Pages of each process for move_pages: address -> node (a missing address is
    // -EFAULT); `pinned_pages` never move (-EBUSY); `hidden_pages` are reported
    // absent (-ENOENT), as some kernels do for pages marked by NUMA balancing.
    std::map<int, std::map<std::uint64_t, int>> pages;
    std::set<std::uint64_t> pinned_pages;
    std::set<std::uint64_t> hidden_pages;
    // Non-zero: pages come in aligned huge pages of this size (transparent huge
    // pages): moving one address moves all of its huge page, and its other
    // addresses in the same call report -EBUSY (already taken for the move).
    std::uint64_t huge_page_bytes = 0;
    std::function<void(int)> moved;  // called after a move_pages that moves (numa_maps follows)
    int move_pages_calls = 0;
    SysResult<void> move_pages(int target, const std::vector<std::uint64_t>& addresses, const std::vector<int>& nodes,
                               std::vector<int>& status) override {
        ++move_pages_calls;
        if (auto e = take("move_pages", target)) return std::unexpected(*e);
        auto p = pages.find(target);
        if (p == pages.end()) return std::unexpected(ESRCH);
        status.assign(addresses.size(), 0);
        std::set<std::uint64_t> moved_huge;  // huge pages this call moved
        for (std::size_t i = 0; i < addresses.size(); ++i) {
            auto it = p->second.find(addresses[i]);
            if (it == p->second.end()) {
                status[i] = -EFAULT;
                continue;
            }
            if (hidden_pages.contains(addresses[i])) {
                status[i] = -ENOENT;
                continue;
            }
            if (!nodes.empty()) {
                if (pinned_pages.contains(addresses[i])) {
                    status[i] = -EBUSY;
                    continue;
                }
                if (huge_page_bytes > 0) {
                    std::uint64_t huge = addresses[i] - addresses[i] % huge_page_bytes;
                    if (!moved_huge.insert(huge).second) {
                        status[i] = -EBUSY;
                        continue;
                    }
                    for (auto a = p->second.lower_bound(huge); a != p->second.end() && a->first < huge + huge_page_bytes; ++a)
                        a->second = nodes[i];
                }
                it->second = nodes[i];
            }
            status[i] = it->second;
        }
        if (!nodes.empty() && moved) moved(target);
        return {};
    }
    int proc_connector_errno = 0;  // what bind_proc_connector fails with (0: it works)
    SysResult<void> bind_proc_connector() override {
        if (proc_connector_errno != 0) return std::unexpected(proc_connector_errno);
        return {};
    }
    int exec(const std::vector<std::string>& argv) override {
        execs.push_back(argv);
        return exec_errno;
    }
    unsigned effective_uid() override { return euid; }
    int self_pid() override { return pid; }
    void sleep_for(std::chrono::milliseconds period) override {
        slept += period;
        if (on_sleep) on_sleep();
    }

private:
    std::optional<int> take(const std::string& call, int tid) {
        for (int key : {tid, -1}) {
            auto it = inject.find({call, key});
            if (it != inject.end()) {
                int e = it->second;
                inject.erase(it);
                return e;
            }
        }
        return std::nullopt;
    }
};

// A procfs tree under a fresh temporary directory.
class ProcTree {
public:
    ProcTree() {
        static int serial = 0;
        // In memory when it can be (tmpfs): some trees hold tens of thousands of
        // tasks, which a disk file system creates slowly.
        std::error_code error;
        std::filesystem::path base = std::filesystem::is_directory("/dev/shm", error) && ::access("/dev/shm", W_OK) == 0
                                         ? std::filesystem::path("/dev/shm")
                                         : std::filesystem::temp_directory_path();
        root_ = base / fmt::format("affine-proc-{}-{}", ::getpid(), serial++);
        std::filesystem::remove_all(root_);
        std::filesystem::create_directories(root_ / "proc");
    }
    ~ProcTree() { std::filesystem::remove_all(root_); }
    ProcTree(const ProcTree&) = delete;
    ProcTree& operator=(const ProcTree&) = delete;

    [[nodiscard]] std::string root() const { return root_.string(); }

    void write(const std::string& path, const std::string& text) const {
        auto full = root_ / path.substr(1);
        std::filesystem::create_directories(full.parent_path());
        std::ofstream(full) << text;
    }

    [[nodiscard]] std::string read(const std::string& path) const {
        std::ifstream in(root_ / path.substr(1));
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    // A thread `tid` of process `pid`, visible as /proc/PID/task/TID, /proc/TID and
    // /proc/TID/task/TID (its own directory, as procfs resolves it).
    void add_task(int pid, int tid, const std::string& comm = "worker", unsigned long flags = 0x400000,
                  unsigned long long start = 1000, int cpu = 0, unsigned uid = 1000) const {
        std::string stat = fmt::format("{} ({}) S 1 {} {} 0 -1 {} 0 0 0 0 0 0 0 0 20 0 1 0 {} 100 10 0 0 0 0 0 0 0 0 0 "
                                       "0 0 0 0 17 {} 0 0 0 0 0",
                                       tid, comm, pid, pid, flags, start, cpu);
        std::string status = fmt::format("Name:\t{}\nTgid:\t{}\nPid:\t{}\nUid:\t{}\t{}\t{}\t{}\nMems_allowed_list:\t0-1\n",
                                         comm, pid, tid, uid, uid, uid, uid);
        for (const auto& dir : {fmt::format("/proc/{}/task/{}", pid, tid), fmt::format("/proc/{}", tid),
                                fmt::format("/proc/{}/task/{}", tid, tid)}) {
            write(dir + "/stat", stat);
            write(dir + "/status", status);
        }
    }
    void remove_task(int pid, int tid) const {
        std::filesystem::remove_all(root_ / fmt::format("proc/{}/task/{}", pid, tid));
        if (pid != tid) std::filesystem::remove_all(root_ / fmt::format("proc/{}", tid));
    }

private:
    std::filesystem::path root_;
};

// 2 nodes x 2 CPUs: node 0 = CPUs 0-1, node 1 = CPUs 2-3, 4G each.
inline Topology two_node_host() {
    auto t = synthetic_topology("nodes=2,cores=2");
    return *t;
}

}  // namespace affine::linux_backend::testing
