#!/usr/bin/env bash
# Installs the riftgate agent on a Debian 12 machine as a service that does not run as root, and optionally joins
# it to a network. Safe to run again (upgrades the binary and restarts the agent; keeps the key). The steps are
# the ones docs/self-hosting.md ("Join a machine") describes.
#
# Usage (as root):
#   install-agent.sh --from DIR [--hub URL --network NAME --token TOKEN|- [--name NAME] [--interface IF]
#                    [--ca-file FILE] [--force]] [--no-systemd] [--no-packages]
#
#   --from DIR        directory holding the riftgate binary (an unpacked release or a build such as .build/release)
#   --hub URL ...     run `riftgate init` with these settings (--token - reads the token from standard input) and
#                     start the agent; without --hub only the binary, the user and the unit are installed. Repeat
#                     --hub for the members of a hub cluster (tried in this order)
#   --ca-file FILE    a CA certificate to verify the hub with instead of the system trust store (copied to
#                     /etc/riftgate/hub-ca.pem)
#   --force           replace an existing configuration and key (the machine gets a new identity)
#   --no-systemd      start the agent through deploy/run-unit.sh instead of systemd (containers, tests)
#   --no-packages     do not install Debian packages
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"

from="" hubs=() network="" token="" name="" interface="" ca_file="" force=no use_systemd=yes install_packages=yes
while [[ $# -gt 0 ]]; do
  case $1 in
    --from) from=${2:?--from needs a directory}; shift 2 ;;
    --hub) hubs+=("${2:?--hub needs a URL}"); shift 2 ;;
    --network) network=${2:?--network needs a name}; shift 2 ;;
    --token) token=${2:?--token needs a token or -}; shift 2
             [[ $token == - ]] || say "warning: a token given as an argument is visible to every local user in the" \
               "process list while this runs; prefer --token - and paste it or pipe it in" ;;
    --name) name=${2:?--name needs a name}; shift 2 ;;
    --interface) interface=${2:?--interface needs a name}; shift 2 ;;
    --ca-file) ca_file=${2:?--ca-file needs a file}; shift 2 ;;
    --force) force=yes; shift ;;
    --no-systemd) use_systemd=no; shift ;;
    --no-packages) install_packages=no; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

[[ $EUID -eq 0 ]] || die "run as root"
[[ -n $from ]] || die "--from DIR is required (where the riftgate binary is)"
if [[ ${#hubs[@]} -gt 0 ]]; then
  [[ -n $network && -n $token ]] || die "--hub needs --network and --token"
  [[ -z $ca_file || -r $ca_file ]] || die "cannot read --ca-file $ca_file"
fi
if [[ $use_systemd == yes && ! -d /run/systemd/system ]]; then
  die "systemd is not running here; pass --no-systemd to start the agent directly"
fi

config=/etc/riftgate/riftgate.toml
unit=/etc/systemd/system/riftgate.service

# 1. Packages: the agent's shared libraries, WireGuard tools (and wireguard-go when the kernel has no module).
if [[ $install_packages == yes ]]; then
  packages=(libnice10 libglib2.0-0 libwebsockets17 libev4 libsodium23 libssl3 libldns3 wireguard-tools iproute2 util-linux ca-certificates)
  modprobe --dry-run --quiet wireguard 2>/dev/null || packages+=(wireguard-go)
  install_packages "${packages[@]}"
fi

# 2. The service user; its group is also the group allowed to use `riftgate status` and `riftgate down`.
system_user riftgate /nonexistent

# 3. Binary, helpers and unit.
install_binary "$from/riftgate" riftgate
install_helpers "$here"
install_file "$unit" 0644 root:root <"$here/systemd/riftgate.service"
if [[ ! -e /dev/net/tun ]] || ! setpriv --reuid=riftgate --regid=riftgate --init-groups -- test -r /dev/net/tun -a -w /dev/net/tun; then
  ip link add riftgate-probe type wireguard 2>/dev/null && ip link del riftgate-probe && kernel=yes || kernel=no
  if [[ $kernel == no ]]; then
    say "warning: the riftgate user cannot open /dev/net/tun (mode $(stat -c %a /dev/net/tun 2>/dev/null || echo missing)) and the" \
        "kernel has no WireGuard module: wireguard-go will fail. Debian's udev makes /dev/net/tun mode 0666."
  fi
fi

# 4. Configuration and key (riftgate init), readable by the service user only.
if [[ ${#hubs[@]} -gt 0 ]]; then
  # The token reaches riftgate on standard input, never as an argument (arguments are visible in /proc/PID/cmdline).
  init=(--config "$config")
  for url in "${hubs[@]}"; do init+=(--hub "$url"); done
  init+=(--network "$network" --token -)
  [[ -n $name ]] && init+=(--name "$name")
  [[ -n $interface ]] && init+=(--interface "$interface")
  if [[ -n $ca_file ]]; then
    install -d -m 0755 /etc/riftgate
    install_file /etc/riftgate/hub-ca.pem 0644 root:root <"$ca_file"
    init+=(--ca-file /etc/riftgate/hub-ca.pem)
  fi
  if [[ -f $config && $force == no ]]; then
    say "$config exists: keeping it and its key (pass --force to replace them)"
  else
    [[ $force == yes ]] && init+=(--force)
    if [[ $token == - ]]; then
      /usr/local/bin/riftgate init "${init[@]}" >&2
    else
      printf '%s\n' "$token" | /usr/local/bin/riftgate init "${init[@]}" >&2
    fi
  fi
  secrets=$(sed -n 's/^secrets_file = "\(.*\)"$/\1/p' "$config")
  chown riftgate:riftgate "${secrets:?no secrets_file in $config}"
  chmod 0600 "$secrets"

  # 5. Start (or restart, after an upgrade).
  if [[ $use_systemd == yes ]]; then
    systemctl daemon-reload
    systemctl enable riftgate.service >/dev/null 2>&1
    systemctl restart riftgate.service
  else
    start_direct "$unit" /run/riftgate-agent.pid /var/log/riftgate.log
  fi
  socket=$(sed -n 's/^control_socket = "\(.*\)"$/\1/p' "$config")
  for _ in $(seq 100); do [[ -S $socket ]] && break; sleep 0.2; done
  [[ -S $socket ]] || die "the agent did not open $socket within 20 s; see $( [[ $use_systemd == yes ]] && echo 'journalctl -u riftgate' || echo /var/log/riftgate.log)"
  say "riftgate is running; check it with: riftgate status"
else
  say "installed; next: riftgate init --hub URL --network NAME --token - && chown riftgate: /etc/riftgate/secrets.toml" \
      "&& systemctl enable --now riftgate (or run this script again with --hub ...)"
fi
