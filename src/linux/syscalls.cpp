#include "syscalls.hpp"
#include "os/unique_fd.hpp"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <numaif.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <thread>

// The modes the logic names are the kernel's own, as libnuma's numaif.h defines them.
// The calls themselves go through syscall(2) like the affinity calls, which keeps
// libnuma out of every start of affine.
static_assert(affine::linux_backend::mpol::default_ == MPOL_DEFAULT);
static_assert(affine::linux_backend::mpol::preferred == MPOL_PREFERRED);
static_assert(affine::linux_backend::mpol::bind == MPOL_BIND);
static_assert(affine::linux_backend::mpol::interleave == MPOL_INTERLEAVE);
static_assert(affine::linux_backend::mpol::local == MPOL_LOCAL);
static_assert(affine::linux_backend::mpol::preferred_many == MPOL_PREFERRED_MANY);

namespace affine::linux_backend {
namespace {

using Word = std::uint64_t;
constexpr std::size_t word_bytes = sizeof(Word);

// The node mask length the kernel wants for the mempolicy calls, in bits. The
// kernel rejects masks that name nodes above MAX_NUMNODES, and reads `maxnode - 1`
// bits (a historical off-by-one every libnuma user works around), so pass one more.
constexpr unsigned long node_mask_bits = 1024;

std::vector<Word> node_words(const NodeSet& nodes) {
    std::vector<Word> words(node_mask_bits / 64, 0);
    auto src = nodes.words();
    for (std::size_t i = 0; i < src.size() && i < words.size(); ++i) words[i] = src[i];
    return words;
}

class RealSyscalls final : public Syscalls {
public:
    SysResult<CpuSet> get_affinity(int tid) override {
        std::size_t bytes = kernel_cpu_mask_bytes();
        std::vector<Word> words((bytes + word_bytes - 1) / word_bytes, 0);
        long r = ::syscall(SYS_sched_getaffinity, tid, words.size() * word_bytes, words.data());
        if (r < 0) return std::unexpected(errno);
        return CpuSet::from_words(words);
    }

    SysResult<void> set_affinity(int tid, const CpuSet& cpus) override {
        std::size_t bytes = kernel_cpu_mask_bytes();
        std::vector<Word> words((bytes + word_bytes - 1) / word_bytes, 0);
        auto src = cpus.words();
        // Bits beyond the kernel's mask name CPUs that cannot exist; callers refuse
        // them before this point, so say so loudly rather than truncate.
        if (src.size() > words.size()) return std::unexpected(EINVAL);
        for (std::size_t i = 0; i < src.size(); ++i) words[i] = src[i];
        long r = ::syscall(SYS_sched_setaffinity, tid, words.size() * word_bytes, words.data());
        if (r < 0) return std::unexpected(errno);
        return {};
    }

    SysResult<void> set_mempolicy(int mode, const NodeSet& nodes) override {
        auto words = node_words(nodes);
        bool no_mask = mode == mpol::default_ || mode == mpol::local;
        long r = ::syscall(SYS_set_mempolicy, mode, no_mask ? nullptr : words.data(),
                           no_mask ? 0UL : node_mask_bits + 1);
        if (r < 0) return std::unexpected(errno);
        return {};
    }

    SysResult<MemPolicyState> get_mempolicy() override {
        std::vector<Word> words(node_mask_bits / 64, 0);
        int mode = 0;
        long r = ::syscall(SYS_get_mempolicy, &mode, words.data(), node_mask_bits + 1, nullptr, 0UL);
        if (r < 0) return std::unexpected(errno);
        return MemPolicyState{mode, NodeSet::from_words(words)};
    }

    SysResult<long> migrate_pages(int pid, const NodeSet& from, const NodeSet& to) override {
        auto old_words = node_words(from);
        auto new_words = node_words(to);
        long r = ::syscall(SYS_migrate_pages, pid, node_mask_bits + 1, old_words.data(), new_words.data());
        if (r < 0) return std::unexpected(errno);
        return r;
    }

    SysResult<void> move_pages(int pid, const std::vector<std::uint64_t>& addresses, const std::vector<int>& nodes,
                               std::vector<int>& status) override {
        std::vector<void*> pages;
        pages.reserve(addresses.size());
        for (std::uint64_t a : addresses) pages.push_back(reinterpret_cast<void*>(static_cast<std::uintptr_t>(a)));
        status.assign(addresses.size(), 0);
        // Pages other processes map too (shared libraries, the program's text) move
        // only with MPOL_MF_MOVE_ALL, which needs CAP_SYS_NICE (migrate_pages does the
        // same for a caller with it); without it, MPOL_MF_MOVE moves the rest.
        long r = ::syscall(SYS_move_pages, pid, static_cast<unsigned long>(pages.size()), pages.data(),
                           nodes.empty() ? nullptr : nodes.data(), status.data(), MPOL_MF_MOVE_ALL);
        if (r < 0 && errno == EPERM)
            r = ::syscall(SYS_move_pages, pid, static_cast<unsigned long>(pages.size()), pages.data(),
                          nodes.empty() ? nullptr : nodes.data(), status.data(), MPOL_MF_MOVE);
        if (r < 0) return std::unexpected(errno);
        return {};
    }

    SysResult<void> bind_proc_connector() override {
        UniqueFd fd(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR));
        if (!fd) return std::unexpected(errno);
        sockaddr_nl address{};
        address.nl_family = AF_NETLINK;
        address.nl_groups = CN_IDX_PROC;
        if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) return std::unexpected(errno);
        return {};
    }

    int exec(const std::vector<std::string>& argv) override {
        std::vector<char*> args;
        args.reserve(argv.size() + 1);
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        return errno;
    }

    unsigned effective_uid() override { return ::geteuid(); }
    int self_pid() override { return ::getpid(); }
    void sleep_for(std::chrono::milliseconds period) override { std::this_thread::sleep_for(period); }
};

}  // namespace

std::size_t kernel_cpu_mask_bytes() {
    static std::size_t bytes = [] {
        // The raw call returns how many bytes the kernel copied: its cpumask size.
        for (std::size_t size = 8; size <= (1U << 20); size *= 2) {
            std::vector<unsigned char> buf(size);
            long r = ::syscall(SYS_sched_getaffinity, 0, size, buf.data());
            if (r > 0) return static_cast<std::size_t>(r);
            if (errno != EINVAL) break;
        }
        return std::size_t{128};  // cpu_set_t's size: only if probing is impossible
    }();
    return bytes;
}

Syscalls& real_syscalls() {
    static RealSyscalls instance;
    return instance;
}

}  // namespace affine::linux_backend
