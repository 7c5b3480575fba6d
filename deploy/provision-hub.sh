#!/usr/bin/env bash
# Turns a fresh Debian 12 machine into a running riftgate hub with one network, and prints the first token.
# Safe to run again: it then upgrades the binary, rewrites the configuration and restarts the hub, keeping the
# database, the hub key and the TURN secret (and creates no new network or token). docs/self-hosting.md explains
# every step it takes.
#
# Usage (as root):
#   provision-hub.sh --from DIR --domain NAME (--tls-cert FILE --tls-key FILE | --certbot EMAIL | --no-tls) [options]
#
#   --from DIR            directory holding the riftgate-hub binary: an unpacked release, or a build such as
#                         .build/release (build with --static-swift-stdlib, or the Swift runtime must be installed)
#   --domain NAME         the DNS name agents use to reach this machine, e.g. hub.example.org
#   --tls-cert FILE       certificate chain (PEM) for NAME, and --tls-key FILE its private key: copied to
#                         /etc/riftgate-hub/tls/ (renew them with deploy/certbot/riftgate-hub-deploy-hook)
#   --certbot EMAIL       get a Let's Encrypt certificate with certbot's standalone mode (needs NAME to point here
#                         and TCP port 80 to be reachable) and renew it automatically, restarting the hub
#   --no-tls              serve plain ws:// on port 8443 for a TLS reverse proxy on this machine (deploy/nginx);
#                         keep 8443 closed in the firewall: only the proxy may reach it
#   --network NAME        the first network (default: home)
#   --token-label LABEL   label of the first token (default: first-device)
#   --token-file PATH     write the first token to PATH (mode 0600) instead of printing it (for cloud-init logs)
#   --listen ADDR         where the hub listens (default :443 with TLS, :8443 with --no-tls)
#   --turn                also run coturn here as the TURN relay (UDP 3479, relays on UDP 49152-65535), with a
#                         new shared secret that the hub uses to hand out credentials
#   --turn-tcp            --turn, and coturn also listens on TCP 3479, which the hub hands out too: agents on
#                         networks that let out no UDP reach the relay over TCP (open TCP 3479 in the firewall;
#                         every agent then makes two allocations per attempt instead of one)
#   --no-systemd          start the services directly (deploy/run-unit.sh) instead of enabling systemd units:
#                         for containers and tests; the processes are not restarted at boot
#   --no-packages         do not install Debian packages (they must already be there)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
from="" domain="" tls_cert="" tls_key="" certbot_email="" no_tls=no network=home token_label=first-device
token_file="" listen="" turn=no turn_tcp=no use_systemd=yes install_packages=yes
while [[ $# -gt 0 ]]; do
  case $1 in
    --from) from=${2:?--from needs a directory}; shift 2 ;;
    --domain) domain=${2:?--domain needs a name}; shift 2 ;;
    --tls-cert) tls_cert=${2:?--tls-cert needs a file}; shift 2 ;;
    --tls-key) tls_key=${2:?--tls-key needs a file}; shift 2 ;;
    --certbot) certbot_email=${2:?--certbot needs an e-mail address}; shift 2 ;;
    --no-tls) no_tls=yes; shift ;;
    --network) network=${2:?--network needs a name}; shift 2 ;;
    --token-label) token_label=${2:?--token-label needs a label}; shift 2 ;;
    --token-file) token_file=${2:?--token-file needs a path}; shift 2 ;;
    --listen) listen=${2:?--listen needs host:port}; shift 2 ;;
    --turn) turn=yes; shift ;;
    --turn-tcp) turn=yes turn_tcp=yes; shift ;;
    --no-systemd) use_systemd=no; shift ;;
    --no-packages) install_packages=no; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

[[ $EUID -eq 0 ]] || die "run as root"
[[ -n $from ]] || die "--from DIR is required (where the riftgate-hub binary is)"
[[ -x $from/riftgate-hub ]] || die "$from/riftgate-hub is missing or not executable"
[[ $domain =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$ ]] || die "--domain NAME is required (a DNS name, e.g. hub.example.org)"
modes=0
[[ -n $tls_cert || -n $tls_key ]] && modes=$((modes + 1))
[[ -n $certbot_email ]] && modes=$((modes + 1))
[[ $no_tls == yes ]] && modes=$((modes + 1))
[[ $modes -eq 1 ]] || die "choose exactly one of --tls-cert/--tls-key, --certbot EMAIL or --no-tls"
if [[ -n $tls_cert || -n $tls_key ]]; then
  [[ -r $tls_cert && -r $tls_key ]] || die "--tls-cert and --tls-key must both name readable files"
fi
[[ $network =~ ^[a-z0-9][a-z0-9-]{0,62}$ ]] || die "network name \"$network\": 1-63 of a-z, 0-9 and '-', not starting with '-'"
if [[ $use_systemd == yes && ! -d /run/systemd/system ]]; then
  die "systemd is not running here; pass --no-systemd to start the hub directly"
fi
[[ -n $listen ]] || { [[ $no_tls == yes ]] && listen=":8443" || listen=":443"; }

