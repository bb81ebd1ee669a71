#!/usr/bin/env bash
# Builds the parser fuzz target with libFuzzer and runs it for a short while.
#   fuzz/run.sh [SECONDS] [BUILD_DIR] [PROTO_DIR]
# PROTO_DIR holds the NRI messages the CMake build generated (default build/proto).
# The target is compiled against libstdc++, as Debian's libprotobuf-lite (which the NRI
# plugin's message decoding needs) and the libFuzzer runtime are. libstdc++ 12 offers
# std::expected only to a compiler that says it has C++20 concepts in full
# (__cpp_concepts 202002); clang 16 has what <expected> uses (conditionally trivial
# special members) but still says 201907, so the macro is set here.
# The first byte of each input picks the parser (see parsers_fuzz.cpp); the seeds
# are the test fixtures and fuzz/seeds/, prefixed with that byte here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
seconds=${1:-30}
out=${2:-$src/build/fuzz}
proto=${3:-$src/build/proto}
cxx=${AFFINE_FUZZ_CXX:-clang++-16}
command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found (apt-get install clang-16 libclang-rt-16-dev)"; exit 1; }
[ -f "$proto/nri_api.pb.cc" ] || { echo "fuzz: no $proto/nri_api.pb.cc: build the project first (scripts/build)"; exit 1; }
launcher=()
command -v ccache >/dev/null && launcher=(ccache)
mkdir -p "$out/obj"
flags=(-std=c++2b -stdlib=libstdc++ -Wno-macro-redefined -D__cpp_concepts=202002L -O1 -g
       -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -DFMT_HEADER_ONLY
       -DAFFINE_HAVE_XENCTRL_H=0 -DAFFINE_VERSION='"fuzz"' -I"$src/include" -I"$src/src" -isystem "$proto")
