// Test helper: touches SIZE_MB of anonymous memory, says "touched" on stdout, then
// waits (SECONDS, default forever) so tests can read its numa_maps and move it; with
// "spin" it keeps one CPU busy instead.
//   touch_memory SIZE_MB [SECONDS|spin]
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: touch_memory SIZE_MB [SECONDS|spin]\n");
        return 2;
    }
    std::size_t bytes = std::strtoull(argv[1], nullptr, 10) << 20;
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        std::perror("mmap");
        return 1;
    }
    std::memset(p, 0x5a, bytes);
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