hub_user=riftgate-hub
etc=/etc/riftgate-hub
state=/var/lib/riftgate-hub
lib=/usr/local/lib/riftgate
unit=/etc/systemd/system/riftgate-hub.service

# 1. Debian packages: the hub's shared libraries, and tools used below and in the guide.
if [[ $install_packages == yes ]]; then
  packages=(libwebsockets17 libwebsockets-evlib-ev libev4 libsodium23 libssl3 libsqlite3-0 libpq5 libnats3.4 ca-certificates curl sqlite3 util-linux openssl)
  [[ $turn == yes ]] && packages+=(coturn)
  [[ -n $certbot_email ]] && packages+=(certbot)
  install_packages "${packages[@]}"
fi

# 2. The service user and directories.
system_user "$hub_user" "$state"
install -d -m 0750 -o root -g "$hub_user" "$etc" "$etc/tls"
install -d -m 0700 -o "$hub_user" -g "$hub_user" "$state"

# 3. The binary (write, then rename over the old one) and the helpers.
install_binary "$from/riftgate-hub" riftgate-hub
install_helpers "$here"

# 4. TLS: copied from the given files, or obtained from Let's Encrypt.
if [[ -n $tls_cert ]]; then
  install_file "$etc/tls/fullchain.pem" 0644 root:root <"$tls_cert"
  install_file "$etc/tls/privkey.pem" 0640 "root:$hub_user" <"$tls_key"
elif [[ -n $certbot_email ]]; then
  # The deploy hook copies the certificate into /etc/riftgate-hub/tls and restarts the hub, now and on every renewal.
  certbot certonly --standalone --non-interactive --agree-tos --email "$certbot_email" --domain "$domain" \
    --deploy-hook "$lib/certbot-deploy-hook" --keep-until-expiring
  if [[ ! -f $etc/tls/fullchain.pem ]]; then
    RENEWED_LINEAGE=/etc/letsencrypt/live/$domain RIFTGATE_HUB_NO_RESTART=1 "$lib/certbot-deploy-hook"
  fi
fi

# 5. TURN: one shared secret, read by coturn (static-auth-secret) and by the hub (turn_secret_file).
turn_port=3479
# coturn's UDP socket buffers (docs/self-hosting.md, "TURN"): coturn before 4.8.0 hard-codes 64 KiB on every relay
# port, where bulk traffic towards the agent that owns the relay enters, and bursts overflow it. 4.8.0 and later take
# sock-buf-size; older ones get deploy/coturn/socket-buffers.c preloaded through a drop-in. Either way the kernel caps
# the size at net.core.rmem_max/wmem_max (coturn runs as its own user), so those are raised to at least 4 MiB.
turn_socket_buffer=2097152 turn_option="" turn_dropin=/etc/systemd/system/coturn.service.d/riftgate-socket-buffers.conf
configure_turn_socket_buffers() {
  local version shim=$lib/coturn-socket-buffers.so key limit=$((2 * turn_socket_buffer)) raised=""
  for key in rmem_max wmem_max; do
    if (($(cat "/proc/sys/net/core/$key") < limit)); then
      raised+="net.core.$key = $limit"$'\n'
      echo "$limit" >"/proc/sys/net/core/$key" 2>/dev/null || say "cannot raise net.core.$key to $limit here"
    fi
  done
  # Kept for the next boot; written only when this machine's limits were lower (never lowers them).
  if [[ -n $raised ]]; then printf '%s' "$raised" | install_file /etc/sysctl.d/60-riftgate-turn.conf 0644 root:root; fi
  version=$(turnserver --version 2>/dev/null | head -n 1 | tr -dc '0-9.')
  if [[ -n $version && $(printf '%s\n' 4.8.0 "$version" | sort -V | head -n 1) == 4.8.0 ]]; then
    turn_option="sock-buf-size=$turn_socket_buffer"
    rm -f "$turn_dropin"
    return
  fi
  if [[ -f $here/coturn/coturn-socket-buffers.so ]]; then
    install_file "$shim" 0644 root:root <"$here/coturn/coturn-socket-buffers.so"
  elif ! command -v cc >/dev/null || ! cc -shared -fPIC -O2 -o "$shim.new" "$here/coturn/socket-buffers.c" -ldl; then
    rm -f "$shim.new"
    say "coturn ${version:-(version unknown)} keeps 64 KiB relay socket buffers, which slows relayed bulk traffic" \
      "towards the relay's owner, and deploy/coturn/socket-buffers.c could not be built here (no C compiler?);" \
      "see docs/self-hosting.md, TURN"
    return
  else
    chmod 0644 "$shim.new" && mv -f "$shim.new" "$shim"
  fi
  install -d -m 0755 "$(dirname "$turn_dropin")"
  printf '# Written by riftgate provision-hub.sh: larger relay socket buffers for coturn before 4.8.0.\n[Service]\nEnvironment=LD_PRELOAD=%s RIFTGATE_SOCKET_BUFFER=%s\n' \
    "$shim" "$turn_socket_buffer" | install_file "$turn_dropin" 0644 root:root
}
if [[ $turn == yes ]]; then
  if [[ ! -s $etc/turn-secret ]]; then
    openssl rand -hex 32 | install_file "$etc/turn-secret" 0600 "$hub_user:$hub_user"
  fi
  id turnserver >/dev/null 2>&1 || die "coturn's user turnserver is missing (is coturn installed?)"
  # Debian's own example configuration is kept once, next to ours.
  if [[ -f /etc/turnserver.conf && ! -f /etc/turnserver.conf.orig ]]; then
    cp -p /etc/turnserver.conf /etc/turnserver.conf.orig
  fi
  secret=$(cat "$etc/turn-secret")
  configure_turn_socket_buffers
  # --turn-tcp: coturn listens on TCP too (deploy/coturn/turnserver.conf says no-tcp for UDP only).
  tcp_filter=""
  [[ $turn_tcp == yes ]] && tcp_filter='/^no-tcp$/d'
  sed -e "s|@REALM@|$domain|g" -e "s|@SECRET@|$secret|g" -e "s|@PORT@|$turn_port|g" -e "$tcp_filter" \
    "$here/coturn/turnserver.conf" \
    | { cat; [[ -z $turn_option ]] || echo "$turn_option"; } | install_file /etc/turnserver.conf 0640 root:turnserver
  unset secret
