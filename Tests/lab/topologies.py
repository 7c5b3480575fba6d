"""The lab's NAT topologies, each built inside a `lab.Lab`: home NATs, hard (symmetric) NATs, a mixed network, a
public peer against a symmetric NAT, one symmetric and one cone NAT, a double NAT, two homes behind one carrier-grade NAT, a LAN that lets only UDP to the
TURN server out, and hard NATs whose TURN server has no route to private space. See Tests/lab/README.md for sketches.

Every topology has an "internet" segment, 203.0.113.0/24 on the bridge `net`, holding the hub (.1, which answers
STUN on UDP 3478), a coturn TURN server (.3) and a "core" (.254) that silently drops whatever public hosts send to
private addresses. Peers sit either on the internet segment (.20, .21, ...) or on a
private LAN behind their own NAT router: LAN 1 is 198.51.100.0/25 behind router r1 (203.0.113.11), LAN 2 is
198.51.100.128/25 behind router r2 (203.0.113.12). Private hosts only get a route to 203.0.113.0/24 through their
router, so nothing can leave the lab, and the two LANs cannot reach each other except through the NATs.

Nested NATs (`double_nat`, `carrier_nat`) put r1 (and r2) on a carrier segment, 192.0.2.0/24 (carrier router
"isp" .1, r1 .11, r2 .12), behind the carrier's router at 203.0.113.13. Real carrier-grade NATs use 100.64.0.0/10
(RFC 6598), but that is also riftgate's default overlay range: an agent routes the overlay's /10 into its tunnel,
so carrier-segment addresses there would be swallowed by that route (and could equal a peer's overlay address). The
lab keeps to documentation ranges, so 192.0.2.0/24 stands in for the carrier's inside range.

The LAN topology (hub and peers on one bridge, 192.0.2.0/24, no NAT and no relay) is `lan_topology`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lab import Host, Lab, lan, wait_for
from nat import NatRouter

INTERNET = "203.0.113.0/24"
HUB_ADDRESS = "203.0.113.1"
TURN_ADDRESS = "203.0.113.3"
CORE_ADDRESS = "203.0.113.254"  # "the internet's core": drops whatever is sent to private addresses
PRIVATE_SPACE = "198.51.100.0/24"
CARRIER_PUBLIC = "203.0.113.13"
CARRIER_INSIDE = "192.0.2.0/24"  # not 100.64.0.0/10: see the module docstring
CARRIER_GATEWAY = "192.0.2.1"
PRIVATE_LANS = (
    # (router role, router public address, LAN prefix length, router LAN address, first host, carrier-side address)
    ("r1", "203.0.113.11", 25, "198.51.100.1", 10, "192.0.2.11"),
    ("r2", "203.0.113.12", 25, "198.51.100.129", 138, "192.0.2.12"),
)
# IPv6 (dual-stack topologies): the internet segment's /64, and each LAN's own global /64, routed to its router. There
# is no NAT66: a home router with IPv6 routes the LAN's prefix and keeps a stateful firewall in front of it (RFC 6092).
INTERNET6 = "2001:db8:ffff::/64"
HUB_ADDRESS6 = "2001:db8:ffff::1"
TURN_ADDRESS6 = "2001:db8:ffff::3"
LAN_PREFIXES6 = ("2001:db8:1::", "2001:db8:2::")  # LAN 1, LAN 2 (/64 each; router ::1, hosts ::10, ::11, ...)
ROUTER_ADDRESSES6 = ("2001:db8:ffff::11", "2001:db8:ffff::12")
HUB_ONLY_AND_TURN_UDP = (  # egress of a LAN that lets out only signaling (TCP to the hub) and UDP to TURN
    f"ip daddr {HUB_ADDRESS} meta l4proto tcp",
    f"ip daddr {TURN_ADDRESS} udp dport 3478",
)
HUB_AND_TURN_TCP_ONLY = (  # egress of a LAN that lets out no UDP at all: TCP to the hub and to the TURN server's port
    f"ip daddr {HUB_ADDRESS} meta l4proto tcp",
    f"ip daddr {TURN_ADDRESS} tcp dport 3478",
)


@dataclass
class Topology:
    """What a topology function built: the hub and relay hosts, each peer's host, and the NAT router in front of it."""
    name: str
    hub: Host
    relay: Host | None
    peers: dict[str, Host] = field(default_factory=dict)
    routers: dict[str, NatRouter] = field(default_factory=dict)  # peer role -> its NAT router (absent: public)
    internet_switch: Host | None = None  # the bridge of the internet segment (None in the LAN topology)
    carrier: NatRouter | None = None  # the router in front of r1 (and r2) in nested topologies
    ipv6: bool = False  # dual-stack: every host also has a global IPv6 address (see `dual_stack`)

    def router_of(self, role: str) -> NatRouter:
        return self.routers[role]

    def added_round_trip(self, source: str, target: str) -> float:
        """Seconds the routers' `delay` adds to a round trip between two peers (0 unless a test slowed a router)."""
        routers = {id(router): router for role in (source, target) if (router := self.routers.get(role))}
        return sum(2 * router.added_delay_ms for router in routers.values()) / 1000


