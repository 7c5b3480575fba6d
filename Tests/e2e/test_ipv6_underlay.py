"""Agents over an IPv6 underlay on one LAN: IPv6 only (the hub reached at an IPv6 address, `ws://[…]:port`), and dual
stack. The routed case (global IPv6 behind home routers' stateful firewalls, beside IPv4 NAT) is in the NAT matrix,
test_nat_traversal.py's `*-dual-stack-*` rows.

Each test: both agents connect within CONNECT_BOUND, ping each other's overlay addresses both ways, report a direct
host pair, and pass full-size don't-fragment pings (the interface MTU leaves room for WireGuard over IPv6)."""
import time

from deployment import CONNECT_BOUND, FULL_SIZE_PING
from lab import lan, wait_for
from riftgate_lab import Agent, Hub

LAN6 = "2001:db8:1::"
ADDRESSES6 = {"hub": f"{LAN6}1", "a": f"{LAN6}a", "b": f"{LAN6}b"}


def ipv6_lan(lab, keep_ipv4: bool) -> dict:
    """`lab.lan` with a global IPv6 address on every host (no duplicate address detection); without `keep_ipv4` the
    IPv4 addresses are removed and each host's lab address becomes its IPv6 one."""
    hosts = lan(lab)
    for role, address in ADDRESSES6.items():
        host = hosts[role]
        if not keep_ipv4:
            host.exec("ip", "-4", "addr", "flush", "dev", "eth0")
            host.address = address
        host.exec("ip", "-6", "addr", "add", f"{address}/64", "dev", "eth0", "nodad")
    # Neighbour discovery may drop the very first packet: wait until the hub answers from both peers.
    for role in ("a", "b"):
        wait_for(lambda: hosts[role].ping(ADDRESSES6["hub"]), timeout=5, what=f"{role} to reach the hub over IPv6")
    return hosts


def connect_pair(lab, workdir, hosts, timing) -> tuple[Agent, Agent, dict, dict]:
    """Starts the hub and two agents; returns them with each side's connected view of the other."""
    hub = Hub(hosts["hub"], workdir)
    hub.create_network("home")
    token = hub.create_token("home", "e2e")
    hub.start()
    a = Agent(hosts["a"], workdir, interface=f"{lab.prefix}a")
    b = Agent(hosts["b"], workdir, interface=f"{lab.prefix}b")
    for agent in (a, b):
        agent.init(hub.url, "home", token)
    a.start()
    started_b = time.monotonic()
    b.start()
    try:
        ip_b = b.overlay_ipv4()
        wait_for(lambda: hosts["a"].ping(ip_b), timeout=30, interval=0.05, what="A to ping B through the tunnel")
        connect = time.monotonic() - started_b
        timing(f"second agent start to first ping: {connect:.2f} s (bound {CONNECT_BOUND} s)")
        assert connect < CONNECT_BOUND
        a_status, b_status = a.status(), b.status()
        views = {}
        for viewer, status in ((a, b_status), (b, a_status)):
            views[viewer.host.name] = wait_for(
                lambda: (p := viewer.peer(status["public_key"])) and p["state"] == "connected" and p,
                timeout=15, what=f"{viewer.host.name}'s status to call its peer connected")
        for viewer, view in views.items():
            timing(f"{viewer}: {view.get('path_type')}/{view.get('path_mode')} local {view.get('local_candidate')} "
                   f"remote {view.get('remote_candidate')} endpoint {view.get('endpoint')}")
            assert view.get("path_type") == "host" and view.get("path_mode") == "direct", view
        for source, target in ((a, b_status), (b, a_status)):
            assert source.host.ping(target["ipv4"]) and source.host.ping(target["ipv6"])
            assert source.host.ping(target["ipv4"], size=FULL_SIZE_PING, dont_fragment=True)
            assert source.host.ping(target["ipv6"], size=FULL_SIZE_PING - 20, dont_fragment=True)
        return a, b, views["a"], views["b"]
    except Exception:
        print("--- hub log ---\n" + hub.log()[-3000:])
        print("--- agent A log ---\n" + a.log()[-4000:] + "\n--- agent B log ---\n" + b.log()[-4000:])
        raise


def test_ipv6_only_lan(lab, workdir, timing):
    """No IPv4 at all: the hub listens on an IPv6 address, STUN and candidates are IPv6, WireGuard's endpoint too."""
    hosts = ipv6_lan(lab, keep_ipv4=False)
    _, _, view_a, view_b = connect_pair(lab, workdir, hosts, timing)
    assert view_a["endpoint"].startswith(f"[{ADDRESSES6['b']}]:"), view_a
    assert view_b["endpoint"].startswith(f"[{ADDRESSES6['a']}]:"), view_b


def test_dual_stack_lan(lab, workdir, timing):
    """Both families on the LAN: one host pair is chosen (either family) and the tunnel works over it."""
    hosts = ipv6_lan(lab, keep_ipv4=True)
    _, _, view_a, view_b = connect_pair(lab, workdir, hosts, timing)
    for view, peer in ((view_a, "b"), (view_b, "a")):
        endpoint = view["endpoint"]
        assert endpoint.startswith(f"[{ADDRESSES6[peer]}]:") or endpoint.startswith(hosts[peer].address + ":"), view