fi

# 6. The hub's configuration.
{
  echo "# riftgate-hub settings, written by provision-hub.sh; every \`riftgate-hub serve\` flag can be set here"
  echo "# (same name with _ for -). Apply changes with: systemctl restart riftgate-hub"
  echo "listen = \"$listen\""
  echo "public_host = \"$domain\""
  echo "state_dir = \"$state\""
  echo "stun_port = 3478"
  echo "admin_listen = \"127.0.0.1:9090\""
  if [[ $no_tls == no ]]; then
    echo "tls_cert = \"$etc/tls/fullchain.pem\""
    echo "tls_key = \"$etc/tls/privkey.pem\""
  fi
  if [[ $turn == yes ]]; then
    echo "turn_secret_file = \"$etc/turn-secret\""
    if [[ $turn_tcp == yes ]]; then
      echo "turn_urls = [\"turn:$domain:$turn_port?transport=udp\", \"turn:$domain:$turn_port?transport=tcp\"]"
    else
      echo "turn_urls = [\"turn:$domain:$turn_port?transport=udp\"]"
    fi
  fi
} | install_file "$etc/hub.toml" 0640 "root:$hub_user"

# 7. The service: a systemd unit, or started directly with the unit's user and capabilities.
install_file "$unit" 0644 root:root <"$here/systemd/riftgate-hub.service"

if [[ $use_systemd == yes ]]; then
  systemctl daemon-reload
  systemctl enable riftgate-hub.service >/dev/null 2>&1
  systemctl restart riftgate-hub.service
  if [[ $turn == yes ]]; then systemctl enable coturn.service >/dev/null 2>&1; systemctl restart coturn.service; fi
else
  start_direct "$unit" /run/riftgate-hub.pid /var/log/riftgate-hub.log
  if [[ $turn == yes ]]; then
    start_direct /lib/systemd/system/coturn.service /run/riftgate-coturn.pid /var/log/riftgate-coturn.log
  fi
fi

# /healthz on the local admin listener answers once the hub is serving.
for _ in $(seq 100); do
  curl -fsS --max-time 1 http://127.0.0.1:9090/healthz >/dev/null 2>&1 && break
  sleep 0.2
done
if ! curl -fsS --max-time 2 http://127.0.0.1:9090/healthz >/dev/null 2>&1; then
  if [[ $use_systemd == yes ]]; then
    journalctl -u riftgate-hub --no-pager -n 20 >&2
  else
    tail -n 20 /var/log/riftgate-hub.log >&2
  fi
  die "the hub did not become healthy within 20 s (log above)"
fi

# 8. The first network and token, as the service user so that the database stays owned by it.
url="wss://$domain"
[[ $no_tls == no && $listen != ":443" ]] && url="wss://$domain:${listen##*:}"
admin() { setpriv --reuid="$hub_user" --regid="$hub_user" --init-groups -- /usr/local/bin/riftgate-hub "$@" --config "$etc/hub.toml"; }
if admin network list | awk 'NR > 1 { print $1 }' | grep -qx "$network"; then
  say "network $network exists already; no new token created (riftgate-hub token create $network --label NAME)"
else
  admin network create "$network" >&2
  output=$(admin token create "$network" --label "$token_label")
  token=$(grep -oE 'rgt_[A-Za-z0-9_-]{43}' <<<"$output") || die "token create printed no token"
  if [[ -n $token_file ]]; then
    install -d -m 0700 "$(dirname "$token_file")"
    printf '%s\n' "$token" | install_file "$token_file" 0600 root:root
    say "the first token of network $network is in $token_file"
  else
    echo "$token"
  fi
  say "join a machine: deploy/install-agent.sh --from DIR --hub $url --network $network --token - (then paste the token)"
fi
say "hub running: $url"
