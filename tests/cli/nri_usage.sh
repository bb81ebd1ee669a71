#!/usr/bin/env bash
# affine nri on this machine without a runtime: usage errors, waiting for the
# runtime's socket, and a clean stop on SIGTERM. (tests/nri/ runs it with containerd.)
source "$(dirname "$0")/lib.sh"
host=nodes=2,cores=2

expect_status index-two-digits 2 "$AFFINE" nri --index 7 --host "$host"
expect_contains index-says-allowed "expected two digits" "$err"
expect_status name-without-slash 2 "$AFFINE" nri --name a/b --host "$host"
expect_status reserved-unknown-cpu 2 "$AFFINE" nri --reserved 9 --host "$host"
expect_contains reserved-named "--reserved" "$err"
expect_status socket-path-too-long 2 "$AFFINE" nri --socket "/tmp/$(printf 'x%.0s' $(seq 120))" --host "$host"
expect_status inherited-socket-not-a-number 2 env NRI_PLUGIN_SOCKET=three "$AFFINE" nri --host "$host"
expect_contains inherited-socket-named "NRI_PLUGIN_SOCKET" "$err"

# No runtime yet: it says so once, keeps trying, and stops cleanly on SIGTERM.
expect_status waits-then-stops-on-term 0 timeout --preserve-status -s TERM 2 "$AFFINE" nri --socket /nonexistent/nri.sock --host "$host"
expect_contains says-what-it-waits-for "connect to the NRI socket /nonexistent/nri.sock" "$err"
expect_eq says-it-once 1 "$(grep -c retrying <<<"$err")"
expect_contains says-stopped "affine nri: stopped" "$err"
finish
