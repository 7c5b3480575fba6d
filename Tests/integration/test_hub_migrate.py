"""`riftgate-hub migrate --to postgres://…` (issue 14): a single hub's SQLite state, built with the admin CLI and real
joins, copied into an empty PostgreSQL database; a hub started on that database then serves the same agents with the
SAME addresses and names, keeps refusing what was revoked, gives a new peer a fresh address, and the admin CLI prints
against PostgreSQL exactly what it printed against SQLite. Also: the copy is refused while a hub serves the state
directory and into a non-empty database, and the URL's password is never printed."""
import subprocess

import pytest
from hubharness import HUB_BIN, Hub
from rgclient import Agent

PASSWORD = "s3cret-Migrate-pw"
OPTIONS = ("--ping-interval", "1", "--pong-timeout", "3")
POLICY = "# lab policy\nserver -> server:tcp/22\n"
# Every listing the admin CLI has; each must read the same from both databases.
LISTINGS = (("network", "list"), ("peer", "list", "home"), ("peer", "list", "lab"), ("token", "list", "home"),
            ("token", "list", "lab"), ("route", "list", "home"), ("policy", "show", "lab"))


def join(hub, network, token, name, key=None, routes=None, exit_node=None):
    """A v5 agent (routes and exit nodes need it) joined to `network`; its welcome in `.welcome`."""
    agent = Agent(hub, network, token, name=name, key=key).connect()
    agent.read_challenge()
    agent.hello(version=5, routes=routes, exit_node=exit_node)
    agent.welcome = agent.expect("welcome")
    return agent


def migrate(state_dir, url):
    result = subprocess.run([HUB_BIN, "migrate", "--state-dir", str(state_dir), "--to", url], capture_output=True,
                            text=True, timeout=60)
    assert PASSWORD not in result.stdout + result.stderr, "the password was printed"
    return result


def build_sqlite_state(hub, tmp_path):
    """Networks, tokens (a limited, a tagged, a revoked one), joined peers, a rename, tags, a revoked peer, an approved
    route and exit node, a policy. Returns the agents' keys and welcomes by name, and the revoked token."""
    hub.create_network("home")
    hub.create_network("lab", "--dns-suffix", "corp.example", "--max-peers", "50")
    _, token = hub.create_token("home", "fleet")
    _, limited = hub.create_token("home", "phones", "--max-keys", "2", "--tag", "phone")
    revoked_id, revoked = hub.create_token("home", "old-laptop")
    _, lab_token = hub.create_token("lab", "servers", "--tag", "server", "--expires", "30d")
    (tmp_path / "policy.txt").write_text(POLICY)
    hub.cli("policy", "set", "lab", str(tmp_path / "policy.txt"))
    hub.start()
    agents = {
        "router": join(hub, "home", token, "router", routes=["192.168.7.0/24"], exit_node=True),
        "desk": join(hub, "home", token, "desk"),
        "phone": join(hub, "home", limited, "phone"),
        "gone": join(hub, "home", revoked, "gone"),
        "stolen": join(hub, "home", token, "stolen"),
        "srv": join(hub, "lab", lab_token, "srv"),
    }
    hub.cli("peer", "rename", "home", "desk", "Front Desk", "--dns-name", "front")
    hub.cli("peer", "tag", "home", "phone", "--tag", "phone", "--tag", "mobile")
    hub.cli("route", "approve", "home", "router", "192.168.7.0/24")
    hub.cli("route", "approve", "home", "router", "exit-node")
    hub.cli("token", "revoke", "home", revoked_id)
    hub.cli("peer", "revoke", "home", agents["stolen"].public_key)
    agents["stolen"].expect_closed(10)
    for agent in agents.values():
        agent.close()
    return agents, {"home": token, "limited": limited, "revoked": revoked, "lab": lab_token}