def lan_topology(lab: Lab, peers: tuple[str, ...] = ("a", "b")) -> Topology:
    """The hub and `peers` on one bridge (see `lab.lan`): every pair is host-to-host."""
    hosts = lan(lab, peers)
    return Topology("lan", hosts["hub"], None, {role: hosts[role] for role in peers})


def internet(lab: Lab, name: str, turn_routes_private_space: bool = True) -> tuple[Topology, Host]:
    """The internet segment with the hub and the TURN server; returns the topology so far and the segment's switch.

    With `turn_routes_private_space` false the TURN host gets no route to private addresses at all: coturn's sends
    to a peer's LAN address then fail at once (ENETUNREACH), as on a TURN host without a default route.
    """
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
    topology = Topology(name, hub, relay, internet_switch=switch)
    route_private_space_to_core(hub)
    if turn_routes_private_space:
        route_private_space_to_core(relay)
    return topology, switch


def route_private_space_to_core(host: Host) -> None:
    """Sends packets for private LAN addresses to the core, which drops them silently, as the internet does.

    With no route at all the kernel would fail such sends at once (ENETUNREACH), which no real server sees; coturn,
    for one, then resets the client's nonce and refuses its next permissions, so relays would fail only in the lab.
    """
    host.exec("ip", "route", "add", PRIVATE_SPACE, "via", CORE_ADDRESS)


def private_lan(lab: Lab, topology: Topology, internet_switch: Host, index: int, roles: tuple[str, ...],
                symmetric: bool, egress: tuple[str, ...] = (), carrier: Host | None = None) -> NatRouter:
    """LAN `index` (0 or 1) with `roles` on it, behind a NAT router on the internet segment (or, given `carrier`,
    the carrier segment's switch, on that segment behind the carrier's router)."""
    router_role, public, length, gateway, first, carrier_side = PRIVATE_LANS[index]
    lan_switch = lab.bridge(f"lan{index + 1}")
    router_host = lab.add_host(router_role)
    if carrier is None:
        lab.plug(router_host, internet_switch, f"{public}/24", device="wan0")
    else:
        public = carrier_side
        lab.plug(router_host, carrier, f"{carrier_side}/24", device="wan0")
        router_host.exec("ip", "route", "add", INTERNET, "via", CARRIER_GATEWAY)
    lab.plug(router_host, lan_switch, f"{gateway}/{length}", device="lan0")
    router = NatRouter(router_host, public=public, symmetric=symmetric, egress=egress)
    router.install()
    for offset, role in enumerate(roles):
        host = lab.add_host(role)
        lab.plug(host, lan_switch, f"198.51.100.{first + offset}/{length}")
        # Only the internet segment is reachable, through the router: no default route, no other LAN.
        host.exec("ip", "route", "add", INTERNET, "via", gateway)
        topology.peers[role] = host
        topology.routers[role] = router
    return router


def add_address6(host: Host, address: str, device: str = "eth0") -> None:
    """An IPv6 address without duplicate address detection (usable at once)."""
    host.exec("ip", "-6", "addr", "add", address, "dev", device, "nodad")


