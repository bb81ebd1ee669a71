// Test helper: drops to UID (and GID = UID) and executes COMMAND, so a guest
// without a user database can run affine as an unprivileged user.
//   run_as_uid UID COMMAND...
#include <grp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: run_as_uid UID COMMAND...\n");
        return 2;
    }
    auto id = static_cast<unsigned>(std::atoi(argv[1]));
    if (::setgroups(0, nullptr) != 0 || ::setgid(id) != 0 || ::setuid(id) != 0) {
        std::perror("run_as_uid");
        return 1;
    }
    ::execvp(argv[2], argv + 2);
    std::perror(argv[2]);
    return 127;
}
