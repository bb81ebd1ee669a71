// Telling systemd how the daemon is (Type=notify): READY=1, STATUS=..., WATCHDOG=1,
// RELOADING=1, STOPPING=1 through libsystemd's sd_notify. libsystemd is loaded at
// run time, by the soname its headers describe, and only when systemd asked for
// notifications ($NOTIFY_SOCKET): affine's other commands never load it.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace affine::daemon {

class SystemdNotifier {
public:
    // Loads libsystemd when $NOTIFY_SOCKET is set. `problem()` says why
    // notifications cannot be sent when systemd asked for them.
    SystemdNotifier();
    [[nodiscard]] bool active() const { return notify_ != nullptr; }
    [[nodiscard]] const std::string& problem() const { return problem_; }
    // The watchdog period systemd asked for (WatchdogSec=), nullopt when none.
    [[nodiscard]] std::optional<std::chrono::microseconds> watchdog() const { return watchdog_; }
    // Sends "KEY=VALUE\n..." lines; nothing when not active.
    void notify(const std::string& state) const;

private:
    using NotifyFn = int (*)(int, const char*);
    NotifyFn notify_ = nullptr;
    std::optional<std::chrono::microseconds> watchdog_;
    std::string problem_;
};

}  // namespace affine::daemon
