"""Agents over an IPv6 underlay on one LAN: IPv6 only (the hub reached at an IPv6 address, `ws://[…]:port`), and dual
stack. The routed case (global IPv6 behind home routers' stateful firewalls, beside IPv4 NAT) is in the NAT matrix,
test_nat_traversal.py's `*-dual-stack-*` rows.

Each test: both agents connect within CONNECT_BOUND, ping each other's overlay addresses both ways, report a direct
host pair, and pass full-size don't-fragment pings (the interface MTU leaves room for WireGuard over IPv6)."""
import time

from deployment import CONNECT_BOUND, Deployment
from lab import wait_for
from topologies import Topology, lan_topology

LAN6 = "2001:db8:1::"
ADDRESSES6 = {"hub": f"{LAN6}1", "a": f"{LAN6}a", "b": f"{LAN6}b"}


def ipv6_lan(lab, keep_ipv4: bool) -> Topology:
    """`lan_topology` with a global IPv6 address on every host (no duplicate address detection); without `keep_ipv4`
    the IPv4 addresses are removed and each host's lab address becomes its IPv6 one."""
    topology = lan_topology(lab)
    hosts = {"hub": topology.hub, **topology.peers}
    for role, address in ADDRESSES6.items():
        host = hosts[role]
        if not keep_ipv4:
            host.exec("ip", "-4", "addr", "flush", "dev", "eth0")
            host.address = address
        host.exec("ip", "-6", "addr", "add", f"{address}/64", "dev", "eth0", "nodad")
    # Neighbour discovery may drop the very first packet: wait until the hub answers from both peers.
    for role in ("a", "b"):
        wait_for(lambda: hosts[role].ping(ADDRESSES6["hub"]), timeout=5, what=f"{role} to reach the hub over IPv6")
    return topology


def connect_pair(workdir, topology, timing) -> tuple[dict, dict]:
    """Starts the hub and two agents (no TURN); returns each side's connected view of the other."""
    deployment = Deployment(topology, workdir, turn=False)
    started_b = deployment.start_pair()
    try:
        deployment.wait_for_ping("a", "b", timeout=30)
        connect = time.monotonic() - started_b
        timing(f"second agent start to first ping: {connect:.2f} s (bound {CONNECT_BOUND} s)")
        assert connect < CONNECT_BOUND
        views = {"a": deployment.peer_view("a", "b", timeout=15), "b": deployment.peer_view("b", "a", timeout=15)}
        for viewer, view in views.items():
            timing(f"{viewer}: {view.get('path_type')}/{view.get('path_mode')} local {view.get('local_candidate')} "
                   f"remote {view.get('remote_candidate')} endpoint {view.get('endpoint')}")
            assert view.get("path_type") == "host" and view.get("path_mode") == "direct", view
        for source, target in (("a", "b"), ("b", "a")):
            assert deployment.ping(source, target) and deployment.ping(source, target, ipv6=True)
            assert deployment.ping(source, target, full_size=True)
            assert deployment.ping(source, target, ipv6=True, full_size=True)
        return views["a"], views["b"]
    except Exception:
        print(deployment.logs())
        raise


def test_ipv6_only_lan(lab, workdir, timing):
    """No IPv4 at all: the hub listens on an IPv6 address, STUN and candidates are IPv6, WireGuard's endpoint too."""
    view_a, view_b = connect_pair(workdir, ipv6_lan(lab, keep_ipv4=False), timing)
    assert view_a["endpoint"].startswith(f"[{ADDRESSES6['b']}]:"), view_a
    assert view_b["endpoint"].startswith(f"[{ADDRESSES6['a']}]:"), view_b


def test_dual_stack_lan(lab, workdir, timing):
    """Both families on the LAN: one host pair is chosen (either family) and the tunnel works over it."""
    topology = ipv6_lan(lab, keep_ipv4=True)
    view_a, view_b = connect_pair(workdir, topology, timing)
    for view, peer in ((view_a, "b"), (view_b, "a")):
        endpoint = view["endpoint"]
        assert endpoint.startswith(f"[{ADDRESSES6[peer]}]:") or endpoint.startswith(topology.peers[peer].address + ":"), view
