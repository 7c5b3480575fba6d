"""NAT traversal end to end: a real hub (answering STUN), a real coturn and two real agents, in each lab topology.

For each topology both agents come up, ping each other's overlay IPv4 and IPv6 addresses, report the path type the
topology implies, and pass full-size packets (interface MTU, don't-fragment) through the tunnel, relay included.
"""
import time

import pytest
from coturn import turnserver_missing
from deployment import CONNECT_BOUND, FULL_SIZE_PING, Deployment
from topologies import hard_nats, home_nats, mixed

# topology builder, check on the path type both sides report, expected data path mode (None: either)
CASES = {
    # Endpoint-independent NATs: STUN-learned (or peer-reflexive, reported as server-reflexive) candidates connect.
    "home-nats": (home_nats, lambda kind: kind == "server-reflexive", "forwarded"),
    # Symmetric NATs: every destination gets a new port, so only the TURN relay connects.
    "hard-nats": (hard_nats, lambda kind: kind == "relayed", "forwarded"),
    # One public peer, one behind NAT: whatever ICE picks, never the relay.
    "mixed": (mixed, lambda kind: kind in ("host", "server-reflexive"), None),
}


@pytest.fixture
def coturn_available():
    reason = turnserver_missing()
    if reason:
        pytest.skip(reason)


@pytest.mark.parametrize("name", list(CASES))
def test_agents_connect_across_the_topology(lab, workdir, coturn_available, timing, name):
    build, path_ok, mode = CASES[name]
    deployment = Deployment(build(lab), workdir)
    deployment.start_hub()
    a, b = deployment.agent("a"), deployment.agent("b")
    a.start()
    started_b = time.monotonic()
    b.start()
    try:
        deployment.wait_for_ping("a", "b", timeout=45)
        connect = time.monotonic() - started_b
        timing(f"second agent start to first ping: {connect:.2f} s (bound {CONNECT_BOUND} s)")
        assert connect < CONNECT_BOUND
        assert deployment.ping("b", "a")
        assert deployment.ping("a", "b", ipv6=True) and deployment.ping("b", "a", ipv6=True)

        for viewer, peer in (("a", "b"), ("b", "a")):
            entry = deployment.peer_view(viewer, peer)
            assert path_ok(entry.get("path_type")), f"{name}: {viewer} sees {peer} over {entry}"
            if mode is not None:
                assert entry.get("path_mode") == mode, entry
            timing(f"{viewer} -> {peer}: {entry.get('path_type')}/{entry.get('path_mode')} "
                   f"local {entry.get('local_candidate')} remote {entry.get('remote_candidate')}")

        # Full-size packets cross unfragmented, both address families, both directions.
        for source, target in (("a", "b"), ("b", "a")):
            assert deployment.ping(source, target, full_size=True), f"{FULL_SIZE_PING}-byte ping {source}->{target}"
            assert deployment.ping(source, target, ipv6=True, full_size=True), f"IPv6 full-size {source}->{target}"
        # One byte more does not fit the interface MTU: the check above can fail.
        host_a = deployment.topology.peers["a"]
        assert not host_a.ping(deployment.overlay("b")[0], size=FULL_SIZE_PING + 1, dont_fragment=True)
    except Exception:
        print(deployment.logs())
        raise