def dual_stack(topology: Topology, routers: tuple[str, ...] = ("r1", "r2")) -> Topology:
    """Gives a built topology (plain NATs on the internet segment, no carrier) IPv6 beside IPv4: the hub, the TURN
    host, public peers and each router's WAN side get addresses in 2001:db8:ffff::/64, each private LAN routes its own
    global /64 through its router (no NAT66), and the router's IPv6 firewall lets out everything and lets in only what
    answers it (`NatRouter.install`, `ipv6=True`). The hub and TURN addresses stay IPv4 (the agents reach them over
    IPv4, as most hubs on a small VM are reached), so IPv6 adds only host candidates, which hole punching can use
    through both firewalls."""
    lab = topology.hub.lab
    internet_hosts = [topology.hub, topology.relay] + [host for role, host in topology.peers.items()
                                                      if role not in topology.routers]
    add_address6(topology.hub, f"{HUB_ADDRESS6}/64")
    add_address6(topology.relay, f"{TURN_ADDRESS6}/64")
    for offset, host in enumerate(internet_hosts[2:]):
        add_address6(host, f"2001:db8:ffff::{20 + offset:x}/64")
    lans = {}
    for index, router_role in enumerate(routers):
        router = lab.hosts[router_role]
        prefix, wan = LAN_PREFIXES6[index], ROUTER_ADDRESSES6[index]
        add_address6(router, f"{wan}/64", device="wan0")
        add_address6(router, f"{prefix}1/64", device="lan0")
        lans[router_role] = (prefix, wan)
    for router_role, (prefix, wan) in lans.items():
        for other_role, (other_prefix, other_wan) in lans.items():
            if other_role != router_role:
                lab.hosts[router_role].exec("ip", "-6", "route", "add", f"{other_prefix}/64", "via", other_wan)
        for host in internet_hosts:
            host.exec("ip", "-6", "route", "add", f"{prefix}/64", "via", wan)
    for router_role in lans:
        hosts = [(role, host) for role, host in topology.peers.items() if topology.routers.get(role) is not None
                 and topology.routers[role].host.name == router_role]
        prefix = lans[router_role][0]
        for offset, (_, host) in enumerate(hosts):
            add_address6(host, f"{prefix}{0x10 + offset:x}/64")
            host.exec("ip", "-6", "route", "add", "2001:db8::/32", "via", f"{prefix}1")
        router = next(r for r in topology.routers.values() if r.host.name == router_role)
        router.ipv6 = True
        router.install()
    # Settle neighbour discovery before anything is measured: in this lab the first packet to a neighbour not yet
    # resolved is often lost (its retry comes a second later), which made the first ICE checks between the two routers
    # race their discovery of each other (~1.5 s to connect instead of ~0.4 s) and could hide a firewall's drop behind
    # a lost packet. Real routers have long resolved their upstream; here each router resolves the other and the hub,
    # and each LAN host its router.
    settle = [(lab.hosts[first], lans[second][1]) for first in lans for second in lans if first != second]
    settle += [(topology.hub, wan) for _, wan in lans.values()]
    settle += [(host, HUB_ADDRESS6) for host in internet_hosts[1:]]
    settle += [(host, f"{LAN_PREFIXES6[0 if topology.routers[role].host.name == routers[0] else 1]}1")
               for role, host in topology.peers.items() if role in topology.routers]
    settle += [(host, HUB_ADDRESS6) for role, host in topology.peers.items() if role in topology.routers]
    for host, target in settle:
        wait_for(lambda: host.ping(target), timeout=10, interval=0.1, what=f"{host.name} to reach {target} over IPv6")
    topology.ipv6 = True
    topology.name += "-dual-stack"
    return topology


def home_nats_dual_stack(lab: Lab) -> Topology:
    """`home_nats` with IPv6 as most home routers now give it: each LAN has a global /64 behind a stateful firewall."""
    return dual_stack(home_nats(lab))


def hard_nats_dual_stack(lab: Lab) -> Topology:
    """`hard_nats` with IPv6: no IPv4 pair but the relay works, yet the LANs' global IPv6 addresses can hole-punch."""
    return dual_stack(hard_nats(lab))


def carrier_segment(lab: Lab, topology: Topology, internet_switch: Host) -> Host:
    """A carrier's NAT (endpoint-independent, no hairpinning) at 203.0.113.13; returns its inside segment's switch,
    192.0.2.0/24, on which `private_lan(..., carrier=switch)` puts home routers."""
    inside = lab.bridge("carrier")
    router_host = lab.add_host("isp")
    lab.plug(router_host, internet_switch, f"{CARRIER_PUBLIC}/24", device="wan0")
    lab.plug(router_host, inside, f"{CARRIER_GATEWAY}/24", device="lan0")
    # The home LANs behind the carrier's customers are not routed here: customers' routers NAT them away.
    topology.carrier = NatRouter(router_host, public=CARRIER_PUBLIC)
    topology.carrier.install()
    return inside


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


