#!/usr/bin/env bash
# Builds and runs the side-by-side placement benchmark; prints a markdown table.
# usage: bench/run-placement.sh [BUILD_DIR]   (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
if [ ! -f "$build/build.ninja" ] && [ ! -f "$build/Makefile" ]; then
    cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build" --target affine_bench_placement -j "${JOBS:-2}" >&2
"$build/bench/affine_bench_placement"
