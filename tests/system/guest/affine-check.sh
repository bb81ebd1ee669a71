# Guest-side helpers for system tests (busybox sh). The guest's /init sources
# this file before running the scenario script, so scenarios can call these
# functions directly.
#
# Result protocol, one line per check on the console:
#   AFFINE-PASS <name>
#   AFFINE-FAIL <name>: <detail>
# /init prints the final AFFINE-DONE after the scenario returns; the host
# (check_results in lib.sh) treats a missing AFFINE-DONE as a crash or hang.
# Check names must not contain spaces; details are folded onto one line so
# a failure never spills over several console lines.

# Fold a multi-line text into one line (newlines become " | ").
_affine_oneline() {
    printf '%s\n' "$*" | awk '{ printf "%s%s", (NR > 1 ? " | " : ""), $0 }'
}

pass() {
    echo "AFFINE-PASS $1"
}

# fail NAME DETAIL...
fail() {
    _n=$1
    shift
    echo "AFFINE-FAIL $_n: $(_affine_oneline "$*")"
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1" "expected '$2', got '$3'"
    fi
}

# check_ne NAME UNEXPECTED ACTUAL
check_ne() {
    if [ "$2" != "$3" ]; then
        pass "$1"
    else
        fail "$1" "did not expect '$2'"
    fi
}

# check_contains NAME HAYSTACK NEEDLE: NEEDLE is a fixed string.
check_contains() {
    case "$2" in
    *"$3"*) pass "$1" ;;
    *) fail "$1" "'$3' not found in: $2" ;;
    esac
}

# check_not_contains NAME HAYSTACK NEEDLE
check_not_contains() {
    case "$2" in
    *"$3"*) fail "$1" "'$3' unexpectedly found in: $2" ;;
    *) pass "$1" ;;
    esac
}

# check_file_eq NAME FILE EXPECTED: the file's content (trailing newline
# stripped, as $(cat) does) must equal EXPECTED.
check_file_eq() {
    if [ ! -e "$2" ]; then
        fail "$1" "$2 does not exist"
        return
    fi
    check_eq "$1" "$3" "$(cat "$2")"
}

# check_exists NAME PATH / check_missing NAME PATH
check_exists() {
    if [ -e "$2" ]; then pass "$1"; else fail "$1" "$2 does not exist"; fi
}
check_missing() {
    if [ -e "$2" ]; then fail "$1" "$2 exists"; else pass "$1"; fi
}

# check_cmd NAME COMMAND [ARGS...]: passes when the command exits 0; on
# failure the detail carries its status and output.
check_cmd() {
    _n=$1
    shift
    if _out=$("$@" 2>&1); then
        pass "$_n"
    else
        fail "$_n" "'$*' exited $?: $_out"
    fi
}

# check_cmd_fails NAME COMMAND [ARGS...]: passes when the command fails.
check_cmd_fails() {
    _n=$1
    shift
    if _out=$("$@" 2>&1); then
        fail "$_n" "'$*' succeeded unexpectedly: $_out"
    else
        pass "$_n"
    fi
}

# cpu_offline N / cpu_online N: take a CPU offline or back online (CPU 0
# cannot go offline on x86).
cpu_offline() {
    echo 0 > "/sys/devices/system/cpu/cpu$1/online"
}
cpu_online() {
    echo 1 > "/sys/devices/system/cpu/cpu$1/online"
}

# node_distance_matrix: the distance matrix from sysfs, one "N: d d d" line
# per online node, for comparing against an expected matrix.
node_distance_matrix() {
    for _d in /sys/devices/system/node/node[0-9]*; do
        echo "${_d##*/node}: $(cat "$_d/distance")"
    done
}

# emit_blob NAME FILE: print FILE base64-encoded between marker lines, so
# the host can cut it out of the console log (extract_blob in lib.sh).
# Kernel messages are silenced meanwhile so they cannot corrupt the data.
emit_blob() {
    dmesg -n 1 2>/dev/null || true
    echo "AFFINE-BLOB-BEGIN $1"
    base64 < "$2"
    echo "AFFINE-BLOB-END $1"
}
