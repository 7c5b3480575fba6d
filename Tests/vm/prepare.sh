#!/bin/sh
# Prepares the kernel-WireGuard test VM in CACHE (default /var/cache/riftgate-vm): Debian's kernel package, extracted
# (vmlinuz and its modules, with modules.dep), and an initramfs with busybox and the modules that mount the host's
# root over 9p and lay writable overlays on it. Idempotent; prints the kernel version. Needs qemu-system-x86, busybox-static, cpio and kmod
# (deploy/install-deps.sh installs them) and reaches Debian's mirror once for the kernel package.
set -eu
cache=${1:-/var/cache/riftgate-vm}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$cache"
package=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$package" ] || { echo "prepare.sh: apt knows no linux-image-amd64 (apt-get update?)" >&2; exit 1; }
version=${package#linux-image-}
root="$cache/$version"
if [ ! -f "$root/ready" ]; then
    rm -rf "$root" "$cache/download"
    mkdir -p "$cache/download"
    (cd "$cache/download" && apt-get download "$package" >/dev/null 2>&1) || {
        echo "prepare.sh: apt-get download $package failed" >&2; exit 1; }
    dpkg -x "$cache"/download/*.deb "$root"
    rm -rf "$cache/download"
    depmod -b "$root" "$version"
    touch "$root/ready"
fi
initramfs="$cache/initramfs-$version.gz"
if [ ! -f "$initramfs" ] || [ "$here/init" -nt "$initramfs" ] || [ "$here/prepare.sh" -nt "$initramfs" ]; then
    staging=$(mktemp -d)
    mkdir -p "$staging/bin" "$staging/modules"
    cp /bin/busybox "$staging/bin/busybox"
    : > "$staging/modules/order"
    for module in virtio_pci 9pnet_virtio 9p overlay; do
        for path in $(modprobe -d "$root" -S "$version" --show-depends "$module" | awk '$1 == "insmod" { print $2 }'); do
            name=$(basename "$path")
            grep -qx "$name" "$staging/modules/order" && continue
            cp "$path" "$staging/modules/$name"
            echo "$name" >> "$staging/modules/order"
        done
    done
    cp "$here/init" "$staging/init"
    chmod 755 "$staging/init"
    (cd "$staging" && find . | cpio -o -H newc --quiet | gzip -1) > "$initramfs.new"
    mv "$initramfs.new" "$initramfs"
    rm -rf "$staging"
fi
echo "$version"
