// Test helper: touches SIZE_MB of anonymous memory, says "touched" on stdout, then
// waits (SECONDS, default forever) so tests can read its numa_maps and move it; with
// "spin" it keeps one CPU busy instead. With "default-policy" it returns to the
// default memory policy once its memory is touched: placed by the policy it was
// started with (numactl --interleave), it is then an ordinary process that NUMA
// balancing scans.
//   touch_memory SIZE_MB [SECONDS|spin] [default-policy]
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: touch_memory SIZE_MB [SECONDS|spin] [default-policy]\n");
        return 2;
    }
    std::size_t bytes = std::strtoull(argv[1], nullptr, 10) << 20;
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        std::perror("mmap");
        return 1;
    }
    std::memset(p, 0x5a, bytes);
    constexpr int mpol_default = 0;
    if (argc > 3 && std::strcmp(argv[3], "default-policy") == 0 &&
        ::syscall(SYS_set_mempolicy, mpol_default, nullptr, 0UL) != 0) {
        std::perror("set_mempolicy");
        return 1;
    }
    std::printf("touched %s MB at %p\n", argv[1], p);
    std::fflush(stdout);
    if (argc > 2 && std::strcmp(argv[2], "spin") == 0) {
        volatile unsigned long n = 0;
        while (true) n = n + 1;
    }
    if (argc > 2) {
        ::sleep(static_cast<unsigned>(std::atoi(argv[2])));
    } else {
        while (true) ::pause();
    }
    return 0;
}
