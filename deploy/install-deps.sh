#!/usr/bin/env bash
# Installs everything riftgate's build, tests and demo need on Debian 12, idempotently.
#   - Debian packages (C libraries, wireguard-go, coturn, nftables, iperf3, ...) with --no-install-recommends
#   - a Python virtual environment in .venv for the integration tests (websockets, PyNaCl, pytest from PyPI)
# Swift itself is not a Debian package: it must already be installed (default /opt/swift).
# Usage: sudo deploy/install-deps.sh [--no-python]
set -euo pipefail

cd "$(dirname "$0")/.."

packages=(
  # build: C libraries linked by the Swift package, and pkg-config to find them
  pkg-config libnice-dev libglib2.0-dev libwebsockets-dev libssl-dev libsodium-dev libsqlite3-dev
  # the hub's state in PostgreSQL for a cluster of hubs: the client library, and the server the tests start themselves
  libpq-dev postgresql
  # the agent's resolver for peers' names: the DNS wire format (parse queries, write answers)
  libldns-dev
  # the hub's WebSocket server runs libwebsockets on libev (epoll): the library and lws' plugin for it
  libev-dev libwebsockets-evlib-ev
  # the hub cluster's message bus (issue 14): the NATS C client, and nats-server for the 3-node cluster in the tests
  libnats-dev nats-server
  # run: WireGuard in userspace (the kernel module is used instead where present) and its tools
  wireguard-go wireguard-tools iproute2
  # tests, lab and demo: namespaces, NAT, TURN relay, throughput, certificates; iptables for its NFQUEUE target (the
  # lab's link delay: kernels without netem may still have it, through nftables' compat layer)
  coturn nftables conntrack iptables iputils-ping iperf3 procps openssl ca-certificates
  # Python for the independent protocol client used by the integration tests
  python3 python3-venv
  # deploy tests: systemd-analyze for the units, the guide's backups (sqlite3) and health checks (curl), the
  # reverse-proxy example (nginx), setpriv/nsenter/unshare/useradd for the simulated machines, cloud-init's YAML
  systemd sqlite3 curl nginx-light util-linux passwd python3-yaml
  # a third ICE implementation for the interoperability test (Tests/e2e/pion_interop_peer, built with Go from these)
  golang-go golang-github-pion-ice.v2-dev golang-github-gorilla-websocket-dev golang-golang-x-crypto-dev
  # the kernel WireGuard backend's test (Tests/e2e/test_kernel_wireguard.py): a QEMU VM booting Debian's kernel (fetched
  # by Tests/vm/prepare.sh with apt-get download) from an initramfs of busybox and its modules
  qemu-system-x86 busybox-static cpio kmod
  # provision-hub.sh --turn builds deploy/coturn/socket-buffers.c for Debian 12's coturn, as the deploy test checks
  gcc libc6-dev
  # the agent unit's ExecStartPre= grants its user write access to /etc/hosts with an ACL (names without systemd-resolved)
  acl
  # benchmarks (make bench): instruction counts of the forwarding loop, and strip for the bundle callgrind reads
  valgrind binutils
  # Debian packages (make deb) and their test: dpkg-shlibdeps, lintian, a Debian 12 root file system booted with
  # systemd-nspawn; promtool (from prometheus) checks the alert rules and the metrics pages
  dpkg-dev lintian debootstrap systemd-container prometheus
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then
    echo "install-deps: missing Debian packages: ${missing[*]}" >&2
    echo "install-deps: run as root (sudo $0) to install them" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # coturn's, nginx's, prometheus', nats-server's and postgresql's packages may start system services; the tests start
  # their own on chosen ports.
  for service in coturn nginx prometheus nats-server postgresql; do
    if [[ -d /run/systemd/system ]]; then
      systemctl disable --now "$service" >/dev/null 2>&1 || true
    elif [[ -x /etc/init.d/$service ]]; then
      /etc/init.d/"$service" stop >/dev/null 2>&1 || true
    fi
  done
else
  echo "install-deps: Debian packages present"
fi

swift_bin=$(command -v swift || true)
[[ -n "$swift_bin" ]] || [[ -x /opt/swift/usr/bin/swift ]] || {
  echo "install-deps: Swift 6.x not found (looked in PATH and /opt/swift/usr/bin); install a Swift toolchain first" >&2
  exit 1
}

if [[ "${1:-}" != "--no-python" ]]; then
  if [[ ! -x .venv/bin/python ]]; then
    echo "install-deps: creating .venv"
    python3 -m venv .venv
  fi
  if ! .venv/bin/python -c 'import websockets, nacl, pytest' 2>/dev/null \
     || [[ Tests/requirements.txt -nt .venv/.requirements-installed ]]; then
    echo "install-deps: installing Python test packages into .venv"
    .venv/bin/pip install -q --disable-pip-version-check -r Tests/requirements.txt
    touch .venv/.requirements-installed
  else
    echo "install-deps: Python test packages present"
  fi
fi
