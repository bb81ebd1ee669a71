#!/bin/bash
# Crash consistency of the daemon on this machine (private state directory,
# managing only processes this test starts): the rounds of requests, removals,
# process exits, masks set by someone else and widenings, each ended by `kill -9`
# of the daemon and a restart, that the 2-node guest runs too
# (tests/system/guest/daemon-crash-loop.sh says what it checks). Widening needs
# room on the other CPU, which a shared build machine may not have: here it is not
# required, the guest requires it. ~60 s.
set -u
affine=$1
helpers=${2:-$(dirname "$1")/tests/helpers}
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
export AFFINE_STATE_DIR=$state/run   # never the host's /run/affine
sh "$(dirname "$0")/../system/guest/daemon-crash-loop.sh" "$affine" "$helpers" 20 17 0
