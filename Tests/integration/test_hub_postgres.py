"""The hub's state in PostgreSQL (issue 14): `riftgate-hub serve --database postgres://…` and the admin CLI against
the same database, two hubs sharing it, and PostgreSQL going away and coming back while a hub runs.

One PostgreSQL server per module (Tests/support/postgres-test-server.sh), one database per test."""
import threading
import time

import pytest
from hubharness import Hub, eventually
from pgserver import PostgresServer
from rgclient import Agent, sealed_blob
from websockets.exceptions import ConnectionClosed, InvalidStatus


@pytest.fixture
def pg_hubs(postgres, tmp_path):
    """pg_hubs(count): that many hubs (not started) on one fresh database; all stopped at the end."""
    hubs = []

    def make(count=1, database=None):
        database = database or postgres.create_database()
        for _ in range(count):
            hubs.append(Hub(tmp_path / f"state{len(hubs)}", ("--ping-interval", "1", "--pong-timeout", "3"), database=database))
        return hubs[-count:]

    yield make
    for hub in hubs:
        hub.stop()


def joined(hub, token, name):
    agent = Agent(hub, "home", token, name=name)
    agent.welcome = agent.join()
    return agent


def test_admin_cli_and_hub_on_postgres_relay_and_revoke(pg_hubs, postgres):
    (hub,) = pg_hubs(1)
    hub.create_network("home")
    _, token = hub.create_token("home", "laptops")
    assert "home" in hub.cli("network", "list").stdout
    hub.start()
    assert any("database=postgres://postgres@127.0.0.1" in line for line in hub.log_lines), "the startup line names the database"
    a = joined(hub, token, "a")
    b = joined(hub, token, "b")
    assert a.expect("peer_joined")["peer"]["public_key"] == b.public_key
    assert a.welcome["self"]["ipv4"] != b.welcome["self"]["ipv4"]
    box = sealed_blob(seed=7, size=48)
    a.signal("offer", b.public_key, sealed=box)
    assert b.expect("offer") == {"type": "offer", "from": a.public_key, "sealed": box}
    # The state really is in PostgreSQL: the peers are rows there.
    rows = postgres.psql("SELECT name FROM peers ORDER BY host_offset", database=hub.database.rsplit("/", 1)[1])
    assert rows.split() == ["a", "b"]
    listed = hub.cli("peer", "list", "home").stdout
    assert a.public_key in listed and b.public_key in listed
    started = time.monotonic()
    hub.cli("peer", "revoke", "home", b.public_key)
    b.expect_closed(timeout=10)
    print(f"peer revoke on PostgreSQL closed the live session after {time.monotonic() - started:.2f} s (target: 2 s)")
    assert a.expect("peer_left", skip=("peer_updated",))["public_key"] == b.public_key
    with pytest.raises((AssertionError, ConnectionClosed)):
        Agent(hub, "home", token, name="b", key=b.key).join()  # the revoked key is refused from now on
    assert joined(hub, token, "c").welcome["self"]["name"] == "c"


def test_two_hubs_on_one_database_allocate_distinct_addresses(pg_hubs):
    first, second = pg_hubs(2)
    first.create_network("home", "--max-peers", "1000")
    _, token = first.create_token("home", "fleet")
    first.start()
    second.start()
    per_hub = 50
    welcomes, failures = [], []
    lock = threading.Lock()

    def join(hub, index):
        try:
            agent = Agent(hub, "home", token, name=f"n{index}")
            welcome = agent.join()
            with lock:
                welcomes.append((agent.public_key, welcome["self"]["ipv4"], welcome["self"]["ipv6"]))
            agent.close()
        except Exception as error:  # noqa: BLE001 (reported below with the others)
            with lock:
                failures.append(repr(error))

    threads = [threading.Thread(target=join, args=(hub, index)) for index in range(per_hub) for hub in (first, second)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    print(f"{len(welcomes)} joins through two hubs on one PostgreSQL database in {time.monotonic() - started:.2f} s")
    assert not failures, failures[:5]
    assert len(welcomes) == 2 * per_hub
    assert len({ipv4 for _, ipv4, _ in welcomes}) == 2 * per_hub, "an IPv4 address was handed out twice"
    assert len({ipv6 for _, _, ipv6 in welcomes}) == 2 * per_hub, "an IPv6 address was handed out twice"
    peers = first.cli("peer", "list", "home").stdout
    assert sum(1 for key, _, _ in welcomes if key in peers) == 2 * per_hub


def test_postgres_going_away_refuses_joins_and_coming_back_serves_them(pg_hubs, postgres, tmp_path):
    # A server of this test's own, so that stopping it leaves the module's server to the other tests.
    own = PostgresServer()
    try:
        (hub,) = pg_hubs(1, database=own.create_database())
        hub.create_network("home")
        _, token = hub.create_token("home", "t")
        hub.start()
        a = joined(hub, token, "a")
        b = joined(hub, token, "b")
        a.expect("peer_joined")
        own.stop()
        started = time.monotonic()
        refused = Agent(hub, "home", token, name="c")
        refused.connect()
        assert refused.expect("error")["code"] == "internal_error"
        assert refused.expect_closed() == 1011
        assert hub.process.poll() is None, "the hub survives"
        assert hub.wait_for_log("cannot reach PostgreSQL postgres://postgres@127.0.0.1.*storage failure"), "\n".join(hub.log_lines[-8:])
        assert not any("password" in line.lower() for line in hub.log_lines)
        # Connected agents keep relaying through the hub.
        a.signal("offer", b.public_key)
        assert b.expect("offer", skip=("peer_left", "peer_joined"))["from"] == a.public_key
        # The router polls storage four times a second; the outage is logged at its start, not on every tick.
        time.sleep(2)
        polls = [line for line in hub.log_lines if "cannot poll storage for changes" in line]
        assert 1 <= len(polls) <= 2, "\n".join(polls)
        own.start()

        def join_succeeds():
            try:
                return joined(hub, token, "c")
            except (AssertionError, ConnectionClosed, InvalidStatus, TimeoutError):
                return None

        c = eventually(join_succeeds, timeout=30, interval=0.5)
        assert c is not None, "joins did not succeed after PostgreSQL came back:\n" + "\n".join(hub.log_lines[-20:])
        print(f"PostgreSQL stopped and started: joins served again {time.monotonic() - started:.2f} s after the stop")
        assert hub.wait_for_log("storage answers again"), "\n".join(hub.log_lines[-8:])
        assert c.welcome["self"]["ipv4"] not in (a.welcome["self"]["ipv4"], b.welcome["self"]["ipv4"])
    finally:
        own.destroy()


def test_unreachable_database_at_start_is_a_clear_error(tmp_path):
    hub = Hub(tmp_path / "state", database="postgres://rift:hunter2@127.0.0.1:1/hub")
    with pytest.raises(AssertionError) as failure:
        hub.start(timeout=20)
    log = str(failure.value)
    assert "127.0.0.1" in log and "port 1" in log
    assert "hunter2" not in log
    result = hub.cli("network", "list", check=False)
    assert result.returncode != 0 and "127.0.0.1" in result.stderr and "hunter2" not in result.stderr
