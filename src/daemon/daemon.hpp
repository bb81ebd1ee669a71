// `affine daemon`: the long-running process that gives Linux threads soft affinity.
// One per host (a lock in the state directory), in the foreground, systemd-native.
#pragma once

#include <string>

#include "daemon/engine/daemon_config.hpp"
#include "affine/error.hpp"

namespace affine::daemon {

// SYSCONFDIR/affine/daemon.conf of the install prefix (/etc for a /usr install).
extern const char* const default_config_path;

struct DaemonOptions {
    std::string config_path = default_config_path;
    bool config_given = false;   // --config: the file must exist
    std::string state_dir;       // --state-dir; else $AFFINE_STATE_DIR, else /run/affine
};

// Reads and checks the configuration file against `host`. The default file may be
// missing (the defaults hold); a given one may not.
Result<DaemonConfig> load_daemon_config(const std::string& path, bool must_exist, const Topology& host);

// Runs the daemon until SIGTERM or SIGINT; returns when it has stopped cleanly.
// Errors: the state directory or lock (another daemon runs), the configuration,
// the journal, the socket. Changes live system state: the threads it is asked to
// manage.
Result<void> run_daemon(const DaemonOptions& options);

}  // namespace affine::daemon
