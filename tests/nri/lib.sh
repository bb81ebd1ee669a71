# shellcheck shell=bash
# What the NRI end-to-end tests share, on this machine (test-containerd.sh) and in a
# 2-node QEMU guest (tests/system/test-linux-nri.sh): the runtime's configuration, the
# locally built image and CRI's messages for cri_client.py. Source it from bash.
#
#   nri_containerd_config WORK RUNC [RUNC_OPTION...]
#       prints containerd's configuration: NRI enabled, everything of the runtime
#       (root, state, sockets, NRI socket and plugin directory, runc's root) under
#       WORK, runc at RUNC; RUNC_OPTIONs are extra lines of runc's options
#       (`NoPivotRoot = true` where / is an initramfs, which pivot_root refuses)
#   nri_make_image STAGING OUT_TAR
#       the image localhost/affine-busybox:1 (busybox-static as its one layer) as an
#       OCI layout tar for `ctr images import`, built in STAGING
#   nri_cri_messages KIT DIR
#       CRI's messages for cri_client.py (DIR/cri_pb2.py), from the api.proto of the
#       kit fetch-kit.sh made (its gogo options are Go-only and dropped)

nri_containerd_config() {
    local work=$1 runc=$2 option
    shift 2
    cat <<TOML
version = 2
root = "$work/root"
state = "$work/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.snapshotter.v1.blockfile", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$work/containerd.sock"
[ttrpc]
  address = "$work/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$work/opt"
[plugins."io.containerd.nri.v1.nri"]
  disable = false
  disable_connections = false
  socket_path = "$work/nri.sock"
  plugin_path = "$work/plugins"
  plugin_config_path = "$work/nri-conf.d"
  plugin_registration_timeout = "5s"
  plugin_request_timeout = "2s"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/affine-busybox:1"
  enable_cdi = false
  # Never lower an OOM score below containerd's own (lowering needs CAP_SYS_RESOURCE).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$work/cni/bin"
    conf_dir = "$work/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$work/runc"
        BinaryName = "$runc"
TOML
    for option in "$@"; do echo "        $option"; done
}

nri_make_image() {
    local img=$1 out=$2 tool layer config manifest
    mkdir -p "$img/rootfs/bin" "$img/blobs/sha256"
    cp /bin/busybox "$img/rootfs/bin/busybox"
    for tool in sh sleep cat grep; do ln -sf busybox "$img/rootfs/bin/$tool"; done
    tar -C "$img/rootfs" -cf "$img/layer.tar" .
    _nri_blob() { local d; d=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$img/blobs/sha256/$d"; echo "$d"; }
    layer=$(_nri_blob "$img/layer.tar")
    printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/bin/sleep","100000"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
        "$layer" > "$img/config.json"
    config=$(_nri_blob "$img/config.json")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
        "$config" "$(stat -c %s "$img/config.json")" "$layer" "$(stat -c %s "$img/layer.tar")" > "$img/manifest.json"
    manifest=$(_nri_blob "$img/manifest.json")
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"io.containerd.image.name":"localhost/affine-busybox:1","org.opencontainers.image.ref.name":"1"}}]}' \
        "$manifest" "$(stat -c %s "$img/manifest.json")" > "$img/index.json"
    echo '{"imageLayoutVersion":"1.0.0"}' > "$img/oci-layout"
    tar -C "$img" -cf "$out" oci-layout index.json blobs
    unset -f _nri_blob
}

nri_cri_messages() {
    local kit=$1 dir=$2
    mkdir -p "$dir"
    sed -e '/^import "github.com\/gogo/d' -e '/^option (gogoproto/d' \
        "$kit/root/usr/share/gocode/src/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto" > "$dir/cri.proto"
    protoc --python_out="$dir" -I"$dir" "$dir/cri.proto"
}
