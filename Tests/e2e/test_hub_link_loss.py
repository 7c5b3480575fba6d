"""A peer that loses its hub connection, and only that: the hub announces it left, but the tunnel to it still works,
so its peers keep it (Mesh+AbsentPeers) — no ping lost, no renegotiation — until it rejoins, or until the tunnel
itself fails. Home NATs, no TURN (a tunnel on a server-reflexive pair), the hub's heartbeat at 1 s with a 3 s timeout so
that it notices the silent connection within seconds (the default 20 s / 60 s would only make the test slower).
"""
import os
import time

import pytest

from hub_link import block_hub, unblock_hub
from lab import wait_for
from pinger import Pinger
from deployment import NETWORK
from topologies import home_nats, lan_topology

FIRST_PING = 30
HUB_NOTICES = 15     # the hub's pong timeout (3 s) plus a ping interval, with margin
AGENT_NOTICES = 15   # b follows the hub's 1 s heartbeat (3 s without a pong); its own would take 60 s
HELD = 8             # how long the tunnel runs with its peer off the hub
REJOIN = 20          # the agent's reconnect backoff is capped at 4 s (jittered)
REMOVED_AFTER_DEATH = 15  # the quiet path is judged within ~3 s (ReceiveWatch); margin for a loaded machine

HUB_OPTIONS = ("--ping-interval", "1", "--pong-timeout", "3")


def put_b_off_the_hub(mesh) -> str:
    """Blocks b's hub connection and waits until the hub announced that b left and a keeps b's working tunnel;
    returns b's key."""
    key_b = mesh.agents["b"].status()["public_key"]
    block_hub(mesh.topology.peers["b"], mesh.hub)
    wait_for(lambda: (mesh.agents["a"].peer(key_b) or {}).get("absent_from_hub_seconds") is not None,
             timeout=HUB_NOTICES, interval=0.25, what="the hub to announce that b left, and a to keep b's tunnel")
    return key_b


def start_lan_mesh(start_mesh, lab):
    return start_mesh(lan_topology(lab), first_ping=FIRST_PING, turn=False, hub_options=HUB_OPTIONS)


def test_peer_off_the_hub_keeps_its_tunnel_until_the_tunnel_fails(lab, start_mesh, workdir, timing):
    mesh = start_mesh(home_nats(lab), first_ping=FIRST_PING, turn=False, hub_options=HUB_OPTIONS)
    a, b = mesh.agents["a"], mesh.agents["b"]
    key_b = b.status()["public_key"]
    before = mesh.peer_view("a", "b", condition=lambda entry: entry.get("path_type") == "server-reflexive")
    pinger = Pinger(mesh.topology.peers["a"], mesh.overlay("b")[0], os.path.join(workdir, "ping-off-hub.log"))

    blocked = time.monotonic()
    put_b_off_the_hub(mesh)
    announced = time.monotonic()
    timing(f"b's hub connection blocked -> the hub announced b left {announced - blocked:.1f} s later; a keeps it")
    wait_for(lambda: b.status()["hub"]["state"] != "connected", timeout=AGENT_NOTICES, interval=0.25,
             what="b to notice its silent hub connection (the hub's heartbeat, followed)")
    timing(f"b's hub connection blocked -> b called it lost {time.monotonic() - blocked:.1f} s later")
    time.sleep(HELD)
    held = a.peer(key_b)
    assert held is not None and held["state"] == "connected", held
    assert mesh.ping("a", "b", ipv6=True) and mesh.ping("b", "a")

    unblock_hub(mesh.topology.peers["b"])
    unblocked = time.monotonic()
    wait_for(lambda: b.status()["hub"]["state"] == "connected"
             and (a.peer(key_b) or {}).get("absent_from_hub_seconds") is None,
             timeout=REJOIN, interval=0.25, what="b to rejoin the hub and a to list it as present again")
    timing(f"b rejoined {time.monotonic() - unblocked:.1f} s after its hub connection was let through again")
    time.sleep(1)
    summary = pinger.stop()
    timing(f"ping a->b while b was off the hub for {unblocked - blocked:.1f} s: {summary}")
    assert summary.lost == 0, f"the tunnel dropped traffic while its peer was off the hub: {summary}"
    after = mesh.peer_view("a", "b")
    assert (after["local_candidate"], after["remote_candidate"]) == (before["local_candidate"], before["remote_candidate"]), \
        f"the tunnel was renegotiated: {before} -> {after}"

    # Off the hub again, then b dies (its WireGuard with it): a's tunnel goes quiet and a removes b, with no new
    # generation for a peer the hub cannot reach.
    put_b_off_the_hub(mesh)
    offers = a.log().count("offering ICE generation")
    b.kill()
    killed = time.monotonic()
    wait_for(lambda: a.peer(key_b) is None, timeout=REMOVED_AFTER_DEATH, interval=0.25,
             what="a to remove b once its tunnel went quiet")
    timing(f"b killed while off the hub -> a removed it {time.monotonic() - killed:.1f} s later "
           f"(bound {REMOVED_AFTER_DEATH} s)")
    assert not a.status()["peers"], a.status()["peers"]
    assert a.log().count("offering ICE generation") == offers, "a offered a generation to a peer off the hub"
    assert "its tunnel still works and stays until it fails" in a.log()