def public_and_symmetric(lab: Lab) -> Topology:
    """Peer a directly on the internet segment, peer b behind a symmetric NAT (r2): b's checks reach a from a port
    its router picked for a alone, which a learns as a peer-reflexive candidate, so a direct pair works without
    TURN (a phone's hotspot or a carrier's symmetric NAT against a server with a public address)."""
    topology, switch = internet(lab, "public-and-symmetric")
    public_hosts(lab, topology, switch, ("a",))
    private_lan(lab, topology, switch, 1, ("b",), symmetric=True)
    return topology


def symmetric_and_cone(lab: Lab) -> Topology:
    """Peer a behind a symmetric NAT (r1), peer b behind an endpoint-independent one (r2).

    b's router only lets in what answers b's own outbound flows (port-restricted filtering), and a's checks to b come
    from a fresh port per destination, so no direct pair survives: only the relay connects.
    """
    topology, switch = internet(lab, "symmetric-and-cone")
    private_lan(lab, topology, switch, 0, ("a",), symmetric=True)
    private_lan(lab, topology, switch, 1, ("b",), symmetric=False)
    return topology


def double_nat(lab: Lab) -> Topology:
    """Peer a behind its home router r1, which sits behind the ISP's router (both endpoint-independent); peer b
    behind an ordinary home router r2. Hole punching works through both layers."""
    topology, switch = internet(lab, "double-nat")
    inside = carrier_segment(lab, topology, switch)
    private_lan(lab, topology, switch, 0, ("a",), symmetric=False, carrier=inside)
    private_lan(lab, topology, switch, 1, ("b",), symmetric=False)
    return topology


def carrier_nat(lab: Lab) -> Topology:
    """Peers a and b, each on its own home LAN behind its own router (r1, r2), both routers behind ONE carrier-grade
    NAT that does not hairpin. Both server-reflexive candidates carry the carrier's public address, which the other
    peer cannot reach from inside, and neither knows the other router's carrier-side address: only the relay
    connects."""
    topology, switch = internet(lab, "carrier-nat")
    inside = carrier_segment(lab, topology, switch)
    private_lan(lab, topology, switch, 0, ("a",), symmetric=False, carrier=inside)
    private_lan(lab, topology, switch, 1, ("b",), symmetric=False, carrier=inside)
    return topology


def turn_only(lab: Lab) -> Topology:
    """Peer a on a LAN whose router lets out only TCP to the hub (signaling) and UDP to the TURN server's port;
    peer b behind an ordinary home router. No STUN to the hub, no UDP to b: only the relay connects."""
    topology, switch = internet(lab, "turn-only")
    private_lan(lab, topology, switch, 0, ("a",), symmetric=False, egress=HUB_ONLY_AND_TURN_UDP)
    private_lan(lab, topology, switch, 1, ("b",), symmetric=False)
    return topology


def tcp_only(lab: Lab) -> Topology:
    """Peer a on a LAN whose router lets out no UDP at all, only TCP to the hub and to the TURN server's port (a hotel
    or corporate network); peer b behind an ordinary home router. Only a relay reached over TCP connects."""
    topology, switch = internet(lab, "tcp-only")
    private_lan(lab, topology, switch, 0, ("a",), symmetric=False, egress=HUB_AND_TURN_TCP_ONLY)
    private_lan(lab, topology, switch, 1, ("b",), symmetric=False)
    return topology


def hard_nats_unroutable_turn(lab: Lab) -> Topology:
    """`hard_nats`, and the TURN host has no route to private space: coturn fails to relay a check to a peer's LAN
    address (ENETUNREACH), which spoils mixed attempts, so only a relay-to-relay pair can work."""
    topology, switch = internet(lab, "hard-nats-unroutable-turn", turn_routes_private_space=False)
    private_lan(lab, topology, switch, 0, ("a",), symmetric=True)
    private_lan(lab, topology, switch, 1, ("b",), symmetric=True)
    return topology
