"""The mesh the tunnel and connect-time benchmarks measure: the lab's topologies with riftgate deployed on them.

Built from the lab's own pieces (`Tests/lab/topologies.py`, `deployment.py`): the hub (answering STUN), coturn where
the topology has a relay, and agents A and B.
- `lan`: one bridge; ICE picks the host pair, so WireGuard sends straight to the peer (riftgate's direct path).
- `home-nats`: A and B behind two endpoint-independent NATs; a server-reflexive pair, handed over to WireGuard (no
  hop through the agents; docs/architecture.md "Port hand-over").
- `hard-nats`: A and B behind two symmetric NATs; only the TURN relay connects, forwarded by the agents and relayed by
  coturn.
- `symmetric-and-cone`: A behind a symmetric NAT, B behind an endpoint-independent, port-restricted one; only the relay
  connects (not part of the default set: `--topologies symmetric-and-cone`).

`baseline()` adds the hand-configured wireguard-go pair over the same underlay: directly on the LAN; across the NATs
through a static port forward on B's router (the only way a plain WireGuard pair crosses a symmetric NAT, and the
way people set one up at home), so its packets traverse both NAT routers like riftgate's.
"""
from __future__ import annotations

from baseline_wireguard import LISTEN_PORTS, WireGuardPair
from deployment import Deployment
from lab import Lab
from topologies import hard_nats, home_nats, lan_topology, symmetric_and_cone

TOPOLOGIES = {"lan": lan_topology, "home-nats": home_nats, "hard-nats": hard_nats,
              "symmetric-and-cone": symmetric_and_cone}


class BenchMesh:
    """Builds a topology, starts its hub (and relay) and prepares agents A and B; `close()` tears it all down."""

    def __init__(self, name: str, workdir: str, coturn_socket_buffer: int = 0):
        if name not in TOPOLOGIES:
            raise ValueError(f"unknown topology {name!r}; known: {', '.join(TOPOLOGIES)}")
        self.name = name
        self.workdir = workdir
        self.lab = Lab()
        try:
            self.topology = TOPOLOGIES[name](self.lab)
            self.deployment = Deployment(self.topology, workdir, coturn_socket_buffer=coturn_socket_buffer)
            self.deployment.start_hub()
            self.a, self.b = self.deployment.agent("a"), self.deployment.agent("b")
            self.hosts = {"a": self.topology.peers["a"], "b": self.topology.peers["b"]}
        except BaseException:
            self.lab.close()
            raise

    def start_agents(self) -> None:
        self.a.start()
        self.b.start()

    def overlay(self) -> tuple[str, str]:
        return self.a.overlay_ipv4(), self.b.overlay_ipv4()

    def path_of_b_at_a(self) -> dict:
        """A's status entry for B (state, path_type, path_mode, candidates), or {} when A does not list B."""
        return self.a.peer(self.b.status()["public_key"]) or {}

    def path_of_a_at_b(self) -> dict:
        """B's status entry for A: on a relayed pair each side may take another data path (one forwards, one hands
        over), so the report shows both."""
        return self.b.peer(self.a.status()["public_key"]) or {}

    def underlay_target(self) -> tuple[str, str]:
        """(address, what it is) for the raw underlay RTT: B itself on the LAN. Behind NATs B has no reachable
        address and the routers ignore pings, so the hub on the internet segment stands in (through A's NAT)."""
        if "b" not in self.topology.routers:
            return self.hosts["b"].address, "B"
        return self.topology.hub.address, "the hub, through A's NAT (B is unreachable without a tunnel)"

    def baseline(self, inner_udp_port: int) -> WireGuardPair:
        """Starts the hand-configured wireguard-go pair between A and B and returns it; inside it only TCP, ICMP and
        UDP on `inner_udp_port` pass (see `WireGuardPair.start`)."""
        a, b = self.hosts["a"], self.hosts["b"]
        if "b" not in self.topology.routers:
            pair = WireGuardPair(a, b, f"{b.address}:{LISTEN_PORTS[1]}", f"{a.address}:{LISTEN_PORTS[0]}",
                                 self.lab.prefix, self.workdir)
        else:
            router = self.topology.router_of("b")
            self._forward_port(router, b.address, LISTEN_PORTS[1])
            # B learns A's (NAT-mapped) endpoint from A's first handshake, as WireGuard roaming does.
            pair = WireGuardPair(a, b, f"{router.public}:{LISTEN_PORTS[1]}", None, self.lab.prefix, self.workdir)
        pair.start(inner_udp_port)
        return pair

    @staticmethod
    def _forward_port(router, address: str, port: int) -> None:
        """A static UDP port forward on the router. Its forward chain drops new inbound flows (policy drop, jumping
        to the lab's `cut` chain first), so DNATed flows are accepted there; `nat.NatRouter.cut` would flush it."""
        router.host.nft(f"""
table ip rgbench {{
    chain prerouting {{
        type nat hook prerouting priority dstnat; policy accept;
        iifname "wan0" udp dport {port} dnat to {address}:{port}
    }}
}}
add rule ip riftlab cut ct status dnat accept
""")

    def close(self) -> None:
        self.lab.close()