REVOKED_REMOVAL = 10  # the hub polls its change marker every 250 ms; the agent removes the peer on the notice


def removed_after(mesh, key_b, what, *command) -> float:
    """Runs a hub CLI command; returns how many seconds later a removed b (bounded by REVOKED_REMOVAL)."""
    started = time.monotonic()
    mesh.hub.admin(*command)
    wait_for(lambda: mesh.agents["a"].peer(key_b) is None, timeout=REVOKED_REMOVAL, interval=0.1,
             what=f"a to remove b once the hub announced {what}")
    return time.monotonic() - started


def test_revoking_a_peer_off_the_hub_removes_its_kept_tunnel_at_once(lab, start_mesh, workdir, timing):
    mesh = start_lan_mesh(start_mesh, lab)
    a = mesh.agents["a"]
    key_b = put_b_off_the_hub(mesh)
    assert mesh.ping("a", "b"), "the kept tunnel works"
    seconds = removed_after(mesh, key_b, "its revocation", "peer", "revoke", NETWORK, key_b)
    timing(f"b revoked while off the hub (its tunnel working) -> a removed it {seconds:.1f} s "
           f"later (bound {REVOKED_REMOVAL} s)")
    assert "(revoked)" in a.log(), a.log()[-2000:]
    assert not mesh.ping("a", "b"), "the revoked peer is no longer reachable through the tunnel"


def rejoin_and_removal(mesh, key_b, since: float, what: str) -> tuple[float, float]:
    """Waits for a to rejoin the hub, then for a to remove b, revoked while `what`; checks that a removed it for the
    revocation and that b is out of reach. Returns the seconds from `since` to the rejoin and from there to the removal."""
    a = mesh.agents["a"]
    wait_for(lambda: a.status()["hub"]["state"] == "connected", timeout=REJOIN, interval=0.25, what="a to rejoin the hub")
    rejoined = time.monotonic()
    wait_for(lambda: a.peer(key_b) is None, timeout=REVOKED_REMOVAL, interval=0.1,
             what=f"a to remove b, revoked while {what}")
    removed = time.monotonic()
    assert "(revoked)" in a.log(), a.log()[-2000:]
    assert not mesh.ping("a", "b"), "the revoked peer is no longer reachable through a's tunnel"
    return rejoined - since, removed - rejoined


def test_a_peer_revoked_while_both_were_off_the_hub_is_removed_when_the_other_rejoins(lab, start_mesh, workdir, timing):
    """Both agents lose the hub and keep their tunnel; b is revoked meanwhile, so nobody hears the hub announce it. When
    a rejoins, its welcome does not list b, which alone reads like a peer that is merely offline: the hub tells a of
    the revocation right after the welcome, and a removes b's tunnel at once instead of keeping it up to 5 minutes."""
    mesh = start_lan_mesh(start_mesh, lab)
    a, b = mesh.agents["a"], mesh.agents["b"]
    key_b = b.status()["public_key"]
    for name in ("a", "b"):
        block_hub(mesh.topology.peers[name], mesh.hub)
    wait_for(lambda: a.status()["hub"]["state"] != "connected" and b.status()["hub"]["state"] != "connected",
             timeout=AGENT_NOTICES, interval=0.25, what="both agents to notice their silent hub connections")
    assert mesh.ping("a", "b"), "the kept tunnel works"
    mesh.hub.admin("peer", "revoke", NETWORK, key_b)
    # The hub must have acted on the revocation before a is back: otherwise a, live again, would be told as usual.
    wait_for(lambda: "access withdrawn" in mesh.hub.log(), timeout=REVOKED_REMOVAL, interval=0.1,
             what="the hub to act on b's revocation")
    unblock_hub(mesh.topology.peers["a"])
    rejoin, removal = rejoin_and_removal(mesh, key_b, since=time.monotonic(), what="a was off the hub")
    timing(f"b revoked while a and b were off the hub: a rejoined {rejoin:.1f} s after its hub "
           f"connection was let through, and removed b {removal:.1f} s after that")


