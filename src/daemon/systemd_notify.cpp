#include "systemd_notify.hpp"

#include <dlfcn.h>
#include <fmt/format.h>
#include <systemd/sd-daemon.h>

#include <cstdlib>

namespace affine::daemon {
namespace {

// The soname of the libsystemd the headers come from (libsystemd0's).
constexpr const char* libsystemd_soname = "libsystemd.so.0";

}  // namespace

SystemdNotifier::SystemdNotifier() {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    if (socket == nullptr || *socket == '\0') return;
    void* lib = ::dlopen(libsystemd_soname, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        problem_ = fmt::format("systemd asked for notifications, but {} cannot be loaded: {}", libsystemd_soname,
                               ::dlerror());
        return;
    }
    // The prototypes from <systemd/sd-daemon.h> check the symbols' types here.
    auto send = reinterpret_cast<decltype(&::sd_notify)>(::dlsym(lib, "sd_notify"));
    auto watchdog_enabled =
        reinterpret_cast<decltype(&::sd_watchdog_enabled)>(::dlsym(lib, "sd_watchdog_enabled"));
    if (send == nullptr || watchdog_enabled == nullptr) {
        problem_ = fmt::format("{} has no sd_notify", libsystemd_soname);
        return;
    }
    notify_ = send;
    std::uint64_t usec = 0;
    if (watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_ = std::chrono::microseconds(usec);
}

void SystemdNotifier::notify(const std::string& state) const {
    if (notify_ != nullptr) notify_(0, state.c_str());
}

}  // namespace affine::daemon
