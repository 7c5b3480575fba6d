#!/usr/bin/env bash
# Builds the two Debian packages from binaries already built, with plain dpkg-deb from a staged tree:
#   riftgate_<version>_<arch>.deb      the agent (riftgate, riftgate.service)
#   riftgate-hub_<version>_<arch>.deb  the hub (riftgate-hub, riftgate-hub.service, /etc/riftgate-hub/hub.toml)
# `make deb` calls it after `swift build -c release --static-swift-stdlib` (see the Makefile's DEB_* variables).
#
# Usage: deploy/debian/build-packages.sh --bin-dir DIR [--version VERSION] [--output DIR] [--no-lintian]
#   --bin-dir DIR     where riftgate and riftgate-hub are (they must not need the Swift runtime libraries)
#   --version V       the package version (default: 0.1.0~git<commit date>.<commit>, from git)
#   --output DIR      where the .deb files go (default: dist)
#   --maintainer M    the Maintainer field (default: $DEB_MAINTAINER, else riftgate maintainers <maintainers@riftgate.invalid>)
#   --compression C   xz (default), gzip (faster; the tests use it) or none
#   --no-lintian      do not run lintian on the result
# Depends: is computed by dpkg-shlibdeps from the binaries' ELF NEEDED entries, so it names exactly the Debian 12
# library packages (and minimum versions) the binaries were linked against; the hub also needs libwebsockets-evlib-ev,
# the lws plugin it loads with dlopen (its WebSocket server runs on libev), which no NEEDED entry names. Prints the two paths.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin_dir="" version="" output=dist lintian=yes compression=xz
maintainer=${DEB_MAINTAINER:-"riftgate maintainers <maintainers@riftgate.invalid>"}
while [[ $# -gt 0 ]]; do
  case $1 in
    --bin-dir) bin_dir=${2:?--bin-dir needs a directory}; shift 2 ;;
    --version) version=${2:?--version needs a version}; shift 2 ;;
    --output) output=${2:?--output needs a directory}; shift 2 ;;
    --maintainer) maintainer=${2:?--maintainer needs "Name <address>"}; shift 2 ;;
    --compression) compression=${2:?--compression needs xz, gzip or none}; shift 2 ;;
    --no-lintian) lintian=no; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "build-packages: unknown option $1" >&2; exit 1 ;;
  esac
done
[[ -n $bin_dir ]] || { echo "build-packages: --bin-dir is required" >&2; exit 1; }
for binary in riftgate riftgate-hub; do
  [[ -x $bin_dir/$binary ]] || { echo "build-packages: $bin_dir/$binary is missing" >&2; exit 1; }
  if objdump -p "$bin_dir/$binary" | grep -qE 'NEEDED +libswift|NEEDED +libFoundation|NEEDED +libdispatch'; then
    echo "build-packages: $bin_dir/$binary needs the Swift runtime; build it with --static-swift-stdlib" >&2
    exit 1
  fi
done

# Reproducible: every timestamp is the commit's, and the version comes from the commit unless given.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)}
if [[ -z $version ]]; then
  commit=$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
  version="0.1.0~git$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d%H%M%S).$commit"
fi
[[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || { echo "build-packages: \"$version\" is not a native Debian version" >&2; exit 1; }
arch=$(dpkg --print-architecture)
mkdir -p "$output"
output=$(cd "$output" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# dpkg-shlibdeps wants a debian/control naming the package; a throwaway one is enough.
shlibs_depends() {
  mkdir -p "$work/shlibs/debian"
  printf 'Source: riftgate\n\nPackage: %s\nArchitecture: any\n' "$1" >"$work/shlibs/debian/control"
  (cd "$work/shlibs" && dpkg-shlibdeps -O -e"$2" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
}

# build_package NAME BINARY EXTRA_DEPENDS RECOMMENDS SUGGESTS DESCRIPTION
build_package() {
  local name=$1 binary=$2 extra=$3 recommends=$4 suggests=$5 description=$6
  local root=$work/$name
  install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/share/doc/$name"
  install -m 0755 "$bin_dir/$binary" "$root/usr/bin/$binary"
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/$binary"
  sed -e "s|/usr/local/bin/|/usr/bin/|g" -e "s|/usr/local/share/doc/riftgate/|/usr/share/doc/$name/|g" \
    "$repo/deploy/systemd/$binary.service" >"$root/lib/systemd/system/$binary.service"
  chmod 0644 "$root/lib/systemd/system/$binary.service"
  install -d -m 0755 "$root/usr/share/man/man1"
  gzip -9n <"$here/$binary.1" >"$root/usr/share/man/man1/$binary.1.gz"
  chmod 0644 "$root/usr/share/man/man1/$binary.1.gz"
  install -m 0644 "$repo/docs/self-hosting.md" "$repo/docs/troubleshooting.md" "$root/usr/share/doc/$name/"
  if [[ $name == riftgate-hub ]]; then install -m 0644 "$repo/docs/scaling.md" "$root/usr/share/doc/$name/"; fi
  install -m 0644 "$here/copyright" "$root/usr/share/doc/$name/copyright"
  printf '%s (%s) unstable; urgency=medium\n\n  * Built from the riftgate repository; see its git history.\n\n -- %s  %s\n' \
    "$name" "$version" "$maintainer" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")" \
    | gzip -9n >"$root/usr/share/doc/$name/changelog.gz"
  for script in postinst prerm postrm; do install -m 0755 "$here/$name/$script" "$root/DEBIAN/$script"; done
  if [[ -f $here/$name/conffiles ]]; then
    install -m 0644 "$here/$name/conffiles" "$root/DEBIAN/conffiles"
    while read -r conffile; do install -D -m 0644 "$here/$name/files$conffile" "$root$conffile"; done <"$here/$name/conffiles"
  fi

  local depends
  depends=$(shlibs_depends "$name" "$root/usr/bin/$binary")
  [[ -n $depends ]] || { echo "build-packages: dpkg-shlibdeps found no dependencies for $binary" >&2; exit 1; }
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
  chmod 0644 "$root/DEBIAN/md5sums"
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: $arch"
    echo "Maintainer: $maintainer"
    echo "Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)"
    echo "Depends: $depends, $extra"
    [[ -z $recommends ]] || echo "Recommends: $recommends"
    [[ -z $suggests ]] || echo "Suggests: $suggests"
    echo "Section: net"
    echo "Priority: optional"
    echo "Description: $description"
    cat "$here/$name/description"
  } >"$root/DEBIAN/control"
  find "$root" -exec touch --no-dereference -d "@$SOURCE_DATE_EPOCH" {} +
  local deb=$output/${name}_${version}_${arch}.deb
  dpkg-deb --root-owner-group -Z"$compression" --build "$root" "$deb" >/dev/null
  echo "$deb"
}

agent=$(build_package riftgate riftgate "adduser, iproute2, wireguard-tools, acl" "wireguard-go" "" \
  "WireGuard mesh over ICE (agent)")
hub=$(build_package riftgate-hub riftgate-hub "adduser, libwebsockets-evlib-ev" "" "coturn, nginx | caddy" \
  "rendezvous hub of a riftgate WireGuard mesh")

if [[ $lintian == yes ]]; then
  # Errors fail the build; what lintian still reports (informational tags only) is explained in deploy/debian/LINTIAN.md.
  lintian --fail-on error "$agent" "$hub" >&2
fi
echo "$agent"
echo "$hub"
