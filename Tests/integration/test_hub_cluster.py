"""Hub cluster (issue 14): two real hubs sharing their state (one SQLite state directory, or one PostgreSQL database
with a state directory each) and a real 3-node nats-server cluster. Agents on different hubs see each other, relay signals both ways, a key moving
to the other hub replaces its session without a false departure, and a hub killed with SIGKILL has its peers announced
left (`timeout`) by the survivor. Administrative changes made with the CLI (rename, route and exit-node approval,
policy) reach agents on the other hub; presence lost while a hub's NATS link was cut is repaired; an ephemeral peer on
one hub is never removed by the other. Every wait is bounded; the figures are printed, never asserted tightly."""
import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest
from natscluster import MISSING_REASON, SERVER, NATSCluster
from hubharness import Hub, eventually
from rgclient import Agent, sealed_blob

pytestmark = pytest.mark.skipif(SERVER is None, reason=MISSING_REASON)


@pytest.fixture
def nats():
    cluster = NATSCluster(advertise=False)
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def two_hubs(request, tmp_path, nats):
    """Two hubs sharing their state (one SQLite state directory, or one PostgreSQL database), cluster members over
    `nats`, with network `home` and a token. Hub 1 is given NATS node 1 only and hub 2 nodes 2 and 3 (the nodes do
    not advertise each other), so that stopping node 1 cuts hub 1's link alone until node 1 is back. Ephemeral peers
    have a 2 s grace."""
    urls = [nats.urls.split(",")[:1], nats.urls.split(",")[1:]]
    options = lambda i: ("--nats", ",".join(urls[i - 1]), "--hub-id", f"hub-{i}", "--ping-interval", "1",
                         "--pong-timeout", "3", "--ephemeral-grace", "2s")
    if request.param == "sqlite":
        hubs = [Hub(tmp_path / "state", options(i)) for i in (1, 2)]
    else:
        database = request.getfixturevalue("postgres").create_database()
        hubs = [Hub(tmp_path / f"state{i}", options(i), database=database) for i in (1, 2)]
    hubs[0].create_network("home")
    token = hubs[0].create_token("home", "cluster")[1]
    try:
        for hub in hubs:
            hub.start()
        for hub, other in ((hubs[0], "hub-2-"), (hubs[1], "hub-1-")):
            assert hub.wait_for_log("cluster bus connected", timeout=20), "\n".join(hub.log_lines)
            assert hub.wait_for_log(f"hub={other}.*cluster: new hub heard", timeout=20), "\n".join(hub.log_lines)
        yield hubs, token
    finally:
        for hub in hubs:
            hub.stop()


def sees(agent, welcome, key, timeout=10):
    """The agent learns of `key`: listed in its welcome, or announced with peer_joined soon after."""
    if key in [peer["public_key"] for peer in welcome["peers"]]:
        return
    assert agent.expect("peer_joined", timeout)["peer"]["public_key"] == key


def test_cluster_presence_relay_replacement_and_dead_hub(two_hubs):
    (hub1, hub2), token = two_hubs
    a = Agent(hub1, "home", token, name="a")
    welcome_a = a.join()
    b = Agent(hub2, "home", token, name="b")
    welcome_b = b.join()
    sees(b, welcome_b, a.public_key)
    sees(a, welcome_a, b.public_key)

    # Relay both ways, the sender stamped by its own hub, the box unchanged.
    box = sealed_blob(seed=5, size=48)
    started = time.monotonic()
    a.signal("offer", b.public_key, sealed=box, msg_id="o1")
    assert b.expect("offer", 10) == {"type": "offer", "from": a.public_key, "sealed": box}
    b.signal("answer", a.public_key, sealed=box)
    assert a.expect("answer", 10) == {"type": "answer", "from": b.public_key, "sealed": box}
    print(f"\ncross-hub offer and answer round trip: {(time.monotonic() - started) * 1000:.1f} ms")
    b.assert_silent(0.3)  # delivered once

    # b moves to hub 1: hub 2 closes its old session with `replaced`; a sees b (re)joined, never left.
    b_again = Agent(hub1, "home", token, name="b", key=b.key)
    b_again.join()
    assert b.expect_closed(10) == 4409
    message = a.expect("peer_joined", 10)
    assert message["peer"]["public_key"] == b.public_key
    a.assert_silent(1.5)
    a.signal("offer", b.public_key, sealed=box)
    assert b_again.expect("offer", 10, skip=("peer_joined",))["from"] == a.public_key

    # c lives on hub 2, which is then killed without a goodbye: a learns c left (timeout), and nothing about b.
    c = Agent(hub2, "home", token, name="c")
    welcome_c = c.join()
    sees(a, {"peers": []}, c.public_key)
    sees(c, welcome_c, a.public_key)
    killed = time.monotonic()
    hub2.stop(sig=signal.SIGKILL)
    left = a.expect("peer_left", 30)
    elapsed = time.monotonic() - killed
    assert left == {"type": "peer_left", "public_key": c.public_key, "reason": "timeout"}
    print(f"peers of the killed hub announced left after {elapsed:.2f} s (deadline: 5 s without heartbeats)")
    a.assert_silent(1.0)
    b_again.signal("offer", a.public_key)
    assert a.expect("offer", 10)["from"] == b.public_key
    for agent in (a, b_again, c):
        agent.close()


