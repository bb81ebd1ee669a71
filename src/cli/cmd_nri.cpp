// affine nri: the NRI plugin, placing every container the container runtime
// (containerd >= 1.7, CRI-O >= 1.26) creates. A process of its own: the runtime
// launches pre-registered plugins as processes, and a crash of the plugin leaves the
// runtime and the daemon as they are (the runtime creates containers without it).
#include <fmt/format.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/integer.hpp"
#include "daemon/control_client.hpp"
#include "daemon/state_dir.hpp"
#include "linux/procfs.hpp"
#include "linux/sysfs.hpp"
#include "nri/container_status.hpp"
#include "nri/plugin_connection.hpp"
#include "affine/host_load.hpp"
#include "affine/set_grammar.hpp"
#include "command.hpp"
#include "os/unique_fd.hpp"
#include "state/state_file.hpp"

namespace affine::cli {
namespace {

struct Options {
    std::string socket = "/var/run/nri/nri.sock";
    std::string host = "live";
    std::string reserved;
    std::string name = "affine";
    std::string index = "90";
};

std::atomic<bool> stop_requested{false};

void request_stop(int) { stop_requested.store(true); }

void log_line(const std::string& line) {
    std::fprintf(stderr, "affine nri: %s\n", line.c_str());
    std::fflush(stderr);
}

PlacementHost plugin_host(const Options& opt) {
    PlacementHost host = opt.host == "live" ? value_or_throw(read_live_placement_host(), "read the host")
                                            : make_placement_host(load_host_or_throw(opt.host));
    if (!opt.reserved.empty())
        host.reserved = value_or_throw(parse_cpu_set(opt.reserved, host.topology), "--reserved");
    return host;
}

// The daemon keeps a soft container's threads, and those of the processes it starts,
// softly on the CPUs of its planned nodes (Xen's rule); NRI itself knows only hard
// cpusets.
std::string hand_to_daemon(const nri::SoftHandOff& soft) {
    protocol::Request request;
    request.op = protocol::Op::set_soft;
    request.ids = {soft.pid};
    request.all_threads = true;
    request.children = true;
    request.cpus = soft.cpus;
    auto answer = daemon::ask_daemon(request).answer;
    if (!answer)
        return fmt::format("container {} (pid {}): soft affinity to CPUs {} not set: {}", soft.container, soft.pid,
                           to_list(soft.cpus), answer.error().message);
    return fmt::format("container {} (pid {}): the daemon keeps its threads softly on CPUs {}", soft.container,
                       soft.pid, to_list(soft.cpus));
}

// What the plugin holds now, in the state directory's nri.json for `affine daemon
// status`: written from the first container placed on, rewritten when the placer's
// containers changed; a failure is logged once and the plugin goes on.
class StatusRecorder {
public:
    void record(const nri::Plugin& plugin) {
        const nri::ContainerPlacer& placer = plugin.placer();
        if (failed_ || placer.revision() == recorded_ || (written_.empty() && placer.containers().empty())) return;
        recorded_ = placer.revision();
        std::string text =
            detail::dump_never_throwing(nri::to_json(nri::plugin_status(placer, self_.pid, self_.start_time)));
        if (text == written_) return;
        // The daemon's state directory, held to the daemon's rules (ours, not a symlink,
        // writable by us only).
        std::string dir = daemon::state_dir_path("");
        auto done = daemon::prepare_state_dir(dir);
        if (done) {
            auto file = StateFile::lock(nri::plugin_status_path(dir), LockWait::wait);
            done = file ? file->write(text) : Result<void>(std::unexpected(file.error()));
        }
        if (!done) {
            failed_ = true;
            log_line(fmt::format("decisions not recorded for `affine daemon status`: {}", done.error().message));
            return;
        }
        written_ = std::move(text);
    }
    // A stopped plugin places nothing: its status goes with it.
    ~StatusRecorder() {
        if (!written_.empty()) ::unlink(nri::plugin_status_path(daemon::state_dir_path("")).c_str());
    }

private:
    // Who the plugin is, recorded with its pid: `daemon status` tells a plugin that
    // runs from a process that reused its pid.
    struct Self {
        int pid = ::getpid();
        std::uint64_t start_time = 0;
    };
    static Self self() {
        Self s;
        if (auto stat = linux_backend::read_process_stat(linux_backend::SysFs(), s.pid)) s.start_time = stat->start_time;
        return s;
    }
    Self self_ = self();
    std::string written_;
    std::uint64_t recorded_ = 0;  // the placer's revision when it was last looked at
    bool failed_ = false;
};

// The runtime refuses a registration whose index is not two digits, and would be
// asked again every time: say it once, here.
void check_plugin_name(const Options& opt) {
    bool two_digits = opt.index.size() == 2 && std::isdigit(static_cast<unsigned char>(opt.index[0])) &&
                      std::isdigit(static_cast<unsigned char>(opt.index[1]));
    if (!two_digits) throw_error(usage_error(fmt::format("--index '{}': expected two digits, 00 to 99", opt.index)));
    if (opt.name.empty() || opt.name.find_first_of("/ \t\n") != std::string::npos)
        throw_error(usage_error(fmt::format("--name '{}': expected a name without spaces or '/'", opt.name)));
}

int nri(const Options& opt) {
    check_plugin_name(opt);
    struct sigaction action{};
    action.sa_handler = request_stop;
    for (int s : {SIGTERM, SIGINT}) ::sigaction(s, &action, nullptr);
    nri::Plugin plugin(plugin_host(opt));
    nri::ConnectionOptions connection;
    connection.name = opt.name;
    connection.index = opt.index;
    connection.hand_soft = hand_to_daemon;
    StatusRecorder recorder;
    // Every decision is logged: its line is the moment to record the new state.
    auto log = [&](const std::string& line) {
        log_line(line);
        recorder.record(plugin);
    };

    // Pre-registered: the runtime started us with one end of a socket pair, and
    // starts us again when it restarts.
    if (const char* inherited = std::getenv("NRI_PLUGIN_SOCKET")) {
        UniqueFd fd(value_or_throw(detail::parse_integer_in<int>(inherited, "NRI_PLUGIN_SOCKET", 0, 1 << 20)));
        if (const char* name = std::getenv("NRI_PLUGIN_NAME")) connection.name = name;
        if (const char* index = std::getenv("NRI_PLUGIN_IDX")) connection.index = index;
        auto end = value_or_throw(nri::serve_connection(fd.get(), plugin, connection, log, stop_requested));
        log_line(end == nri::ConnectionEnd::closed ? "the runtime closed the connection" : "stopped");
        return 0;
    }

    // External: dial the runtime's socket, and again whenever the connection ends (a
    // restart of the runtime); Synchronize then rebuilds the state.
    bool said_waiting = false;
    while (!stop_requested.load()) {
        auto fd = nri::dial_runtime(opt.socket);
        if (!fd) {
            if (fd.error().kind == ErrorKind::usage) throw_error(std::unexpected(fd.error()));
            if (!said_waiting) log_line(fmt::format("{}; retrying every second", fd.error().message));
            said_waiting = true;
            std::this_thread::sleep_for(std::chrono::seconds(1));
            continue;
        }
        said_waiting = false;
        auto end = nri::serve_connection(fd->get(), plugin, connection, log, stop_requested);
        if (!end) log_line(end.error().message + "; reconnecting");
        else if (*end == nri::ConnectionEnd::closed) log_line("the runtime closed the connection; reconnecting");
        else if (*end == nri::ConnectionEnd::shutdown) log_line("the runtime shut the plugin down; reconnecting");
        if (!end || *end != nri::ConnectionEnd::stopped) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    log_line("stopped");
    return 0;
}

}  // namespace

Command nri_command() {
    return {"nri", "place every container of the container runtime (an NRI plugin for containerd and CRI-O)",
            [](CLI::App& sub, const CommandLine&) -> Action {
                auto opt = std::make_shared<Options>();
                sub.add_option("--socket", opt->socket,
                               "the runtime's NRI socket to dial (default /var/run/nri/nri.sock); a plugin the "
                               "runtime starts itself gets its socket in NRI_PLUGIN_SOCKET instead");
                sub.add_option("--reserved", opt->reserved,
                               "CPUs reserved for the system and the kubelet: never given to a container (set grammar)");
                sub.add_option("--name", opt->name, "the plugin's name as the runtime lists it (default affine)");
                sub.add_option("--index", opt->index, "the plugin's two-digit index, its order among plugins (default 90)");
                add_host_option(sub, opt->host);
                return [opt] { return nri(*opt); };
            }};
}

}  // namespace affine::cli
