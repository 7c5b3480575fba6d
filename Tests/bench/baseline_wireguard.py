"""The baseline: a hand-configured wireguard-go pair between two lab hosts, set up with `wg` and `ip` only.

It runs next to riftgate's tunnel in the same namespaces and over the same underlay, with the same MTU as the agent's
interface (1380) and the same wireguard-go binary and log level, so that a ratio against it measures what riftgate adds
(or costs) and nothing else. Inner addresses come from the benchmark range 198.18.0.0/15.
"""
from __future__ import annotations

import os
import time

from lab import Host, run, wait_for

AGENT_MTU = 1380
LISTEN_PORTS = (51900, 51901)
INNER = ("198.19.0.1", "198.19.0.2")


def generate_key_pair(workdir: str, name: str) -> tuple[str, str]:
    """(private key file, public key text) from `wg genkey` / `wg pubkey`; the file is mode 0600."""
    private = run("wg", "genkey").stdout.strip()
    public = run("wg", "pubkey", input=private + "\n").stdout.strip()
    path = os.path.join(workdir, f"{name}.key")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(private + "\n")
    return path, public


class WireGuardPair:
    """wireguard-go on `left` and `right`, peers of each other.

    `right_endpoint` is where left sends to reach right (host:port), and `left_endpoint` the reverse; None leaves the
    endpoint unset, so that side learns it from the other's first handshake (behind a NAT). The side with an endpoint
    keeps its NAT mapping alive with a persistent keepalive.
    """

    def __init__(self, left: Host, right: Host, right_endpoint: str | None, left_endpoint: str | None,
                 interface_prefix: str, workdir: str):
        self.hosts = (left, right)
        self.interfaces = (f"{interface_prefix}wl"[:15], f"{interface_prefix}wr"[:15])
        self.endpoints = (right_endpoint, left_endpoint)  # what each side dials
        self.workdir = workdir

    @property
    def right_inner(self) -> str:
        return INNER[1]

    @property
    def left_inner(self) -> str:
        return INNER[0]

    def start(self, inner_udp_port: int) -> None:
        """Brings the pair up. Inside the baseline tunnel only TCP, ICMP and UDP to or from `inner_udp_port` (iperf3)
        pass: otherwise riftgate's agents, which offer every local address as an ICE host candidate, find a host pair
        through this tunnel and move their own tunnel inside it, and the benchmark would measure one tunnel in the
        other."""
        keys = [generate_key_pair(self.workdir, f"baseline-{side}") for side in ("left", "right")]
        for index, host in enumerate(self.hosts):
            interface = self.interfaces[index]
            host.spawn("wireguard-go", "-f", interface, log=os.path.join(self.workdir, f"baseline-{interface}.log"),
                       env={"LOG_LEVEL": "error"})
        for index, host in enumerate(self.hosts):
            interface = self.interfaces[index]
            wait_for(lambda: os.path.exists(f"/var/run/wireguard/{interface}.sock"), timeout=10,
                     what=f"wireguard-go's socket for {interface}")
        for index, host in enumerate(self.hosts):
            other = 1 - index
            interface = self.interfaces[index]
            endpoint = self.endpoints[index]
            dial = ["endpoint", endpoint, "persistent-keepalive", "25"] if endpoint else []
            host.exec("wg", "set", interface, "private-key", keys[index][0], "listen-port", str(LISTEN_PORTS[index]),
                      "peer", keys[other][1], *dial, "allowed-ips", f"{INNER[other]}/32")
            host.exec("ip", "address", "add", f"{INNER[index]}/24", "dev", interface)
            host.exec("ip", "link", "set", interface, "mtu", str(AGENT_MTU), "up")
            host.nft(f"""
table inet rgbaseline {{
    chain input {{
        type filter hook input priority filter; policy accept;
        iifname "{interface}" udp dport {inner_udp_port} accept
        iifname "{interface}" udp sport {inner_udp_port} accept
        iifname "{interface}" meta l4proto udp drop
    }}
    chain output {{
        type filter hook output priority filter; policy accept;
        oifname "{interface}" udp dport {inner_udp_port} accept
        oifname "{interface}" udp sport {inner_udp_port} accept
        oifname "{interface}" meta l4proto udp drop
    }}
}}
""")
        wait_for(lambda: self.hosts[0].ping(INNER[1]), timeout=20, what="the baseline WireGuard pair to ping")

    def stop(self) -> None:
        """Deletes both interfaces; wireguard-go then exits by itself (the lab kills it otherwise)."""
        for host, interface in zip(self.hosts, self.interfaces):
            host.exec("ip", "link", "del", interface, check=False)
        time.sleep(0.2)
