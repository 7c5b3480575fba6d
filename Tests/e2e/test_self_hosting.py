"""docs/self-hosting.md, followed command by command on three simulated machines on one LAN (see machines.py).

The hub machine is provisioned with deploy/provision-hub.sh (no systemd: the unit is run by deploy/run-unit.sh with
its user and capabilities). Machine A joins as the guide's quick start does (`riftgate init` + `riftgate up` as
root); machine B as the guide's service does (deploy/install-agent.sh: riftgate.service as its unprivileged user
with only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE, for its DNS server). They ping each other through the tunnel; then the guide's day-two commands run.

A private CA stands in for Let's Encrypt: it is added to the agent machines' system trust store, as the public CAs
are, and an /etc/hosts line stands in for the DNS record.
"""
import os
import re
import subprocess

import pytest
from lab import run, wait_for
from machines import (Machine, connected_peer, dump_logs, joined, machines, ping, process_identity,  # noqa: F401
                      status, status_json, wait_gone)
from riftgate_lab import bin_dir, binary

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
DOMAIN = "hub.riftgate.test"
HUB_URL = f"wss://{DOMAIN}"
TOKEN = re.compile(r"rgt_[A-Za-z0-9_-]{43}")
CAP_NET_BIND_SERVICE, CAP_NET_ADMIN = 1 << 10, 1 << 12


def make_certificates(directory: str) -> dict:
    """A CA and a certificate for DOMAIN signed by it (what an ACME client would fetch)."""
    paths = {name: os.path.join(directory, name) for name in ("ca.pem", "ca.key", "hub.pem", "hub.key", "hub.csr", "ext")}
    with open(paths["ext"], "w") as handle:
        handle.write(f"subjectAltName=DNS:{DOMAIN}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    run("openssl", "req", "-x509", *ec, "-keyout", paths["ca.key"], "-out", paths["ca.pem"], "-days", "2",
        "-subj", "/CN=riftgate test CA")
    run("openssl", "req", *ec, "-keyout", paths["hub.key"], "-out", paths["hub.csr"], "-subj", f"/CN={DOMAIN}")
    run("openssl", "x509", "-req", "-in", paths["hub.csr"], "-CA", paths["ca.pem"], "-CAkey", paths["ca.key"],
        "-CAcreateserial", "-out", paths["hub.pem"], "-days", "2", "-extfile", paths["ext"])
    return paths


def trust_hub(machine: Machine, ca: str) -> None:
    """The guide's prerequisites on an agent machine: the hub's DNS name resolves and its certificate is trusted."""
    machine.shell(f"echo '192.0.2.1 {DOMAIN}' >> /etc/hosts")
    machine.run("install", "-D", "-m", "0644", ca, "/usr/local/share/ca-certificates/riftgate-test-ca.crt")
    machine.run("update-ca-certificates")


def quick_start(machine: Machine, token: str, interface: str, name: str, log: str) -> None:
    """The guide's quick start on a machine: copy the binary, `riftgate init`, `riftgate up` as root."""
    machine.run("install", "-m", "0755", binary("riftgate"), "/usr/local/bin/riftgate")
    machine.run("riftgate", "init", "--hub", HUB_URL, "--network", "home", "--token", "-", "--interface", interface,
                "--name", name, input=token + "\n")
    machine.spawn("riftgate", "up", log=log)