def test_hub_starts_while_nats_is_unreachable_and_serves_local_sessions(tmp_path):
    """No NATS server answers: the hub starts anyway, serves its own sessions and keeps retrying in the background."""
    hub = Hub(tmp_path / "state", ("--nats", "nats://127.0.0.1:1", "--hub-id", "lonely"))
    hub.create_network("home")
    token = hub.create_token("home", "t")[1]
    try:
        hub.start()
        assert hub.wait_for_log("NATS unreachable; serving local sessions and retrying", timeout=20)
        a, b = Agent(hub, "home", token, name="a"), Agent(hub, "home", token, name="b")
        a.join()
        b.join()
        assert a.expect("peer_joined")["peer"]["public_key"] == b.public_key
        a.signal("offer", b.public_key)
        assert b.expect("offer")["from"] == a.public_key
        a.close()
        b.close()
    finally:
        assert hub.stop() == 0


# Generous: only a hub that never passes the change on exceeds it (the aim, printed, is well under 2 s).
PROPAGATION_BOUND = 5.0


@pytest.mark.parametrize("withdrawn", ["key", "token"])
def test_a_peer_gone_from_the_other_hub_and_then_revoked_is_announced_revoked(two_hubs, withdrawn):
    """b's session ends on hub 2 (`disconnected`: its tunnels may still work, and a's agent may keep them, PROTOCOL.md
    §6.6); its key, or the token it joined with, is then revoked with the CLI. a, on hub 1, is told `revoked`, so that
    a tunnel it kept goes now. (For the token, hub 1 knows which one b presented from hub 2's claim.)"""
    (hub1, hub2), token = two_hubs
    b_token_id, b_token = hub1.create_token("home", "b")
    a = Agent(hub1, "home", token, name="a")
    welcome_a = a.join()
    b = Agent(hub2, "home", b_token, name="b")
    b.join()
    sees(a, welcome_a, b.public_key)
    b.close()
    assert expect_about(a, "peer_left", b.public_key)["reason"] == "disconnected"
    if withdrawn == "key":
        hub1.cli("peer", "revoke", "home", b.public_key)
    else:
        hub1.cli("token", "revoke", "home", b_token_id)
    revoked = time.monotonic()
    assert expect_about(a, "peer_left", b.public_key)["reason"] == "revoked"
    print(f"\n{withdrawn} of a peer gone from the other hub revoked: announced on this hub "
          f"{time.monotonic() - revoked:.2f} s later")
    a.assert_silent(1.0)
    a.close()


def join_v5(hub, token, name, routes=None, exit_node=None):
    """An agent speaking protocol version 5 (names, DNS names, routes, exit nodes), joined; returns (agent, welcome)."""
    agent = Agent(hub, "home", token, name=name)
    agent.connect()
    agent.read_challenge()
    agent.hello(version=5, routes=routes, exit_node=exit_node)
    return agent, agent.expect("welcome")


def expect_about(agent, kind, key, timeout=PROPAGATION_BOUND):
    """The next `kind` (peer_joined or peer_left) about `key`, passing over presence messages about other peers."""
    deadline = time.monotonic() + timeout
    while True:
        message = agent.recv(max(0.01, deadline - time.monotonic()))
        about = message.get("public_key") or message.get("peer", {}).get("public_key")
        if message["type"] == kind and about == key:
            return message
        assert message["type"] in ("peer_joined", "peer_left"), message


def timed_change(hub, watcher, key, *command):
    """Runs an admin CLI command on `hub`; returns the peer_joined about `key` that `watcher` then gets, and how many
    seconds after the CLI exited it came."""
    hub.cli(*command)
    exited = time.monotonic()
    message = expect_about(watcher, "peer_joined", key)["peer"]
    return message, time.monotonic() - exited


