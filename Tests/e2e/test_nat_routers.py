"""The lab's NAT routers behave like the routers users have (see Tests/lab/nat.py for what is modelled), checked with
plain UDP sockets and no riftgate at all, so a NAT row in test_nat_traversal.py cannot pass only because the lab is
kinder than the real world.

An "outsider" host on the internet segment, with a route to the LAN through the router as an ISP neighbour could
have, sends unsolicited datagrams to the router's public address and to a LAN host; then the LAN host opens flows
to two outside ports, and the outsider tells which public port each flow came from.
"""
import os
import shutil
import time

import pytest
from probe import UdpEndpoint
from topologies import CARRIER_PUBLIC, HUB_ADDRESS6, carrier_nat, hard_nats, home_nats, home_nats_dual_stack

OUTSIDER = "203.0.113.30"
INSIDE_PORT = 40000     # the LAN host's port, which an endpoint-independent router keeps as the public port
OUTSIDE_PORTS = (41000, 42000, 43000)
QUIET = 1.0             # seconds a dropped datagram gets to show up anyway


@pytest.fixture
def conntrack_available():
    if shutil.which("conntrack") is None:
        pytest.skip("conntrack (Debian package conntrack) is needed to read a router's connection table")


def outsider(lab, topology, route_via: str | None = None):
    host = lab.add_host("x")
    lab.plug(host, topology.internet_switch, f"{OUTSIDER}/24")
    if route_via:
        host.exec("ip", "route", "add", "198.51.100.0/25", "via", route_via)
    return host


@pytest.mark.parametrize("kind", ["cone", "symmetric"])
def test_router_is_a_stateful_firewall_and_keeps_its_mapping(lab, workdir, conntrack_available, timing, kind):
    topology = (home_nats if kind == "cone" else hard_nats)(lab)
    router = topology.router_of("a")
    inside = topology.peers["a"]
    x = outsider(lab, topology, route_via=router.public)
    log = lambda name: os.path.join(workdir, f"{name}.log")  # noqa: E731
    on_router = UdpEndpoint(router.host, INSIDE_PORT, log("router"), address=router.public)
    on_inside = UdpEndpoint(inside, INSIDE_PORT, log("inside"))
    first, second, stranger = (UdpEndpoint(x, port, log(f"x{port}")) for port in OUTSIDE_PORTS)

    # Unsolicited: to the router's public port the inside host will use next (as a peer's early ICE check would be),
    # and straight at the LAN host. Neither arrives, and neither leaves a connection behind.
    first.send(router.public, INSIDE_PORT, "unsolicited-to-router")
    first.send(inside.address, INSIDE_PORT, "unsolicited-to-lan")
    time.sleep(QUIET)
    assert on_router.received() == [], "the router's input let an unsolicited datagram through"
    assert on_inside.received() == [], "the router forwarded an unsolicited datagram to the LAN"
    assert router.mappings("-s", OUTSIDER) == "", f"an unsolicited datagram left a connection:\n{router.mappings()}"

    # The inside host's next flows: the very reverse of the unsolicited one, then a second destination.
    on_inside.send(OUTSIDER, OUTSIDE_PORTS[0], "out-1")
    source_1 = first.wait_for("out-1")
    on_inside.send(OUTSIDER, OUTSIDE_PORTS[1], "out-2")
    source_2 = second.wait_for("out-2")
    timing(f"{kind} router: LAN port {INSIDE_PORT} seen outside as {source_1[1]} and {source_2[1]}")
    assert source_1[0] == source_2[0] == router.public
    assert router.mappings("-d", OUTSIDER) != "", "conntrack shows no mapping at all: the checks above prove nothing"
    if kind == "cone":
        # Endpoint-independent and port-preserving: the unsolicited datagram did not steal the port.
        assert source_1[1] == source_2[1] == INSIDE_PORT, f"mapping changed: {source_1}, {source_2}"
    else:
        assert source_1[1] != source_2[1], f"a symmetric NAT reused its port for a new destination: {source_1[1]}"

    # Filtering is address-and-port-dependent: an answer from the contacted port passes, a stranger's does not.
    first.send(router.public, source_1[1], "answer")
    assert on_inside.wait_for("answer") == (OUTSIDER, OUTSIDE_PORTS[0])
    stranger.send(router.public, source_1[1], "stranger")
    time.sleep(QUIET)
    assert on_inside.sources_of("stranger") == [], "a cone router let in a datagram from a port never contacted"
    assert on_router.received() == []


def test_carrier_nat_does_not_hairpin(lab, workdir, timing):
    topology = carrier_nat(lab)
    x = outsider(lab, topology)
    log = lambda name: os.path.join(workdir, f"{name}.log")  # noqa: E731
    a = UdpEndpoint(topology.peers["a"], INSIDE_PORT, log("a"))
    b = UdpEndpoint(topology.peers["b"], INSIDE_PORT + 1, log("b"))
    seen = UdpEndpoint(x, OUTSIDE_PORTS[0], log("x"))
    b.send(OUTSIDER, OUTSIDE_PORTS[0], "from-b")
    public = seen.wait_for("from-b")
    assert public[0] == CARRIER_PUBLIC, f"b's flow left with {public}, not the carrier's address"
    timing(f"carrier NAT: b's flow leaves as {public[0]}:{public[1]}")
    # a, behind the same carrier NAT, sends to b's public mapping: the carrier does not loop it back.
    a.send(public[0], public[1], "hairpin")
    # The outsider the mapping was made for reaches b through it: the drop above is the hairpin's, not the mapping's.
    seen.send(public[0], public[1], "answer")
    assert b.wait_for("answer") == (OUTSIDER, OUTSIDE_PORTS[0])
    time.sleep(QUIET)
    assert b.sources_of("hairpin") == [], "the carrier NAT hairpinned a's datagram to b"


def test_ipv6_is_routed_behind_a_stateful_firewall(lab, workdir, timing):
    """Dual stack: the LAN's global IPv6 address is seen as it is (no NAT66), and the router lets in only what answers
    a flow from inside, from exactly the contacted address and port (RFC 6092's default)."""
    topology = home_nats_dual_stack(lab)
    inside, outside = topology.peers["a"], topology.hub
    inside_address = inside.exec("ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "global").stdout.split()[3]
    inside_address = inside_address.split("/")[0]
    log = lambda name: os.path.join(workdir, f"{name}.log")  # noqa: E731
    on_inside = UdpEndpoint(inside, INSIDE_PORT, log("inside6"), address="::")
    first, stranger = (UdpEndpoint(outside, port, log(f"hub{port}"), address="::") for port in OUTSIDE_PORTS[:2])

    first.send(inside_address, INSIDE_PORT, "unsolicited")
    time.sleep(QUIET)
    assert on_inside.received() == [], "the router let an unsolicited IPv6 datagram into the LAN"

    on_inside.send(HUB_ADDRESS6, OUTSIDE_PORTS[0], "out")
    source = first.wait_for("out")
    timing(f"IPv6 flow from {inside_address}:{INSIDE_PORT} seen outside as {source[0]}:{source[1]}")
    assert source == (inside_address, INSIDE_PORT), f"the router rewrote an IPv6 flow: {source}"
    first.send(inside_address, INSIDE_PORT, "answer")
    assert on_inside.wait_for("answer") == (HUB_ADDRESS6, OUTSIDE_PORTS[0])
    stranger.send(inside_address, INSIDE_PORT, "stranger")
    time.sleep(QUIET)
    assert on_inside.sources_of("stranger") == [], "the router let in an IPv6 datagram from a port never contacted"
