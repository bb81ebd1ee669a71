// Test helper: keeps about N threads alive while they keep ending and being
// replaced; each thread starts its own successor before it ends, so threads are
// created by threads, not only by main.
//   thread_churn N
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace {

std::atomic<long> started{0};

void* worker(void*) {
    started.fetch_add(1, std::memory_order_relaxed);
    ::usleep(static_cast<useconds_t>(200 + std::rand() % 2000));
    pthread_t next;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    while (pthread_create(&next, &attr, worker, nullptr) != 0) ::usleep(1000);
    pthread_attr_destroy(&attr);
    return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
    int n = argc > 1 ? std::atoi(argv[1]) : 16;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (int i = 0; i < n; ++i) {
        pthread_t t;
        pthread_create(&t, &attr, worker, nullptr);
    }
    std::printf("churning %d threads\n", n);
    std::fflush(stdout);
    while (true) ::pause();
}