def test_admin_changes_on_one_hub_reach_agents_on_the_other(two_hubs):
    """A rename, a route approval, an exit-node approval and a policy made with the CLI reach the agent on the hub that
    does not hold the changed peer; an ephemeral peer connected to hub 2 is not removed by hub 1's sweep."""
    (hub1, hub2), _ = two_hubs
    _, laptop_token = hub1.create_token("home", "laptop", "--tag", "laptop")
    _, server_token = hub1.create_token("home", "server", "--tag", "server")
    _, ephemeral_token = hub1.create_token("home", "runner", "--ephemeral", "--tag", "server")
    runner = Agent(hub2, "home", ephemeral_token, name="runner")
    runner.join()
    runner_joined = time.monotonic()

    a, _ = join_v5(hub1, laptop_token, "a", routes=["192.168.7.0/24"], exit_node=True)
    b, welcome_b = join_v5(hub2, server_token, "b")
    sees(b, welcome_b, a.public_key)
    expect_about(a, "peer_joined", b.public_key, 10)
    delays = {}

    renamed, delays["rename"] = timed_change(hub1, b, a.public_key, "peer", "rename", "home", "a", "Printer")
    assert renamed["name"] == "Printer" and renamed["dns_name"] == "printer", renamed
    routed, delays["route approval"] = timed_change(hub1, b, a.public_key, "route", "approve", "home", "Printer", "192.168.7.0/24")
    assert routed["routes"] == ["192.168.7.0/24"], routed
    exit_node, delays["exit-node approval"] = timed_change(hub1, b, a.public_key, "route", "approve", "home", "Printer", "exit-node")
    assert exit_node["exit_node"] is True, exit_node

    # Policy: each hub recomputes for its own sessions (a on hub 1; b and the runner on hub 2), the other hub's included.
    policy = os.path.join(hub1.state_dir, "servers-only.policy")
    with open(policy, "w") as handle:
        handle.write("server -> server\n")
    hub1.cli("policy", "set", "home", policy)
    exited = time.monotonic()
    assert expect_about(b, "peer_left", a.public_key)["reason"] == "policy"
    delays["policy (b, on hub 2)"] = time.monotonic() - exited
    assert expect_about(a, "peer_left", b.public_key)["reason"] == "policy"
    back, delays["policy cleared"] = timed_change(hub1, b, a.public_key, "policy", "clear", "home")
    assert back["name"] == "Printer" and back["exit_node"] is True and back["routes"] == ["192.168.7.0/24"], back
    expect_about(a, "peer_joined", b.public_key)
    print("\n" + "; ".join(f"{change}: {delay:.3f} s" for change, delay in delays.items())
          + " (from the CLI's exit to the agent on the other hub)")

    # The runner's last-seen time is from its admission; hub 1 sweeps every second with a 2 s grace.
    time.sleep(max(0.0, runner_joined + 4.0 - time.monotonic()))
    assert "runner" in hub1.cli("peer", "list", "home").stdout, "hub 1 removed an ephemeral peer connected to hub 2"
    runner.close()
    assert eventually(lambda: "runner" not in hub1.cli("peer", "list", "home").stdout, timeout=15, interval=0.5), \
        "the ephemeral peer is still listed long after it left"
    for agent in (a, b):
        agent.close()


def connected_node(nats, hub_id_prefix):
    """The NATS node whose monitoring endpoint lists a client named `hub_id_prefix...`, or None."""
    for node in nats.nodes:
        with urllib.request.urlopen(f"http://127.0.0.1:{node['monitor']}/connz", timeout=2) as response:
            if any(c.get("name", "").startswith(hub_id_prefix) for c in json.load(response).get("connections", [])):
                return node
    return None


def restart_node(nats, node):
    """Starts a killed NATS node again with its configuration (same ports, same routes)."""
    index = nats.nodes.index(node)
    node["process"] = subprocess.Popen([SERVER, "-c", os.path.join(nats.directory, f"n{index + 1}.conf")],
                                       stdout=node["log"], stderr=subprocess.STDOUT)


def test_presence_lost_while_a_hubs_link_was_cut_is_repaired(two_hubs, nats):
    """Hub 1's only NATS node is killed: while hub 1 is cut off (about 2 s, less than the 5 s after which hub 2 would
    declare it dead), c leaves hub 2 and d joins it; those broadcasts never reach hub 1. Once the node is back, hub 1
    asks hub 2 for its sessions and its agent a learns that c left (`timeout`) and d joined."""
    (hub1, hub2), token = two_hubs
    a = Agent(hub1, "home", token, name="a")
    welcome_a = a.join()
    c = Agent(hub2, "home", token, name="c")
    welcome_c = c.join()
    sees(a, welcome_a, c.public_key)
    sees(c, welcome_c, a.public_key)
    node = connected_node(nats, "hub-1-")
    assert node is not None and connected_node(nats, "hub-2-") is not node

    node["process"].kill()
    assert hub1.wait_for_log("cluster bus disconnected", timeout=10), "\n".join(hub1.log_lines)
    c.close()
    assert hub2.wait_for_log("peer left", timeout=10)
    d = Agent(hub2, "home", token, name="d")
    d.join()
    last_change = time.monotonic()
    a.assert_silent(0.5)  # cut off: nothing reaches hub 1
    restart_node(nats, node)
    wanted, got = {("peer_left", c.public_key), ("peer_joined", d.public_key)}, {}
    deadline = time.monotonic() + 20
    while len(got) < len(wanted):
        message = a.recv(max(0.01, deadline - time.monotonic()))
        about = message.get("public_key") or message.get("peer", {}).get("public_key")
        assert (message["type"], about) in wanted, message
        got[message["type"]] = message
    elapsed = time.monotonic() - last_change
    assert got["peer_left"]["reason"] == "timeout" and got["peer_joined"]["peer"]["name"] == "d", got
    assert sum("cluster bus connected" in line for line in hub1.log_lines) >= 2, "hub 1 never reconnected?"
    print(f"\npresence missed during hub 1's cut repaired {elapsed:.2f} s after the last change on hub 2")
    a.assert_silent(1.0)
    for agent in (a, d):
        agent.close()
