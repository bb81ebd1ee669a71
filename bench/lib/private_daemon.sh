# Sourced by the benchmarks that run the affine daemon on this machine: a private
# state directory (AFFINE_STATE_DIR, never the host's /run/affine), so the daemon
# manages only the processes the benchmark starts; the shipped configuration (an
# empty file: every key at its default); and a clean stop at exit.
# Sets `work` (a temporary directory, removed at exit) and `daemon` (the daemon's
# pid once started). A benchmark that starts processes of its own defines
# `stop_own` to end them; it runs at exit before the daemon stops.
work=$(mktemp -d)
export AFFINE_STATE_DIR=$work/run
: > "$work/daemon.conf"
daemon=
private_daemon_cleanup() {
    if declare -F stop_own > /dev/null; then stop_own; fi
    if [ -n "$daemon" ]; then kill -TERM "$daemon" 2> /dev/null || true; wait "$daemon" 2> /dev/null || true; fi
    rm -rf "$work"
}
trap private_daemon_cleanup EXIT

# start_daemon AFFINE: starts it and waits until it answers; exits with its log
# when it does not within 10 s.
start_daemon() {
    "$1" daemon --config "$work/daemon.conf" > "$work/daemon.log" 2>&1 &
    daemon=$!
    for _ in $(seq 100); do "$1" daemon status > /dev/null 2>&1 && return 0; sleep 0.1; done
    cat "$work/daemon.log" >&2
    exit 1
}
