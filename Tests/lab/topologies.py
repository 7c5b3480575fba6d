"""The lab's NAT topologies: home NATs, hard (symmetric) NATs and a mixed network, each built inside a `lab.Lab`.

Every topology has an "internet" segment, 203.0.113.0/24 on the bridge `net`, holding the hub (.1, which answers
STUN on UDP 3478), a coturn TURN server (.3) and a "core" (.254) that silently drops whatever public hosts send to
private addresses. Peers sit either on the internet segment (.20, .21, ...) or on a
private LAN behind their own NAT router: LAN 1 is 198.51.100.0/25 behind router r1 (203.0.113.11), LAN 2 is
198.51.100.128/25 behind router r2 (203.0.113.12). Private hosts only get a route to 203.0.113.0/24 through their
router, so nothing can leave the lab, and the two LANs cannot reach each other except through the NATs.

The LAN topology (hub and peers on one bridge, 192.0.2.0/24, no NAT and no relay) is `lan_topology`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lab import Host, Lab, lan
from nat import NatRouter

INTERNET = "203.0.113.0/24"
HUB_ADDRESS = "203.0.113.1"
TURN_ADDRESS = "203.0.113.3"
CORE_ADDRESS = "203.0.113.254"  # "the internet's core": drops whatever is sent to private addresses
PRIVATE_SPACE = "198.51.100.0/24"
PRIVATE_LANS = (
    # (router role, router public address, LAN prefix length, router LAN address, first host)
    ("r1", "203.0.113.11", 25, "198.51.100.1", 10),
    ("r2", "203.0.113.12", 25, "198.51.100.129", 138),
)


@dataclass
class Topology:
    """What a topology function built: the hub and relay hosts, each peer's host, and the NAT router in front of it."""
    name: str
    hub: Host
    relay: Host | None
    peers: dict[str, Host] = field(default_factory=dict)
    routers: dict[str, NatRouter] = field(default_factory=dict)  # peer role -> its NAT router (absent: public)

    def router_of(self, role: str) -> NatRouter:
        return self.routers[role]


def lan_topology(lab: Lab, peers: tuple[str, ...] = ("a", "b")) -> Topology:
    """The hub and `peers` on one bridge (see `lab.lan`): every pair is host-to-host."""
    hosts = lan(lab, peers)
    return Topology("lan", hosts["hub"], None, {role: hosts[role] for role in peers})


def internet(lab: Lab, name: str) -> tuple[Topology, Host]:
    """The internet segment with the hub and the TURN server; returns the topology so far and the segment's switch."""
    switch = lab.bridge("net")
    hub = lab.add_host("hub")
    lab.plug(hub, switch, f"{HUB_ADDRESS}/24")
    relay = lab.add_host("turn")
    lab.plug(relay, switch, f"{TURN_ADDRESS}/24")
    core = lab.add_host("core")
    lab.plug(core, switch, f"{CORE_ADDRESS}/24")
    core.nft(f"""
table ip core {{
    chain prerouting {{
        type filter hook prerouting priority raw; policy accept;
        ip daddr {PRIVATE_SPACE} drop
    }}
}}
""")
    topology = Topology(name, hub, relay)
    for host in (hub, relay):
        route_private_space_to_core(host)
    return topology, switch


def route_private_space_to_core(host: Host) -> None:
    """Sends packets for private LAN addresses to the core, which drops them silently, as the internet does.

    With no route at all the kernel would fail such sends at once (ENETUNREACH), which no real server sees; coturn,
    for one, then resets the client's nonce and refuses its next permissions, so relays would fail only in the lab.
    """
    host.exec("ip", "route", "add", PRIVATE_SPACE, "via", CORE_ADDRESS)


def private_lan(lab: Lab, topology: Topology, internet_switch: Host, index: int, roles: tuple[str, ...],
                symmetric: bool) -> NatRouter:
    """LAN `index` (0 or 1) with `roles` on it, behind a NAT router on the internet segment."""
    router_role, public, length, gateway, first = PRIVATE_LANS[index]
    lan_switch = lab.bridge(f"lan{index + 1}")
    router_host = lab.add_host(router_role)
    lab.plug(router_host, internet_switch, f"{public}/24", device="wan0")
    lab.plug(router_host, lan_switch, f"{gateway}/{length}", device="lan0")
    router = NatRouter(router_host, public=public, symmetric=symmetric)
    router.install()
    for offset, role in enumerate(roles):
        host = lab.add_host(role)
        lab.plug(host, lan_switch, f"198.51.100.{first + offset}/{length}")
        # Only the internet segment is reachable, through the router: no default route, no other LAN.
        host.exec("ip", "route", "add", INTERNET, "via", gateway)
        topology.peers[role] = host
        topology.routers[role] = router
    return router


def public_hosts(lab: Lab, topology: Topology, internet_switch: Host, roles: tuple[str, ...]) -> None:
    """Peers with a public address on the internet segment (203.0.113.20, .21, ...)."""
    for offset, role in enumerate(roles):
        host = lab.add_host(role)
        lab.plug(host, internet_switch, f"203.0.113.{20 + offset}/24")
        route_private_space_to_core(host)
        topology.peers[role] = host


def home_nats(lab: Lab, left: tuple[str, ...] = ("a",), right: tuple[str, ...] = ("b",)) -> Topology:
    """Two private LANs (`left` behind r1, `right` behind r2), each behind an endpoint-independent NAT."""
    topology, switch = internet(lab, "home-nats")
    private_lan(lab, topology, switch, 0, left, symmetric=False)
    private_lan(lab, topology, switch, 1, right, symmetric=False)
    return topology


def hard_nats(lab: Lab, left: tuple[str, ...] = ("a",), right: tuple[str, ...] = ("b",)) -> Topology:
    """Like `home_nats`, but both routers pick a random port for every new destination: only TURN connects."""
    topology, switch = internet(lab, "hard-nats")
    private_lan(lab, topology, switch, 0, left, symmetric=True)
    private_lan(lab, topology, switch, 1, right, symmetric=True)
    return topology


def mixed(lab: Lab, public: tuple[str, ...] = ("a",), private: tuple[str, ...] = ("b",)) -> Topology:
    """`public` peers directly on the internet segment, `private` peers behind an endpoint-independent NAT (r2)."""
    topology, switch = internet(lab, "mixed")
    public_hosts(lab, topology, switch, public)
    private_lan(lab, topology, switch, 1, private, symmetric=False)
    return topology
