"""The mesh over slow links: home NATs and TURN, both routers holding every packet they forward (each way) for a while,
so the hub, the relay and the peer are all far away — another continent, a mobile network, a satellite.

The agents' liveness rules count in hundreds of milliseconds (a path whose data goes unanswered for 1.25 s is suspected,
PROTOCOL.md §8 and docs/architecture.md "Failover"); a slow path must still connect, stay on its direct pair under
traffic and never be taken for a dead one. This kernel has no netem; the routers delay packets with NFQUEUE
(`NatRouter.delay`, Tests/lab/delay_queue.py). The connect time, the pings and the path seen are printed.
"""
import os
import subprocess
import time

import pytest
from coturn import turnserver_missing
from lab import wait_for
from pinger import Pinger
from topologies import home_nats

# Bounds, in seconds: generous enough that only a hang exceeds them.
FIRST_PING = 60
SLOW_SECONDS = float(os.environ.get("RIFTGATE_SLOW_SECONDS", "30"))
# One-way delay and jitter added by each router, in ms, "delay:jitter" comma-separated. a↔b crosses both routers, so
# its round trip gains four times the delay: 75 ms each way is a 300 ms round trip (a distant peer over a mobile
# network), 150 ms a 600 ms one (a geostationary satellite link), 300 ms 1.2 s (a bufferbloated mobile uplink).
PROFILES = [tuple(float(part) for part in profile.split(":"))
            for profile in os.environ.get("RIFTGATE_SLOW_PROFILES", "150:20").split(",")]
# The cut test's delay ("delay:jitter", each way on each router) and how long the pings run before the cut (seconds; 0:
# the cut comes as traffic starts, the slowest case to notice).
CUT_PROFILE = tuple(float(part) for part in os.environ.get("RIFTGATE_SLOW_CUT_PROFILE", "75:10").split(":"))
CUT_AFTER = float(os.environ.get("RIFTGATE_SLOW_CUT_AFTER", "1.5"))


def slow_down(topology, workdir: str, delay_ms: float, jitter_ms: float) -> None:
    """Both NAT routers hold every packet they forward; skips where the kernel cannot queue packets to a program."""
    for role in ("a", "b"):
        try:
            topology.router_of(role).delay(delay_ms, log=os.path.join(workdir, f"delay-{role}.log"), jitter_ms=jitter_ms)
        except (subprocess.CalledProcessError, RuntimeError, FileNotFoundError) as error:
            pytest.skip(f"cannot delay packets here (iptables' NFQUEUE target and nfnetlink_queue are needed): {error}")


@pytest.mark.parametrize("delay_ms,jitter_ms", PROFILES, ids=[f"{d:g}ms" for d, _ in PROFILES])
def test_slow_path_connects_and_keeps_its_direct_pair(lab, start_mesh, workdir, timing, delay_ms, jitter_ms):
    reason = turnserver_missing()
    if reason:
        pytest.skip(reason)
    topology = home_nats(lab)
    slow_down(topology, workdir, delay_ms, jitter_ms)
    started = time.monotonic()
    mesh = start_mesh(topology, first_ping=FIRST_PING)
    first_ping = time.monotonic() - started
    view = mesh.peer_view("a", "b", condition=lambda entry: entry.get("path_type") == "server-reflexive")
    keys = {role: mesh.agents[role].public_key() for role in ("a", "b")}
    logs_before = {role: len(mesh.agents[role].log().splitlines()) for role in ("a", "b")}
    rtt = mesh.topology.peers["a"].exec("ping", "-c", "5", "-i", "0.2", "-n", "-q", mesh.overlay("b")[0],
                                        check=False, timeout=20).stdout.strip().splitlines()[-1]
    pinger = Pinger(mesh.topology.peers["a"], mesh.overlay("b")[0], os.path.join(workdir, "ping-slow.log"),
                    interval=0.2, in_flight=1.0)
    seen = []
    deadline = time.monotonic() + SLOW_SECONDS
    while time.monotonic() < deadline:
        for viewer, peer in (("a", "b"), ("b", "a")):
            entry = mesh.agents[viewer].peer(keys[peer]) or {}
            seen.append((viewer, entry.get("state"), entry.get("path_type")))
        time.sleep(0.5)
    summary = pinger.stop()
    lines = [line for role in ("a", "b") for line in mesh.agents[role].log().splitlines()[logs_before[role]:]]
    suspicions = [line for line in lines if "received nothing" in line or "relay prepared" in line]
    generations = [line for line in lines if "ICE generation" in line]
    moved = [s for s in seen if s[1:] != ("connected", "server-reflexive")]
    modes = {viewer: (mesh.agents[viewer].peer(keys[peer]) or {}).get("path_mode") for viewer, peer in (("a", "b"), ("b", "a"))}
    timing(f"{delay_ms:g} ms (±{jitter_ms:g}) each way on both routers: a pinged b {first_ping:.1f} s after the agents "
           f"started, on a {view.get('path_type')} pair, path modes {modes}; tunnel {rtt}; {SLOW_SECONDS:.0f} s of pings every 0.2 s: "
           f"{summary}; {len(suspicions)} suspicions, {len(generations)} ICE generations, {len(moved)} of {len(seen)} "
           "status reads off the reflexive pair")
    for line in (suspicions + generations)[:10]:
        timing(f"  {line[:200]}")
    assert not moved and not suspicions and not generations, (moved, suspicions, generations)
    assert summary.lost_after_first_reply == 0, summary  # the links delay, they do not lose
    # The reflexive pair is handed over on both sides (WireGuard straight to the peer). The controlled side may select
    # another pair first and move a round trip or more later; the other side must not take that for a bypass.
    assert modes == {"a": "hand-over", "b": "hand-over"}, modes


