#!/usr/bin/env bash
# Start-to-exit time of `affine topo --json` against `numactl -H` and
# `lstopo-no-graphics` on this host: medians of many runs, printed as ratios.
#   bench/topo.sh [path/to/affine] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
affine=${1:-$here/../build/affine}
runs=${2:-300}
for tool in hyperfine numactl lstopo-no-graphics python3; do
    command -v "$tool" >/dev/null || { echo "bench/topo.sh: $tool is missing (scripts/install-deps installs it)"; exit 1; }
done
out=$(mktemp); trap 'rm -f "$out"' EXIT
hyperfine -N --warmup 20 --runs "$runs" --export-json "$out" \
    -n affine "$affine topo --json" -n numactl "numactl -H" -n lstopo "lstopo-no-graphics" >/dev/null
python3 - "$out" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
ours = results["affine"]["median"]
print(f"{'command':<28} {'median':>10} {'ratio to affine':>16}")
for name, label in [("affine", "affine topo --json"), ("numactl", "numactl -H"), ("lstopo", "lstopo-no-graphics")]:
    m = results[name]["median"]
    print(f"{label:<28} {m * 1e3:>8.3f}ms {m / ours:>15.2f}x")
PY
# What each program loads at start (each shared library is mapped and relocated
# at every run): affine links its C++ runtime statically and needs no libm.
for program in "$affine" "$(command -v numactl)"; do
    echo "$(basename "$program") loads: $(readelf -d "$program" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
done