def test_migrate_copies_sqlite_state_and_a_postgres_hub_serves_it_unchanged(postgres, tmp_path):
    state = tmp_path / "state"
    sqlite_hub = Hub(state, OPTIONS)
    target = postgres.create_database()
    with_password = target.replace("postgres@", f"postgres:{PASSWORD}@", 1)
    try:
        agents, tokens = build_sqlite_state(sqlite_hub, tmp_path)
        refused = migrate(state, with_password)
        assert refused.returncode != 0 and "a hub is serving from" in refused.stderr, refused.stderr
    finally:
        sqlite_hub.stop()
    before = {listing: sqlite_hub.cli(*listing).stdout for listing in LISTINGS}

    result = migrate(state, with_password)
    assert result.returncode == 0, result.stderr
    print("\n" + result.stdout)
    lines = result.stdout.splitlines()
    assert "postgres:***@127.0.0.1" in lines[0], lines[0]
    copied = {line.split(":")[0].strip(): int(line.split(":")[1].split()[0]) for line in lines[1:-2]}
    assert copied["networks"] == 2 and copied["peers"] == 6 and copied["tokens"] == 4, copied
    assert copied["policies"] == 1 and copied["approved_routes"] == 1 and copied["exit_nodes"] == 1, copied
    assert copied["token_limits"] == 1 and copied["token_keys"] == 1 and copied["peer_tags"] >= 1, copied
    # Every table of the hub's schema is copied: the PostgreSQL schema's tables except its own bookkeeping.
    tables = set(postgres.psql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
                               database=target.rsplit("/", 1)[1]).split())
    assert set(copied) == tables - {"schema_migrations", "change_marker"}, (set(copied), tables)

    again = migrate(state, with_password)
    assert again.returncode != 0 and "is not empty" in again.stderr and "peers (6 rows)" in again.stderr, again.stderr

    pg_hub = Hub(state, OPTIONS, database=target)  # the same state directory: the same hub key
    after = {listing: pg_hub.cli(*listing).stdout for listing in LISTINGS}
    for listing in LISTINGS:
        assert after[listing] == before[listing], f"{' '.join(listing)} differs:\n{before[listing]}\n---\n{after[listing]}"

    try:
        pg_hub.start()
        rejoined = {
            "router": join(pg_hub, "home", tokens["home"], "router", key=agents["router"].key, routes=["192.168.7.0/24"], exit_node=True),
            "desk": join(pg_hub, "home", tokens["home"], "desk", key=agents["desk"].key),
            "phone": join(pg_hub, "home", tokens["limited"], "phone", key=agents["phone"].key),
            "srv": join(pg_hub, "lab", tokens["lab"], "srv", key=agents["srv"].key),
        }
        # The same addresses and names; what changed on SQLite after the first welcome shows now: the rename, the approvals.
        changed = {"desk": {"name": "Front Desk", "dns_name": "front"}, "router": {"routes": ["192.168.7.0/24"], "exit_node": True}}
        for name, agent in rejoined.items():
            assert agent.welcome["self"] == agents[name].welcome["self"] | changed.get(name, {}), name
        # The revoked token and the revoked key stay refused.
        refused_token = Agent(pg_hub, "home", tokens["revoked"], name="gone").connect()
        refused_token.expect_error("unauthorized")
        refused_key = Agent(pg_hub, "home", tokens["home"], name="stolen", key=agents["stolen"].key).connect()
        refused_key.read_challenge()
        refused_key.hello(version=5)
        refused_key.expect_error("peer_revoked")
        # A new peer gets a fresh address, unique across every peer the SQLite hub admitted.
        fresh = join(pg_hub, "home", tokens["home"], "fresh")
        old = {agent.welcome["self"]["ipv4"] for agent in agents.values()} | {agent.welcome["self"]["ipv6"] for agent in agents.values()}
        assert fresh.welcome["self"]["ipv4"] not in old and fresh.welcome["self"]["ipv6"] not in old, fresh.welcome["self"]
        for agent in (*rejoined.values(), fresh):
            agent.close()
    finally:
        pg_hub.stop()


def test_migrate_refuses_a_missing_state_and_a_non_postgres_target(postgres, tmp_path):
    missing = migrate(tmp_path / "nothing-here", postgres.create_database())
    assert missing.returncode != 0 and "no hub database at" in missing.stderr, missing.stderr
    hub = Hub(tmp_path / "state")
    hub.create_network("home")
    wrong = migrate(tmp_path / "state", str(tmp_path / "other.db"))
    assert wrong.returncode != 0 and "must be a PostgreSQL URL" in wrong.stderr, wrong.stderr