def test_self_hosting_guide_from_an_empty_machine_to_two_connected_agents(lab, workdir, machines):
    hub, a, b = machines["hub"], machines["a"], machines["b"]
    certificates = make_certificates(workdir)
    if_a, if_b = f"{lab.prefix}a", f"{lab.prefix}b"

    # --- The hub machine (guide: "Provision the hub"), with its own TLS and coturn. ---
    provision = [os.path.join(DEPLOY, "provision-hub.sh"), "--from", bin_dir(), "--domain", DOMAIN, "--network", "home",
                 "--tls-cert", certificates["hub.pem"], "--tls-key", certificates["hub.key"], "--turn-tcp", "--no-systemd",
                 "--no-packages"]
    result = hub.run(*provision, timeout=120)
    assert TOKEN.fullmatch(result.stdout.strip()), f"provisioning prints exactly the first token: {result.stdout!r}"
    first_token = result.stdout.strip()

    # The hub runs as its own user with CAP_NET_BIND_SERVICE only (the unit's settings), on 443 with TLS.
    (hub_pid,) = hub.processes("riftgate-hub")
    identity = process_identity(hub_pid)
    assert identity["uid"] == int(hub.run("id", "-u", "riftgate-hub").stdout) != 0
    assert identity["effective"] == identity["bounding"] == CAP_NET_BIND_SERVICE, identity
    served = hub.run("openssl", "s_client", "-connect", "192.0.2.1:443", "-servername", DOMAIN, "-verify_return_error",
                     "-CAfile", certificates["ca.pem"], input="", timeout=15)
    assert "Verify return code: 0 (ok)" in served.stdout
    # coturn runs with the deploy configuration and the same secret as the hub.
    (turn_pid,) = hub.processes("turnserver")
    assert process_identity(turn_pid)["uid"] != 0
    secret = hub.read("/etc/riftgate-hub/turn-secret").strip()
    assert f"static-auth-secret={secret}" in hub.read("/etc/turnserver.conf") and len(secret) == 64
    # --turn-tcp: coturn listens on TCP 3479 too, and the hub hands out both URLs (agents without UDP use the TCP one).
    assert "no-tcp" not in hub.read("/etc/turnserver.conf").splitlines()
    assert f'"turn:{DOMAIN}:3479?transport=tcp"' in hub.read("/etc/riftgate-hub/hub.toml")
    wait_for(lambda: ":3479 " in hub.run("ss", "-Hltn", check=False).stdout, 10, what="coturn's TCP listener")

    # Guide: tokens are created as root with the plain admin commands.
    assert re.search(r"^home\s", hub.run("riftgate-hub", "network", "list").stdout, re.M)
    token_b = TOKEN.search(hub.run("riftgate-hub", "token", "create", "home", "--label", "server-b").stdout).group(0)

    # --- Machine A: the quick start, as root. Machine B: the service, not root. ---
    for machine in (a, b):
        trust_hub(machine, certificates["ca.pem"])
    # Troubleshooting's first check: the hub answers over TLS with a certificate the machine trusts.
    assert a.run("curl", "-fsS", "--max-time", "5", f"https://{DOMAIN}/healthz").returncode == 0
    quick_start(a, first_token, if_a, "laptop-a", os.path.join(workdir, "agent-a.log"))
    b.run(os.path.join(DEPLOY, "install-agent.sh"), "--from", bin_dir(), "--hub", HUB_URL, "--network", "home",
          "--token", "-", "--interface", if_b, "--name", "server-b", "--no-systemd", "--no-packages",
          input=token_b + "\n", timeout=60)
    (agent_b_pid,) = b.processes("riftgate")
    identity_b = process_identity(agent_b_pid)
    assert identity_b["uid"] == int(b.run("id", "-u", "riftgate").stdout) != 0
    assert identity_b["effective"] == identity_b["bounding"] == identity_b["ambient"] == CAP_NET_ADMIN | CAP_NET_BIND_SERVICE, identity_b
    assert os.stat(b.path("/etc/riftgate/secrets.toml")).st_mode & 0o777 == 0o600

    try:
        a_self, b_self = joined(a), joined(b)
        wait_for(lambda: ping(a, b_self["ipv4"]), timeout=40, what="A to ping B through the tunnel")
        assert ping(b, a_self["ipv4"]) and ping(a, b_self["ipv6"]) and ping(b, a_self["ipv6"])
        peer_b = wait_for(lambda: connected_peer(a, b_self["public_key"]), 20, what="A to call B connected")
        assert peer_b["name"] == "server-b" and peer_b.get("path_mode") == "direct", peer_b
        # B, an unprivileged user with the unit's capabilities, answers DNS for the names on its overlay address.
        assert status_json(b)["dns"]["resolver"] == f"{b_self['ipv4']}:53", status_json(b).get("dns")
        # Names: B's agent runs as the unit's user, and the unit (ReadWritePaths= and an ACL entry added by its
        # ExecStartPre=+) lets it keep its block in /etc/hosts (these machines have no systemd-resolved), so A's DNS
        # name resolves on B; A, run as root, resolves B's.
        fqdn_a = wait_for(lambda: (p := connected_peer(b, a_self["public_key"])) and p.get("dns_name"), 20,
                          what="A's DNS name in B's status")
        names_b = status_json(b)["names"]
        assert names_b["registration"] == "hosts" and not names_b.get("last_error"), names_b
        assert a_self["ipv4"] in b.run("getent", "ahostsv4", fqdn_a).stdout
        assert b_self["ipv4"] in a.run("getent", "ahostsv4", peer_b["dns_name"]).stdout
        # What the guide says `riftgate status --verbose` shows once connected.
        for machine in (a, b):
            text = wait_for(lambda: (t := status(machine, "--verbose").stdout) and "state connected" in t and t, 20,
                            what=f"{machine.host.name}'s status to show its peer connected")
            assert f"hub {HUB_URL}/v1/networks/home: connected" in text and "path host direct" in text, text
        # wireguard-go (when the kernel has no WireGuard) runs as the agent's user: nothing of B's agent is root.
        for pid in b.processes("wireguard-go"):
            assert process_identity(pid)["uid"] == identity_b["uid"]

        # The control socket: root and members of the riftgate group may use it, other users may not.
        b.run("useradd", "--create-home", "--groups", "riftgate", "alice")
        b.run("useradd", "--create-home", "mallory")
        as_alice = b.run("setpriv", "--reuid=alice", "--regid=alice", "--init-groups", "riftgate", "status", check=False)
        assert as_alice.returncode == 0 and "server-b" in as_alice.stdout, as_alice.stderr
        as_mallory = b.run("setpriv", "--reuid=mallory", "--regid=mallory", "--init-groups", "riftgate", "status", check=False)
        assert as_mallory.returncode != 0 and "permission denied" in as_mallory.stderr, as_mallory

        # coturn accepted the hub's TURN credentials: the agents allocated relays with them (coturn opens a relay
        # port, 49152-65535, only for an authenticated allocation).
        def relay_ports():
            sockets = hub.run("ss", "-Hunap").stdout.splitlines()
            return [line for line in sockets
                    if f"pid={turn_pid}," in line and int(line.split()[3].rsplit(":", 1)[1]) >= 49152]
        wait_for(relay_ports, 15, what="coturn relay allocations by the agents")
        # Their receive buffers were raised (provision-hub.sh: coturn 4.6.1 sets a fixed 64 KiB, rb131072 in ss, where
        # bulk traffic towards the relay's owner enters; docs/self-hosting.md, "TURN").
        entries = re.split(r"\n(?=\S)", hub.run("ss", "-Huanpm").stdout)
        relay_buffers = [int(re.search(r"\brb(\d+)", entry).group(1)) for entry in entries
                         if f"pid={turn_pid}," in entry and int(entry.split()[3].rsplit(":", 1)[1]) >= 49152]
        assert relay_buffers and min(relay_buffers) >= 2 * 1024 * 1024, relay_buffers

        # --- Day two (guide): peers, backups, upgrades, revocation. ---
        peers = hub.run("riftgate-hub", "peer", "list", "home").stdout
        assert "server-b" in peers and b_self["public_key"] in peers
        # The admin commands ran as root on the running hub's database: none of its files may now belong to root.
        not_owned = hub.run("find", "/var/lib/riftgate-hub", "-not", "-user", "riftgate-hub").stdout.split()
        assert not_owned == [], f"files not owned by riftgate-hub: {not_owned}"

        hub.run("install", "-d", "-m", "0700", "/var/backups/riftgate-hub")
        hub.run("sqlite3", "/var/lib/riftgate-hub/hub.db", ".backup /var/backups/riftgate-hub/hub.db")
        assert hub.run("sqlite3", "/var/backups/riftgate-hub/hub.db", "PRAGMA integrity_check").stdout.strip() == "ok"
        backup = hub.run("riftgate-hub", "peer", "list", "home", "--database", "/var/backups/riftgate-hub/hub.db").stdout
        assert b_self["public_key"] in backup

        # Upgrade: provisioning again restarts the hub; tunnels do not pass through it and stay up meanwhile.
        pinger = subprocess.Popen(a.command("ping", "-c", "40", "-i", "0.2", "-W", "1", b_self["ipv4"]),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        again = hub.run(*provision, timeout=120)
        assert again.stdout.strip() == "", "provisioning again creates no new token"
        output, _ = pinger.communicate(timeout=30)
        received = int(re.search(r"(\d+) received", output).group(1))
        assert received >= 39, f"pings lost while the hub restarted:\n{output}"
        assert hub.processes("riftgate-hub") != [hub_pid], "the hub was restarted"
        wait_for(lambda: status_json(b)["hub"]["state"] == "connected", 60, what="B to reconnect to the restarted hub")
        assert ping(a, b_self["ipv4"])

        # Revoking B's key closes its session; A drops B's WireGuard peer and the tunnel is gone.
        hub.run("riftgate-hub", "peer", "revoke", "home", b_self["public_key"])
        wait_for(lambda: b_self["public_key"] not in a.run("wg", "show", if_a, "peers").stdout, 30,
                 what="A to remove B's WireGuard peer after the revocation")
        assert not ping(a, b_self["ipv4"])
    except Exception:
        dump_logs(workdir, machines)
        raise

    # --- Stopping (what `systemctl stop` does): interfaces and runtime directories go. ---
    a.run("riftgate", "down")
    # B was revoked: its agent exits by itself on the refusal (peer_revoked is permanent), possibly already gone.
    b.shell("kill -TERM $(cat /run/riftgate-agent.pid) 2>/dev/null || true")
    wait_gone(agent_b_pid, timeout=20)
    assert not os.path.exists(f"/proc/{agent_b_pid}")
    wait_for(lambda: not b.exists("/run/riftgate") and not b.exists("/run/wireguard"), 10,
             what="B's RuntimeDirectory= directories to be removed")
    for machine, interface in ((a, if_a), (b, if_b)):
        wait_for(lambda: machine.run("ip", "link", "show", interface, check=False).returncode != 0, 15,
                 what=f"{interface} to be removed")
    hub.shell("kill -TERM $(cat /run/riftgate-hub.pid) $(cat /run/riftgate-coturn.pid)")
    for pid in hub.processes("riftgate-hub") + hub.processes("turnserver"):
        wait_gone(pid, timeout=20)
    assert hub.processes("riftgate-hub") == [] and hub.processes("turnserver") == []


def test_behind_the_nginx_example_agents_connect_through_the_proxy(lab, workdir, machines):
    hub, a, b = machines["hub"], machines["a"], machines["b"]
    if not hub.exists("/usr/sbin/nginx"):
        pytest.skip("nginx is not installed (deploy/install-deps.sh installs nginx-light)")
    certificates = make_certificates(workdir)

    # Guide, "TLS through a reverse proxy": the hub serves ws:// on 8443, nginx terminates TLS on 443.
    token = hub.run(os.path.join(DEPLOY, "provision-hub.sh"), "--from", bin_dir(), "--domain", DOMAIN, "--no-tls",
                    "--no-systemd", "--no-packages", timeout=120).stdout.strip()
    assert TOKEN.fullmatch(token)
    hub.run("install", "-D", "-m", "0644", certificates["hub.pem"], f"/etc/letsencrypt/live/{DOMAIN}/fullchain.pem")
    hub.run("install", "-D", "-m", "0600", certificates["hub.key"], f"/etc/letsencrypt/live/{DOMAIN}/privkey.pem")
    site = open(os.path.join(DEPLOY, "nginx", "riftgate-hub.conf")).read().replace("hub.example.org", DOMAIN)
    hub.run("sh", "-c", "cat > /etc/nginx/sites-available/riftgate-hub", input=site)
    hub.run("rm", "-f", "/etc/nginx/sites-enabled/default")
    hub.run("ln", "-s", "../sites-available/riftgate-hub", "/etc/nginx/sites-enabled/riftgate-hub")
    hub.run("nginx", "-t")
    hub.run("nginx")  # daemonizes; /run/nginx.pid is in the machine's own /run
    try:
        for machine in (a, b):
            trust_hub(machine, certificates["ca.pem"])
        second = TOKEN.search(hub.run("riftgate-hub", "token", "create", "home", "--label", "b").stdout).group(0)
        quick_start(a, token, f"{lab.prefix}a", "laptop-a", os.path.join(workdir, "agent-a.log"))
        quick_start(b, second, f"{lab.prefix}b", "laptop-b", os.path.join(workdir, "agent-b.log"))
        a_self, b_self = joined(a), joined(b)
        assert status_json(a)["hub"]["state"] == "connected"
        # Signaling crossed the proxy both ways: the agents negotiated a path and the tunnel carries pings.
        wait_for(lambda: ping(a, b_self["ipv4"]), timeout=40, what="A to ping B (signaling through nginx)")
        assert ping(b, a_self["ipv4"])
        # nginx logs a WebSocket session when it ends: both upgrades (101) passed through it.
        for machine in (a, b):
            machine.run("riftgate", "down")
        wait_for(lambda: len(re.findall(r'"GET /v1/networks/home HTTP/1.1" 101 ', hub.read("/var/log/nginx/access.log"))) == 2,
                 10, what="nginx to log both agents' WebSocket sessions")
    except Exception:
        dump_logs(workdir, machines)
        raise
    finally:
        hub.run("nginx", "-s", "quit", check=False)