# The pure code (the model, the planner, the daemon's engine, the Xen model: every
# parser and the planner) and the few backend files that hold parsers of outside
# input; the rest of the library has none and is not built here.
cd "$src"
sources=(fuzz/parsers_fuzz.cpp src/core/*.cpp src/planner/*.cpp src/daemon/engine/*.cpp src/xen/model/*.cpp
         src/linux/procfs.cpp src/linux/sysfs.cpp
         src/xen/numa_dump.cpp src/xen/domain_names.cpp src/xen/hypervisor.cpp src/xen/sim/sim_hypervisor.cpp src/state/state_file.cpp
         src/daemon/journal.cpp src/daemon/kernel_accounting.cpp src/linux/cpu_accounting.cpp src/nri/frame_splitter.cpp src/nri/mux.cpp src/nri/ttrpc_frame.cpp
         src/nri/ttrpc.cpp src/nri/session.cpp src/nri/plugin.cpp src/nri/container_placement.cpp src/nri/container_status.cpp
         "$proto/nri_api.pb.cc" "$proto/ttrpc.pb.cc")
objects=()
newest_header=$(find include src "$proto" -name '*.h*' -printf '%T@\n' | sort -n | tail -n 1)
for s in "${sources[@]}"; do
    o="$out/obj/$(echo "${s%.cpp}" | tr / _).o"
    if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || awk -v h="$newest_header" -v o="$(stat -c %Y "$o")" 'BEGIN{exit !(h > o)}'; then
        "${launcher[@]}" "$cxx" "${flags[@]}" -c "$s" -o "$o"
    fi
    objects+=("$o")
done
"$cxx" -fsanitize=fuzzer,address,undefined "${objects[@]}" -o "$out/parsers_fuzz" \
    /usr/lib/x86_64-linux-gnu/libprotobuf-lite.a -pthread

# Seeds: one of each form, and the fixtures, each behind its parser's byte.
corpus=$out/corpus
mkdir -p "$corpus"
i=0
seed() {  # seed BYTE TEXT
    printf '%s%s' "$1" "$2" > "$corpus/seed-$1-$i"; i=$((i + 1))
}
for text in '0-3,8-11' 'all,^0' 'nodes:0-1,^node:1' '0-15:4' '0xff,ffffffff' '0x3' '4294967295' \
            'core:1' 'cores:0-5:2' 'socket:1,^die:2' 'package:0' 'dies:0-3' 'l3:1-2' 'all,^l3s:0'; do
    seed g "$text"
done
for text in '512M' '1.5G' '64GiB' '64GB' '2KB' '1073741824'; do seed s "$text"; done
for text in 'nodes=4,cores=8,smt=2,mem=64G' 'nodes=2,sockets=1,cores=1,dist=31,sdist=12' \
            'nodes=4,sockets=2,cores=2,slow=16G,slowdist=18'; do seed y "$text"; done
for text in '0:5,1:1' '0:255,3:1,7:2'; do seed w "$text"; done
for f in tests/fixtures/sysfs/*.expected.json; do seed h "$(cat "$f")"; done
for text in '{"name": "vm1", "vcpus": 2, "memory": "2G", "policy": "best-effort", "resident": {"0": "1G"}}' \
            '{"vcpus": 4, "memory": 1073741824, "cores": true}'; do
    seed r "$text"
done
seed n "$(cat tests/fixtures/proc/4242/numa_maps)"
seed p "$(cat tests/fixtures/proc/4242/stat)"
seed k "$(printf 'cpu  10 0 5 100 0 0 0 0 0 0\ncpu0 5 0 2 50 0 0 0 0 0 0\ncpu1 5 0 3 50 0 0 0 0 0 0\nintr 1\n')"
seed e "$(printf 'version 15\ntimestamp 1\ncpu0 0 0 0 0 0 0 1000 2000 30\ndomain0 3 0\ncpu1 0 0 0 0 0 0 10 20 3\n')"
seed z '123456789 2345678 42'
seed v "$(printf 'some avg10=0.00 avg60=0.00 avg300=0.00 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n')"
seed t "$(cat tests/fixtures/proc/4242/status)"
seed x "$(cat fuzz/seeds/sim-state.json)"
seed d "$(cat fuzz/seeds/xen-numa-dump.txt)"
for text in '{"op":"set-soft","ids":[4312],"all_threads":true,"cpus":"0-3","children":false}' '{"op":"status"}' \
            '{"op":"show","ids":[1,2]}' '{"op":"advise","cpu_hundredths":200,"memory_mib":512,"reserved":"0"}'; do
    seed q "$text"
done
seed c "$(cat dist/daemon.conf)"
seed c 'interval = "250ms"
[placement]
memory_cooldown = "1.5s"
[[rule]]
name = "vms"
comm = ["qemu-system-x86"]
policy = "best-effort"
memory_tier = "top"'
seed j '{"version":1,"workloads":[{"pid":12,"start_time":5000,"command":"\\xff\\xfe","uid":1000,"soft":"0","all_threads":true,"children":false,"named_tids":[],"origin":"pin --soft","since":1.5,"requester_uid":1000,"requester_cap_sys_nice":false,"threads":[{"tid":12,"start_time":5000,"original":"0-1","hard":"0-1","applied":"0","previous":"0-1"}]}]}'
seed a "$(printf 'abcdefghijklmn\xc3')"
# NRI (binary, so not through seed(), whose command substitution drops NUL bytes): a
# registration on connection 2 and a frame of connection 1, merged; two ttrpc frames.
printf 'm\0\0\0\2\0\0\0\22\0\0\0\10\0\0\0\1\1\0\n\6affine\0\0\0\1\0\0\0\3abc' > "$corpus/seed-m-nri"
printf 'f\0\0\0\2\0\0\0\1\2\0ok\0\0\0\0\0\0\0\3\1\4' > "$corpus/seed-f-nri"
# NRI's messages, encoded by protoc from their text form: a Guaranteed container of 2
# CPUs, a shared one, the first stopped; as records of the plugin's calls (b) and as
# the runtime's byte stream (i: the same calls in ttrpc Request envelopes, in ttrpc
# frames on the multiplexer's connection 1).
encode() { protoc --encode="$1" -I"$2" "$2/$3"; }
# bytes N...: the bytes of these values (their escapes are the format).
# shellcheck disable=SC2059
bytes() { printf "$(printf '\\x%02x' "$@")"; }
be32() { bytes $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
container() {  # container NAME SHARES QUOTA: the text of a CreateContainerRequest
    echo "pod { id: \"pod-$1\" name: \"$1\" namespace: \"default\" annotations { key: \"affine/policy\" value: \"best-effort\" } }
          container { id: \"$1\" pod_sandbox_id: \"pod-$1\" name: \"$1\" linux { resources {
              cpu { shares { value: $2 } quota { value: $3 } period { value: 100000 } }
              memory { limit { value: 1073741824 } } } } }"
}
calls=(2 CreateContainerRequest "$(container g 2048 200000)"
       2 CreateContainerRequest "$(container b 512 0)"
       4 StopContainerRequest 'pod { id: "pod-g" } container { id: "g" pod_sandbox_id: "pod-g" }')
methods=([2]=CreateContainer [4]=StopContainer)
printf b > "$corpus/seed-b-nri"; printf i > "$corpus/seed-i-nri"
for ((c = 0; c < ${#calls[@]}; c += 3)); do
    encode "nri.pkg.api.v1alpha1.${calls[c + 1]}" "$proto" nri_api.proto <<< "${calls[c + 2]}" > "$out/payload"
    n=$(stat -c %s "$out/payload")
    { bytes "${calls[c]}" $((n >> 8)) $((n & 255)); cat "$out/payload"; } >> "$corpus/seed-b-nri"
    encode ttrpc.Request "$src/proto" ttrpc.proto > "$out/envelope" <<< "service: \"nri.pkg.api.v1alpha1.Plugin\"
        method: \"${methods[calls[c]]}\" payload: \"$(od -An -v -tx1 "$out/payload" | tr -d ' \n' | sed 's/../\\x&/g')\""
    n=$(stat -c %s "$out/envelope")
    { be32 1; be32 $((n + 10)); be32 "$n"; be32 $((c / 3 * 2 + 1)); bytes 1 0; cat "$out/envelope"; } >> "$corpus/seed-i-nri"
done
seed l 'name = "web"
type = "pvh"
memory = 2048
maxmem = 4096
vcpus = 4
maxvcpus = 8
cpus = ["0-1", "node:1", "2"]
cpus_soft = "all,^0"
cpupool = "Pool-0"
'
seed u "(XEN) Domain heap initialised DMA width 29 bits
$(cat fuzz/seeds/xen-numa-dump.txt)
dma_bits=30"
"$out/parsers_fuzz" -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 "$corpus" 2>&1 | tail -n 15