def both_on(mesh, path_type: str) -> bool:
    """Whether a and b each show the other connected on a `path_type` pair."""
    return mesh.path_type("a", "b") == path_type and mesh.path_type("b", "a") == path_type


def test_slow_path_cut_moves_to_the_relay_and_back(lab, start_mesh, workdir, timing):
    """A 300 ms round trip between the peers (by default: 75 ms each way on each router), pings every 0.2 s, then the
    path between the two NATs is cut: the tunnel must move to the relay, and back without loss once the path returns.
    The outage is the suspicion (docs/architecture.md, "Failover": 500 ms under two-way traffic, 1.25 s of unanswered
    data as traffic starts) plus a relay-only negotiation that costs round trips to the hub and to TURN; it is
    printed."""
    reason = turnserver_missing()
    if reason:
        pytest.skip(reason)
    delay_ms, jitter_ms = CUT_PROFILE
    topology = home_nats(lab)
    slow_down(topology, workdir, delay_ms, jitter_ms)
    mesh = start_mesh(topology, first_ping=FIRST_PING)
    mesh.peer_view("a", "b", condition=lambda entry: entry.get("path_type") == "server-reflexive")
    router, peer_router = mesh.topology.router_of("a"), mesh.topology.router_of("b")
    pinger = Pinger(mesh.topology.peers["a"], mesh.overlay("b")[0], os.path.join(workdir, "ping-slow-cut.log"),
                    interval=0.2, in_flight=1.0)
    time.sleep(CUT_AFTER)
    router.cut(peer_router.public)
    cut = time.monotonic()
    wait_for(lambda: both_on(mesh, "relayed"), timeout=60, interval=0.25, what="the peers to move to the relay after the slow path was cut")
    moved = time.monotonic() - cut
    time.sleep(6)
    outage = pinger.stop()
    timing(f"{delay_ms:g} ms (±{jitter_ms:g}) each way on both routers, path cut {CUT_AFTER:g} s into the pings: both "
           "sides on the relay "
           f"{moved:.1f} s after the cut; longest gap between replies {outage.longest_gap:.1f} s; {outage}")
    pinger = Pinger(mesh.topology.peers["a"], mesh.overlay("b")[0], os.path.join(workdir, "ping-slow-restore.log"),
                    interval=0.2, in_flight=1.0)
    router.restore()
    restored = time.monotonic()
    wait_for(lambda: both_on(mesh, "server-reflexive"), timeout=90, interval=0.5, what="the peers to move back off the relay")
    back = time.monotonic() - restored
    time.sleep(2)
    summary = pinger.stop()
    timing(f"slow path restored -> both sides back on the reflexive pair in {back:.1f} s; pings meanwhile {summary}")
    assert summary.lost_after_first_reply == 0, summary