@pytest.mark.parametrize("revoked", ["key", "token"])
def test_a_peer_revoked_while_the_hub_was_down_is_removed_when_the_hub_is_back(lab, start_mesh, workdir, timing, revoked):
    """The hub crashes (SIGKILL: it writes nothing more); the agents keep their tunnel; b's key (or the token b joined
    with, its own) is revoked with the hub's CLI while the hub is down. The restarted hub remembers nothing of its last
    run but its database: it takes the peers connected then as departed (with the token each was last admitted with),
    finds b's access withdrawn at its first recheck, and tells a when a is back, instead of leaving b out of a's
    welcome, which a would read as "offline" and keep b's tunnel up to 5 minutes (the test then fails waiting for the
    removal)."""
    mesh = start_mesh(lan_topology(lab), first_ping=FIRST_PING, turn=False, hub_options=HUB_OPTIONS, own_tokens=("b",))
    a, b = mesh.agents["a"], mesh.agents["b"]
    key_b = b.status()["public_key"]
    mesh.kill_hub()
    wait_for(lambda: a.status()["hub"]["state"] != "connected" and b.status()["hub"]["state"] != "connected",
             timeout=AGENT_NOTICES, interval=0.25, what="both agents to notice that the hub is gone")
    assert mesh.ping("a", "b"), "the tunnel works without the hub"
    if revoked == "key":
        mesh.hub.admin("peer", "revoke", NETWORK, key_b)
    else:
        mesh.hub.admin("token", "revoke", NETWORK, mesh.own_tokens["b"][0])
    # b stays off the restarted hub, alive with its tunnel working: refused as revoked it would stop, its tunnel would
    # go quiet and a would remove it for that reason instead.
    block_hub(mesh.topology.peers["b"], mesh.hub)
    mesh.restart_hub()
    rejoin, removal = rejoin_and_removal(mesh, key_b, since=time.monotonic(), what="the hub was down")
    timing(f"b's {revoked} revoked while the hub was down: a rejoined {rejoin:.1f} s after the restart and removed b "
           f"{removal:.1f} s after that")


def test_a_policy_that_separated_two_peers_both_off_the_hub_is_told_when_one_rejoins(lab, start_mesh, workdir, timing):
    """Both agents lose the hub and keep their tunnel; a policy that separates them is set meanwhile, so nobody hears
    the hub apply it. When a rejoins, its welcome does not list b, which alone reads like a peer that is merely
    offline: the hub tells a right after the welcome (`peer_left` `policy`), and a removes b's tunnel at once instead
    of keeping it up to 5 minutes (the test then fails waiting for the removal)."""
    mesh = start_lan_mesh(start_mesh, lab)
    a, b = mesh.agents["a"], mesh.agents["b"]
    key_b = b.status()["public_key"]
    mesh.hub.admin("peer", "tag", NETWORK, key_b, "--tag", "server")  # no policy yet: nothing changes for a
    for name in ("a", "b"):
        block_hub(mesh.topology.peers[name], mesh.hub)
    wait_for(lambda: a.status()["hub"]["state"] != "connected" and b.status()["hub"]["state"] != "connected",
             timeout=AGENT_NOTICES, interval=0.25, what="both agents to notice their silent hub connections")
    assert mesh.ping("a", "b"), "the kept tunnel works"
    applied = mesh.hub.log().count("access policy applied")
    policy = os.path.join(workdir, "policy.txt")
    with open(policy, "w") as file:
        file.write("server -> server\n")  # a has no tag: a and b are no longer introduced to each other
    mesh.hub.admin("policy", "set", NETWORK, policy)
    # The hub must have applied the policy before a is back: otherwise a's welcome would simply be computed with it.
    wait_for(lambda: mesh.hub.log().count("access policy applied") > applied, timeout=REVOKED_REMOVAL, interval=0.1,
             what="the hub to apply the new policy")
    unblock_hub(mesh.topology.peers["a"])
    wait_for(lambda: a.status()["hub"]["state"] == "connected", timeout=REJOIN, interval=0.25, what="a to rejoin the hub")
    rejoined = time.monotonic()
    wait_for(lambda: a.peer(key_b) is None, timeout=REVOKED_REMOVAL, interval=0.1,
             what="a to remove b, separated by a policy set while both were off the hub")
    timing(f"policy separating a from b set while both were off the hub -> a removed b "
           f"{time.monotonic() - rejoined:.1f} s after rejoining")
    assert "(policy)" in a.log(), a.log()[-2000:]


def test_a_policy_that_separates_a_peer_off_the_hub_removes_its_kept_tunnel(lab, start_mesh, workdir, timing):
    mesh = start_lan_mesh(start_mesh, lab)
    a = mesh.agents["a"]
    key_b = put_b_off_the_hub(mesh)
    mesh.hub.admin("peer", "tag", NETWORK, key_b, "--tag", "server")  # no policy yet: nothing changes for a
    time.sleep(1)
    assert a.peer(key_b) is not None, "a tag alone changes no access decision"
    policy = os.path.join(workdir, "policy.txt")
    with open(policy, "w") as file:
        file.write("server -> server\n")  # a has no tag: a and b are no longer introduced to each other
    seconds = removed_after(mesh, key_b, "that the policy separates them", "policy", "set", NETWORK, policy)
    timing(f"policy separating a from b (off the hub, tunnel working) -> a removed b {seconds:.1f} s "
           f"later (bound {REVOKED_REMOVAL} s)")
    assert "(policy)" in a.log(), a.log()[-2000:]
