// The daemon's loop: signals (signalfd), the interval (timerfd) and the control
// socket in one poll; each interval reads the kernel's accounting and lets the
// manager decide. Every decision is one log line with its reason.
#include "daemon.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <algorithm>

#include "affine/host.hpp"
#include "affine/set_grammar.hpp"
#include "core/safe_text.hpp"
#include "control_server.hpp"
#include "kernel_accounting.hpp"
#include "linux/proc_connector.hpp"
#include "os/unique_fd.hpp"
#include "placement_manager.hpp"
#include "request_handler.hpp"
#include "soft_manager.hpp"
#include "state_dir.hpp"
#include "systemd_notify.hpp"

namespace affine::daemon {

#ifndef AFFINE_DAEMON_CONFIG
#define AFFINE_DAEMON_CONFIG "/etc/affine/daemon.conf"
#endif
const char* const default_config_path = AFFINE_DAEMON_CONFIG;

namespace {

Clock clock_now() {
    using namespace std::chrono;
    return {duration_cast<Millis>(steady_clock::now().time_since_epoch()),
            duration<double>(system_clock::now().time_since_epoch()).count()};
}

// The syslog priority journald files a line under (sd-daemon.h's "<N>" prefix):
// the daemon's lines say "error:" and "warning:" first when they are.
int journal_priority(std::string_view line) {
    if (line.starts_with("error:")) return 3;
    if (line.starts_with("warning:")) return 4;
    return 6;
}

// One line per event on stderr: under systemd (stderr is the journal, as
// $JOURNAL_STREAM says) with its priority, which journald timestamps; elsewhere the
// line starts with the wall-clock time.
void log_line(const std::string& line) {
    static const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
    if (journald) {
        fmt::print(stderr, "<{}>{}\n", journal_priority(line), line);
    } else {
        using namespace std::chrono;
        auto now = system_clock::now();
        std::time_t t = system_clock::to_time_t(now);
        std::tm tm{};
        ::localtime_r(&t, &tm);
        auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
        fmt::print(stderr, "{:02}:{:02}:{:02}.{:03} affine daemon: {}\n", tm.tm_hour, tm.tm_min, tm.tm_sec, ms, line);
    }
    std::fflush(stderr);
}

Result<void> arm_timer(int fd, Millis interval) {
    itimerspec spec{};
    spec.it_interval.tv_sec = interval.count() / 1000;
    spec.it_interval.tv_nsec = (interval.count() % 1000) * 1000000;
    spec.it_value = spec.it_interval;
    if (::timerfd_settime(fd, 0, &spec, nullptr) != 0)
        return failure(fmt::format("set the interval timer to {}: {}", format_duration(interval), std::strerror(errno)),
                       errno);
    return {};
}

std::string status_line(const SoftManager& m) {
    return fmt::format("managing {} thread{} of {} workload{}, {} widened", m.thread_count(),
                       m.thread_count() == 1 ? "" : "s", m.workload_count(), m.workload_count() == 1 ? "" : "s",
                       m.widened_count());
}

}  // namespace

Result<DaemonConfig> load_daemon_config(const std::string& path, bool must_exist, const Topology& host) {
    auto text = read_file_nofollow(path);
    if (!text) return std::unexpected(text.error());
    if (!*text) {
        if (must_exist) return failure(fmt::format("configuration file {} does not exist", path), ENOENT);
        DaemonConfig defaults;
        defaults.source = fmt::format("defaults ({} does not exist)", path);
        return defaults;
    }
    return parse_daemon_config(**text, path, host);
}

Result<void> run_daemon(const DaemonOptions& options) {
    std::string dir = state_dir_path(options.state_dir);
    if (auto prepared = prepare_state_dir(dir); !prepared) return prepared;
    auto lock = InstanceLock::acquire(dir);
    if (!lock) return std::unexpected(lock.error());

    auto host = read_linux_topology("/");
    if (!host) return std::unexpected(host.error());
    auto loaded = load_daemon_config(options.config_path, options.config_given, *host);
    if (!loaded) return std::unexpected(loaded.error());
    DaemonConfig config = std::move(*loaded);

    linux_backend::SysFs fs("/");
    linux_backend::Syscalls& sys = linux_backend::real_syscalls();
    if (!config.housekeeping_cpus.empty())
        if (auto pinned = sys.set_affinity(0, config.housekeeping_cpus); !pinned)
            return failure(fmt::format("pin the daemon to its housekeeping CPUs {}: {}",
                                       to_list(config.housekeeping_cpus), std::strerror(pinned.error())),
                           pinned.error());
    linux_backend::Env env{fs, sys, *host};
    SoftManager manager(env, JournalFile(journal_path(dir)), log_line);
    manager.configure(config.reserved_cpus, config.tuning, config.max_threads_per_user);
    PlacementManager placement(env, manager, log_line);
    placement.configure(config.rules, config.reserved_cpus, config.interval, config.placement);
    // The kernel's process events, opened once a placement rule needs them.
    std::optional<linux_backend::ProcConnector> connector;
    auto open_events = [&] {
        if (!placement.active() || connector) return;
        auto opened = linux_backend::ProcConnector::open();
        if (opened) {
            connector.emplace(std::move(*opened));
            placement.set_events(true, "process events (proc connector), and a scan of /proc every 10 s");
        } else {
            placement.set_events(false, fmt::format("a scan of /proc every second (no process events: {})",
                                                    opened.error().message));
        }
    };
    open_events();

    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
    ::sigprocmask(SIG_BLOCK, &signals, nullptr);
    UniqueFd signal_fd(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
    UniqueFd timer_fd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (signal_fd.get() < 0 || timer_fd.get() < 0) return failure(fmt::format("signalfd/timerfd: {}", std::strerror(errno)), errno);

    SystemdNotifier systemd;
    if (!systemd.problem().empty()) log_line(fmt::format("warning: {}", systemd.problem()));

    if (auto recovered = manager.recover(clock_now()); !recovered) return recovered;
    ControlLimits limits;
    limits.max_request_bytes = config.max_request_bytes;
    auto server = ControlServer::listen(socket_path(dir), limits);
    if (!server) return std::unexpected(server.error());

    auto reload = [&]() -> Result<void> {
        systemd.notify("RELOADING=1");
        auto fresh = load_daemon_config(options.config_path, options.config_given, *host);
        if (!fresh) {
            log_line(fmt::format("warning: reload refused: {}; the running configuration stays", fresh.error().message));
            systemd.notify("READY=1\nSTATUS=" + status_line(manager) + " (last reload refused)");
            return failure(fmt::format("reload refused: {}; the running configuration stays", fresh.error().message));
        }
        if (fresh->interval != config.interval)
            if (auto armed = arm_timer(timer_fd.get(), fresh->interval); !armed) {
                log_line(fmt::format("error: reload refused: {}; the running configuration stays", armed.error().message));
                systemd.notify("READY=1\nSTATUS=" + status_line(manager) + " (last reload refused)");
                return failure(fmt::format("reload refused: {}", armed.error().message), armed.error().code);
            }
        config = std::move(*fresh);
        manager.configure(config.reserved_cpus, config.tuning, config.max_threads_per_user);
        placement.configure(config.rules, config.reserved_cpus, config.interval, config.placement);
        open_events();
        server->set_max_request_bytes(config.max_request_bytes);
        log_line(fmt::format("configuration reloaded from {}", config.source));
        systemd.notify("READY=1\nSTATUS=" + status_line(manager));
        return {};
    };
    RequestContext context{manager, config, ::getpid(), ::geteuid(), clock_now, reload, &placement, log_line, &fs};

    // The first reconcile: every journalled thread checked (recover), the accounting
    // read once so the first interval has something to compare with.
    auto previous_times = read_cpu_times(fs);
    auto previous_delays = read_cpu_run_delays(fs);
    Millis previous_at = clock_now().mono;
    manager.tick(clock_now(), CpuLoad{});
    if (auto armed = arm_timer(timer_fd.get(), config.interval); !armed) {
        manager.stop(config.on_stop, clock_now());
        return armed;
    }
    log_line(fmt::format("ready: state {}, configuration {}, interval {}, on_stop {}{}; {}", dir, config.source,
                         format_duration(config.interval), to_string(config.on_stop),
                         config.reserved_cpus.empty() ? "" : fmt::format(", reserved CPUs {}", to_list(config.reserved_cpus)),
                         status_line(manager)));
    if (placement.active())
        log_line(fmt::format("{} placement rule{}; new processes seen through {}", config.rules.rules.size(),
                             config.rules.rules.size() == 1 ? "" : "s", placement.events_description()));
    std::string last_status = status_line(manager);
    systemd.notify("READY=1\nSTATUS=" + last_status);
    auto last_watchdog = std::chrono::steady_clock::now();

    bool running = true;
    std::vector<pollfd> fds;
    while (running) {
        fds.clear();
        fds.push_back({signal_fd.get(), POLLIN, 0});
        fds.push_back({timer_fd.get(), POLLIN, 0});
        bool polled_events = connector.has_value();
        if (polled_events) fds.push_back({connector->fd(), POLLIN, 0});
        server->add_poll_fds(fds);
        int timeout = server->poll_timeout_ms();
        if (systemd.watchdog()) {
            int watchdog = static_cast<int>(
                std::chrono::duration_cast<std::chrono::milliseconds>(*systemd.watchdog() / 3).count());
            timeout = timeout < 0 ? watchdog : std::min(timeout, watchdog);
        }
        if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR)
            return failure(fmt::format("poll: {}", std::strerror(errno)), errno);
        if (systemd.watchdog() && std::chrono::steady_clock::now() - last_watchdog >= *systemd.watchdog() / 3) {
            systemd.notify("WATCHDOG=1");
            last_watchdog = std::chrono::steady_clock::now();
        }
        if ((fds[0].revents & POLLIN) != 0) {
            signalfd_siginfo info{};
            while (::read(signal_fd.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
                if (info.ssi_signo == SIGHUP) {
                    log_line("SIGHUP: reloading the configuration");
                    (void)reload();
                } else {
                    log_line(fmt::format("{}: stopping", info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT"));
                    running = false;
                }
            }
        }
        if (!running) break;
        if (polled_events && connector && (fds[2].revents & POLLIN) != 0) {
            auto read = connector->read([&](const linux_backend::ProcEvent& e) { placement.on_event(e); });
            if (!read) {
                log_line(fmt::format("warning: process events: {}; scanning /proc every second instead", read.error().message));
                connector.reset();
                placement.set_events(false, fmt::format("a scan of /proc every second (process events failed: {})",
                                                        read.error().message));
            } else if (read->lost) {
                placement.on_events_lost();
            }
        }
        if ((fds[1].revents & POLLIN) != 0) {
            std::uint64_t expirations = 0;
            (void)::read(timer_fd.get(), &expirations, sizeof expirations);
            auto times = read_cpu_times(fs);
            CpuLoad load = times && previous_times ? cpu_load_between(*previous_times, *times) : CpuLoad{};
            previous_times = times;
            manager.tick(clock_now(), load);
            Clock now = clock_now();
            auto delays = read_cpu_run_delays(fs);
            std::vector<double> waiting = waiting_between(previous_delays, delays, now.mono - previous_at);
            previous_delays = std::move(delays);
            previous_at = now.mono;
            placement.tick(now, load, waiting);
            if (std::string s = status_line(manager); s != last_status) {
                systemd.notify("STATUS=" + s);
                last_status = s;
            }
        }
        server->serve(fds, [&](std::string_view line, const protocol::PeerCredentials& peer) {
            // A request the daemon cannot answer is refused; it never ends the daemon
            // (which would leave every mask it changed as it is).
            try {
                return handle_request(line, peer, context);
            } catch (const std::exception& e) {
                log_line(fmt::format("error: a request of uid {} (pid {}) failed: {}", peer.uid, peer.pid,
                                     detail::safe_text(e.what())));
                return protocol::error_response(failure(fmt::format("the daemon could not answer: {}", e.what())).error());
            }
        });
    }
    systemd.notify("STOPPING=1");
    server->close_and_unlink();
    manager.stop(config.on_stop, clock_now());
    return {};
}

}  // namespace affine::daemon
