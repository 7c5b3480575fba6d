#!/usr/bin/env bash
# Packs riftgate for installation on machines without Swift: a tarball holding bin/riftgate, bin/riftgate-hub
# (release builds with the Swift standard library linked in), deploy/ and docs/, plus its SHA-256 checksum.
# provision-hub.sh and install-agent.sh take the unpacked bin/ directory as --from; deploy/cloud-init.yaml
# downloads the tarball from wherever you publish it.
#
# Usage: deploy/make-release.sh [--bin-dir DIR] [--output DIR]
#   --bin-dir DIR   package these binaries instead of building (swift build -c release --static-swift-stdlib)
#   --output DIR    where to write riftgate-<version>-linux-<arch>.tar.gz (default: dist)
# Prints the tarball's path. Fails if a binary needs Swift runtime libraries, which a plain Debian machine lacks.
set -euo pipefail

cd "$(dirname "$0")/.."
bin_dir="" output=dist
while [[ $# -gt 0 ]]; do
  case $1 in
    --bin-dir) bin_dir=${2:?--bin-dir needs a directory}; shift 2 ;;
    --output) output=${2:?--output needs a directory}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "make-release: unknown option $1" >&2; exit 1 ;;
  esac
done

if [[ -z $bin_dir ]]; then
  swift build -c release --static-swift-stdlib --scratch-path .build-release >&2
  bin_dir=.build-release/release
fi
for binary in riftgate riftgate-hub; do
  [[ -x $bin_dir/$binary ]] || { echo "make-release: $bin_dir/$binary is missing" >&2; exit 1; }
  if ldd "$bin_dir/$binary" | grep -q "libswiftCore"; then
    echo "make-release: $bin_dir/$binary links the Swift runtime dynamically; build with --static-swift-stdlib" >&2
    exit 1
  fi
done

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
name=riftgate-$version-linux-$(uname -m)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/bin"
install -m 0755 "$bin_dir/riftgate" "$bin_dir/riftgate-hub" "$stage/$name/bin/"
cp -r deploy docs "$stage/$name/"
rm -rf "$stage/$name/deploy/__pycache__"
# The coturn preload that provision-hub.sh --turn installs for coturn before 4.8.0 (docs/self-hosting.md, "TURN"),
# built here so that the hub machine needs no compiler.
cc -shared -fPIC -O2 -o "$stage/$name/deploy/coturn/coturn-socket-buffers.so" deploy/coturn/socket-buffers.c -ldl
chmod 0644 "$stage/$name/deploy/coturn/coturn-socket-buffers.so"
mkdir -p "$output"
tar -czf "$output/$name.tar.gz" -C "$stage" --owner=0 --group=0 "$name"
(cd "$output" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
echo "$output/$name.tar.gz"
