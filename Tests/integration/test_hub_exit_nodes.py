"""Exit nodes against the running hub (PROTOCOL.md §6.15): a v5 client advertises an exit node at hello; nothing
reaches the others until `riftgate-hub route approve <network> <peer> exit-node` (run in another process) approves
it; then the other v5 sessions get a `peer_joined` with `exit_node: true`, v4 sessions never see the field; revoke
withdraws it; a default route given to `route approve` is refused with a pointer to `exit-node`; the field in a v4
hello is refused.

The target is "within a second" (the hub polls the database once per one-second tick); the test asserts only a
generous bound so that a slow CI machine cannot fail it, and prints the measured delays.
"""
import time

from rgclient import Agent

# Generous: only a hub that never notices the change exceeds it.
PROPAGATION_BOUND = 5.0


def join(hub, token, name, version=5, exit_node=None):
    agent = Agent(hub, "home", token, name=name).connect()
    agent.read_challenge()
    agent.hello(version=version, exit_node=exit_node)
    return agent


def state_of_exit_node(hub, key):
    """The STATE column of `route list`'s exit-node row for `key`, None when there is no such row."""
    listed = hub.cli("route", "list", "home").stdout
    rows = [line for line in listed.splitlines() if key[:8] in line and " exit-node " in line]
    assert len(rows) <= 1, listed
    return rows[0].split(" exit-node ", 1)[1].strip() if rows else None


def test_exit_node_reaches_v5_peers_only_once_approved(hub_factory):
    hub = hub_factory(start=False)
    _, token = hub.create_token("home", "t")
    hub.start()
    exit_peer = join(hub, token, "exit-b", exit_node=True)
    assert "exit_node" not in exit_peer.expect("welcome")["self"], "nothing approved yet"
    client = join(hub, token, "laptop-a")
    welcome = client.expect("welcome")
    assert all("exit_node" not in peer for peer in welcome["peers"]), welcome
    exit_peer.expect("peer_joined")
    old = join(hub, token, "old", version=4)
    old.expect("welcome")
    exit_peer.expect("peer_joined")
    client.expect("peer_joined")

    assert state_of_exit_node(hub, exit_peer.public_key) == "advertised"
    client.assert_silent(1.5)  # unapproved: the other v5 client hears nothing

    delays = []
    out = hub.cli("route", "approve", "home", "exit-b", "exit-node").stdout
    exited = time.monotonic()
    assert out.startswith("Approved peer") and "as an exit node" in out, out
    update = client.expect("peer_joined", timeout=PROPAGATION_BOUND)["peer"]
    delays.append(time.monotonic() - exited)
    assert update["public_key"] == exit_peer.public_key and update["exit_node"] is True, update
    old.assert_silent(1.5)  # a v4 session never hears of exit nodes
    exit_peer.assert_silent(0.2)
    assert state_of_exit_node(hub, exit_peer.public_key) == "approved"

    # A newcomer's welcome carries the active exit node; a v4 newcomer's does not.
    late = join(hub, token, "late")
    listed_peer = next(peer for peer in late.expect("welcome")["peers"] if peer["public_key"] == exit_peer.public_key)
    assert listed_peer["exit_node"] is True, listed_peer
    late_old = join(hub, token, "late-old", version=4)
    assert all("exit_node" not in peer for peer in late_old.expect("welcome")["peers"])
    for agent in (exit_peer, client, old, late, exit_peer, client, old):  # late, then late-old joined
        agent.expect("peer_joined", timeout=PROPAGATION_BOUND)

    out = hub.cli("route", "revoke", "home", "exit-b", "exit-node").stdout
    exited = time.monotonic()
    assert out.startswith("Revoked peer"), out
    update = client.expect("peer_joined", timeout=PROPAGATION_BOUND)["peer"]
    delays.append(time.monotonic() - exited)
    assert update["public_key"] == exit_peer.public_key and "exit_node" not in update, update
    late.expect("peer_joined", timeout=PROPAGATION_BOUND)
    old.assert_silent(1.0)
    late_old.assert_silent(0.2)
    assert state_of_exit_node(hub, exit_peer.public_key) == "advertised"
    print(f"\nexit-node propagation over {len(delays)} changes: "
          + ", ".join(f"{delay:.3f} s" for delay in delays) + " after the CLI exited")

    for route in ("0.0.0.0/0", "::/0"):
        refused = hub.cli("route", "approve", "home", "exit-b", route, check=False)
        assert refused.returncode != 0 and "route approve <network> <peer> exit-node" in refused.stderr, refused.stderr
    for agent in (exit_peer, client, old, late, late_old):
        agent.close()


def test_exit_node_field_refused_in_a_v4_hello(hub_factory):
    hub = hub_factory(start=False)
    _, token = hub.create_token("home", "t")
    hub.start()
    for value, version, code in [(True, 4, "invalid_value"), (False, 4, "invalid_value"), ("yes", 5, "wrong_type")]:
        agent = join(hub, token, "bad", version=version, exit_node=value)
        refusal = agent.expect_error("not_authenticated")
        assert code in refusal["message"] and "advertise_exit_node" in refusal["message"], refusal
        agent.close()
    assert hub.cli("route", "list", "home").stdout.startswith("No routes")
