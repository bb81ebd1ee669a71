#!/usr/bin/env bash
# Builds the parser fuzz target with libFuzzer and runs it for a short while.
#   fuzz/run.sh [SECONDS] [BUILD_DIR]
# libstdc++ 12's std::expected needs a compiler with C++20 concepts as g++ has them;
# clang 16 lacks that, so the target is compiled against libc++ 16 instead (which has
# std::expected) and only the libFuzzer runtime uses libstdc++.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
seconds=${1:-20}
out=${2:-$src/build/fuzz}
cxx=${AFFINE_FUZZ_CXX:-clang++-16}
command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found (apt-get install clang-16 libc++-16-dev libc++abi-16-dev)"; exit 1; }
mkdir -p "$out/corpus"
flags=(-std=c++2b -stdlib=libc++ -O1 -g -fsanitize=fuzzer-no-link,address,undefined
       -fno-sanitize-recover=undefined -DFMT_HEADER_ONLY -I"$src/include" -I"$src/src")
sources=(fuzz/parsers_fuzz.cpp src/core/set_grammar.cpp src/core/size.cpp src/core/topology.cpp
         src/core/synthetic_host.cpp src/core/topology_json.cpp src/core/daemon_protocol.cpp)
objects=()
for s in "${sources[@]}"; do
    o="$out/$(basename "$s" .cpp).o"
    if [ ! -f "$o" ] || [ "$src/$s" -nt "$o" ] || [ -n "$(find "$src/include" "$src/src/core" -newer "$o" -name '*.hpp' -print -quit)" ]; then
        "$cxx" "${flags[@]}" -c "$src/$s" -o "$o"
    fi
    objects+=("$o")
done
"$cxx" -fsanitize=fuzzer,address,undefined "${objects[@]}" -o "$out/parsers_fuzz" \
    -Wl,-Bstatic -lc++ -lc++abi -Wl,-Bdynamic
# Seeds: one of each form of the grammar, so the fuzzer starts from valid inputs.
i=0
for seed in '0-3,8-11' 'all,^0' 'nodes:0-3,^node:2' '0-15:4' '0xff,ffffffff' '0x3' '4294967295' \
            '512M' '1.5G' 'nodes=4,cores=8,smt=2,mem=64G' '{"cpus":[],"nodes":[]}' \
            '{"op":"set-soft","ids":[12],"cpus":"0-3","all_threads":true}' '{"op":"status"}'; do
    printf '%s' "$seed" > "$out/corpus/seed$i"; i=$((i + 1))
done
"$out/parsers_fuzz" -max_total_time="$seconds" -max_len=256 -print_final_stats=1 "$out/corpus" 2>&1 | tail -n 15
