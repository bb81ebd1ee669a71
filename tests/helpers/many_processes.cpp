// Benchmark helper: forks N children that sleep, prints "ready", then waits; the
// children share the parent's pages (copy on write), so thousands fit in a small
// guest. SIGTERM to the parent ends the children too.
//   many_processes N
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {
volatile sig_atomic_t stop = 0;
void on_term(int) { stop = 1; }
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: many_processes N\n");
        return 2;
    }
    long n = std::strtol(argv[1], nullptr, 10);
    std::vector<pid_t> children;
    for (long i = 0; i < n; ++i) {
        pid_t child = ::fork();
        if (child < 0) {
            std::perror("fork");
            break;
        }
        if (child == 0) {
            while (true) ::pause();
        }
        children.push_back(child);
    }
    struct sigaction sa{};
    sa.sa_handler = on_term;
    ::sigaction(SIGTERM, &sa, nullptr);
    std::printf("ready %zu\n", children.size());
    std::fflush(stdout);
    while (stop == 0) ::pause();
    for (pid_t c : children) ::kill(c, SIGKILL);
    return 0;
}
