// Test helper: sends one line (or N bytes without a newline) to a unix stream
// socket and prints what comes back, so tests can speak to the daemon's control
// socket directly, bad requests included.
//   unix_request SOCKET LINE
//   unix_request SOCKET --bytes N
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: unix_request SOCKET LINE | unix_request SOCKET --bytes N\n");
        return 2;
    }
    std::string payload;
    if (std::strcmp(argv[2], "--bytes") == 0 && argc > 3) payload.assign(std::strtoull(argv[3], nullptr, 10), 'x');
    else payload = std::string(argv[2]) + "\n";
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("connect");
        return 1;
    }
    // The daemon may answer and close before it has read everything: stop sending then.
    std::size_t done = 0;
    while (done < payload.size()) {
        ssize_t n = ::send(fd, payload.data() + done, payload.size() - done, MSG_NOSIGNAL);
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    char buf[65536];
    ssize_t n = 0;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) std::fwrite(buf, 1, static_cast<std::size_t>(n), stdout);
    return 0;
}
