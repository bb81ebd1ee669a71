#!/bin/bash
# Fetches the container runtime of the NRI end-to-end test: containerd 1.7 from
# Debian 13 (trixie; Debian 12's containerd 1.6 has no NRI; it needs only libc and
# runc), CRI's api.proto (golang-github-kubernetes-cri-api-dev) for the test's CRI
# client, and runc from this machine's own Debian 12 (trixie's needs glibc 2.38). For
# trixie apt-get works from its own sources list and lists directory under DIR/apt:
# the machine's apt sources are never changed; the packages are unpacked with
# dpkg-deb, not installed.
# Usage: fetch-kit.sh DIR     (idempotent)
# Produces DIR/root/usr/bin/{containerd,containerd-shim-runc-v2,ctr},
# DIR/root/usr/sbin/runc and DIR/root/usr/share/gocode/.../runtime/v1/api.proto.
set -euo pipefail
kit=$(mkdir -p "$1" && cd "$1" && pwd)
packages=(containerd golang-github-kubernetes-cri-api-dev)
[ -x "$kit/root/usr/bin/containerd" ] && [ -x "$kit/root/usr/sbin/runc" ] && exit 0
mkdir -p "$kit/apt/lists/partial" "$kit/apt/cache/archives/partial" "$kit/debs" "$kit/root"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
    > "$kit/apt/sources.list"
opts=(-o "Dir::Etc::SourceList=$kit/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$kit/apt/lists" -o "Dir::Cache=$kit/apt/cache" -o APT::Sandbox::User=root)
apt-get "${opts[@]}" update -qq
(cd "$kit/debs" && apt-get "${opts[@]}" download "${packages[@]}" && apt-get -o APT::Sandbox::User=root download runc)
for deb in "$kit"/debs/*.deb; do dpkg-deb -x "$deb" "$kit/root"; done
"$kit/root/usr/bin/containerd" --version
"$kit/root/usr/sbin/runc" --version
