"""Hub cluster (issue 14): two real hubs sharing their state (one SQLite state directory, or one PostgreSQL database
with a state directory each) and a real 3-node nats-server cluster. Agents on different hubs see each other, relay signals both ways, a key moving
to the other hub replaces its session without a false departure, and a hub killed with SIGKILL has its peers announced
left (`timeout`) by the survivor. Every wait is bounded; the figures are printed, never asserted tightly."""
import signal
import time

import pytest
from natscluster import MISSING_REASON, SERVER, NATSCluster
from hubharness import Hub
from pgserver import PostgresServer, PostgresUnavailable
from rgclient import Agent, sealed_blob

pytestmark = pytest.mark.skipif(SERVER is None, reason=MISSING_REASON)


@pytest.fixture
def nats():
    cluster = NATSCluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def postgres():
    try:
        server = PostgresServer()
    except PostgresUnavailable as absent:
        pytest.skip(str(absent))
    yield server
    server.destroy()


@pytest.fixture(params=["sqlite", "postgres"])
def two_hubs(request, tmp_path, nats):
    """Two hubs sharing their state (one SQLite state directory, or one PostgreSQL database), cluster members over
    `nats`, with network `home` and a token."""
    options = lambda i: ("--nats", nats.urls, "--hub-id", f"hub-{i}", "--ping-interval", "1", "--pong-timeout", "3")
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
