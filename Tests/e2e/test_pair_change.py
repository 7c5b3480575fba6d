"""No packet lost while ICE settles right after a connect (issue 12).

On the hard-NAT topology (two symmetric NATs, coturn) libnice used to select relay-to-relay first and, about half a
second later, a pair relayed on one end only; on the way the two sides could sit on different pairs for a few tens of
milliseconds, and each side changes its data path (forwarded <-> handed over) when its own selection changes, which
sets the WireGuard peer again each time. Since the controlled side holds back its relayed candidates
(PeerSession+RelayHold) the first selection is usually the final pair; the streams must come back whole either way. The lab's veth network loses nothing by itself, so ping streams that span
every change, both directions, must come back whole. (The loss found so far, a WireGuard peer set with its allowed IPs
replaced, is pinned with a flood in RiftWireGuardTests' NamespaceTunnelTests: here its chance per run is small.)
"""
import os
import time

import pytest
from coturn import turnserver_missing
from deployment import Deployment
from lab import wait_for
from pinger import Pinger
from topologies import hard_nats

FIRST_PING = 30     # bound on the second agent start to the first ping (measured: well under a second)
SETTLE = 3.0        # how long the ping streams run: the pair changes within ~0.5 s of the first selection
INTERVAL = 0.02     # one ping every 20 ms: the two sides disagree on the pair for 20-40 ms


@pytest.fixture
def coturn_available():
    reason = turnserver_missing()
    if reason:
        pytest.skip(reason)


def test_pings_across_the_pair_change_after_connect_lose_nothing(lab, workdir, coturn_available, timing):
    deployment = Deployment(hard_nats(lab), workdir, turn=True)
    deployment.start_hub()
    a, b = deployment.agent("a"), deployment.agent("b")
    a.start()
    b.start()
    pingers = {}
    try:
        overlay = {role: deployment.overlay(role) for role in ("a", "b")}
        hosts = deployment.topology.peers
        # The streams start before the tunnel exists, so they span the first selection and every change after it;
        # what counts is what was lost after the first answer. Both directions, both address families.
        for source, target in (("a", "b"), ("b", "a")):
            for family, address in zip(("IPv4", "IPv6"), overlay[target]):
                pingers[(source, target, family)] = Pinger(
                    hosts[source], address, os.path.join(workdir, f"ping-{source}-{target}-{family}.log"), INTERVAL)
        wait_for(lambda: hosts["a"].ping(overlay["b"][0], wait=1), timeout=FIRST_PING, interval=0.05,
                 what="a to ping b through the tunnel")
        time.sleep(SETTLE)
        summaries = {route: pinger.stop() for route, pinger in pingers.items()}
        pingers.clear()
        for (source, target, family), summary in summaries.items():
            timing(f"{source}->{target} {family} every {INTERVAL * 1000:.0f} ms from the start to {SETTLE:.0f} s after "
                   f"the first ping: {summary}, {summary.lost_after_first_reply} lost after the first reply")
        views = {"a": deployment.peer_view("a", "b"), "b": deployment.peer_view("b", "a")}
        for viewer, entry in views.items():
            timing(f"{viewer}: {entry.get('path_mode')} local {entry.get('local_candidate')} "
                   f"remote {entry.get('remote_candidate')}")
        for route, summary in summaries.items():
            assert summary.received > 0, f"{route}: {summary}"
            assert summary.lost_after_first_reply == 0, f"{route}: {summary}"
    except Exception:
        for pinger in pingers.values():
            pinger.stop()
        print(deployment.logs(tail=12000))
        raise
