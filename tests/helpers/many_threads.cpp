// Test and benchmark helper: starts N threads that block forever, prints "ready",
// then waits. Small stacks, so 10,000 threads fit in little memory.
//   many_threads N
#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {
void* block(void*) {
    while (true) ::pause();
    return nullptr;
}
}  // namespace

int main(int argc, char** argv) {
    int n = argc > 1 ? std::atoi(argv[1]) : 100;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 32 * 1024);
    for (int i = 0; i < n; ++i) {
        pthread_t t;
        if (pthread_create(&t, &attr, block, nullptr) != 0) {
            std::fprintf(stderr, "many_threads: could only start %d threads\n", i);
            return 1;
        }
    }
    std::printf("ready %d\n", n);
    std::fflush(stdout);
    while (true) ::pause();
}
