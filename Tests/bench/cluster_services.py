"""What a hub-cluster benchmark runs besides the hubs: one PostgreSQL server (with pg_stat_statements) and a 3-node
nats-server cluster, both from the integration tests' helpers (Tests/integration/pgserver.py, natscluster.py), plus
the counters read from them: statements and transactions (PostgreSQL), messages (NATS `/varz`) and the CPU and
memory of every process involved (/proc).

Networks and tokens are written straight into the bench database (thousands of `network create` / `token create`
runs would take minutes): the schema comes from the hub's own CLI (one network and one token created with it), and
each extra token is `rgt_` + 43 base64url characters stored as its BLAKE2b-256 hash, as `BearerToken` does; the CLI's
token is checked against that rule first, so a change of the hashing fails loudly here instead of every join.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

from natscluster import NATSCluster  # noqa: E402,F401  (re-exported for cluster_bench)
from natscluster import SERVER as NATS_SERVER  # noqa: E402,F401
from pgserver import PostgresServer, PostgresUnavailable  # noqa: E402,F401
from procstats import ProcessSample  # noqa: E402

TOKEN = re.compile(r"rgt_[A-Za-z0-9_-]{43}")


def token_hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=32).hexdigest()


def new_token() -> str:
    return "rgt_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def start_postgres() -> PostgresServer:
    """A throwaway server with pg_stat_statements preloaded (set with ALTER SYSTEM, then a restart)."""
    server = PostgresServer()
    try:
        server.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        server.stop()
        server.start()
        server.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    except BaseException:
        server.destroy()
        raise
    return server


def seed_networks(server: PostgresServer, hub_binary: str, scratch: str, networks: int) -> tuple[str, list[dict]]:
    """A new database holding networks bench-00000… with one token each; returns (its URL, [{network, token}])."""
    url = server.create_database()
    database = url.rsplit("/", 1)[1]
    state = os.path.join(scratch, "cli-state")
    os.makedirs(state, exist_ok=True)
    cli = lambda *args: subprocess.run([hub_binary, *args, "--state-dir", state, "--database", url], check=True,
                                       capture_output=True, text=True, timeout=60).stdout
    cli("network", "create", "bench-00000")
    first = TOKEN.search(cli("token", "create", "bench-00000", "--label", "bench")).group(0)
    stored = server.psql("SELECT hash FROM tokens WHERE network = 'bench-00000'", database).strip()
    if stored != token_hash(first):
        raise RuntimeError("the hub no longer stores BLAKE2b-256 of the token text: update cluster_services.token_hash")
    tokens = [{"network": "bench-00000", "token": first}]
    rows = []
    for index in range(1, networks):
        name, text = f"bench-{index:05d}", new_token()
        tokens.append({"network": name, "token": text})
        rows.append(f"{name}\t{'t' + secrets.token_hex(8)}\t{token_hash(text)}")
    if rows:
        copy = "\n".join(row for row in rows) + "\n"
        sql = ("BEGIN;"
               "INSERT INTO networks (name, ipv4_prefix, ipv6_prefix, max_peers, created_at, dns_suffix) "
               f"SELECT 'bench-' || lpad(i::text, 5, '0'), ipv4_prefix, ipv6_prefix, max_peers, created_at, dns_suffix "
               f"FROM networks, generate_series(1, {networks - 1}) AS i WHERE name = 'bench-00000';"
               "CREATE TEMP TABLE seed (network text, id text, hash text);"
               "COPY seed FROM STDIN;\n" + copy + "\\.\n"
               "INSERT INTO tokens (id, network, label, hash, created_at) "
               "SELECT seed.id, seed.network, 'bench', seed.hash, t.created_at FROM seed, "
               "(SELECT created_at FROM tokens WHERE network = 'bench-00000') AS t;"
               "COMMIT;")
        result = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "-d", database,
                                 "-v", "ON_ERROR_STOP=1", "-q"], input=sql, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"seeding the bench database failed: {result.stderr}")
    return url, tokens


class PostgresCounters:
    """Statements (pg_stat_statements: immediate) and transactions (pg_stat_database: flushed by each backend about
    once a second, so read them over windows of several seconds) of one database, and its server's CPU."""

    def __init__(self, server: PostgresServer, url: str):
        self.server = server
        self.database = url.rsplit("/", 1)[1]
        with open(os.path.join(server.directory, "data", "postmaster.pid")) as handle:
            self.postmaster = int(handle.readline())

    def snapshot(self) -> dict:
        rows = self.server.psql(
            "SELECT s.calls, s.query FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
            f"WHERE d.datname = '{self.database}'")
        statements: dict[str, int] = {}
        for line in rows.splitlines():
            calls, _, query = line.partition("|")
            if calls.isdigit():
                key = " ".join(query.split())[:160]
                statements[key] = statements.get(key, 0) + int(calls)
        commits = self.server.psql(
            f"SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = '{self.database}'").strip()
        commit, rollback = (int(value) for value in commits.split("|"))
        return {"time": time.monotonic(), "statements": statements, "xact_commit": commit, "xact_rollback": rollback,
                "cpu_s": self.cpu_seconds()}

    def activity(self) -> dict[str, int]:
        """What the database's sessions are doing right now: "active", "idle", "idle in transaction", or what an
        active one waits for ("Lock:advisory", "IO:WALWrite", …)."""
        rows = self.server.psql(
            "SELECT state, coalesce(wait_event_type || ':' || wait_event, '') FROM pg_stat_activity "
            f"WHERE datname = '{self.database}' AND pid <> pg_backend_pid()")
        counts: dict[str, int] = {}
        for line in rows.splitlines():
            state, _, wait = line.partition("|")
            key = f"{state} ({wait})" if wait and state == "active" else state
            counts[key] = counts.get(key, 0) + 1
        return counts

    def cpu_seconds(self) -> float:
        """CPU of the postmaster and every process it started that is still alive (backends, writers)."""
        total = 0.0
        for pid in [self.postmaster, *children(self.postmaster)]:
            try:
                total += ProcessSample(pid).sample().cpu
            except (OSError, ValueError):
                pass
        return total

    @staticmethod
    def delta(before: dict, after: dict) -> dict:
        statements = {query: after["statements"].get(query, 0) - before["statements"].get(query, 0)
                      for query in after["statements"]}
        statements = {query: calls for query, calls in statements.items() if calls > 0}
        return {"seconds": after["time"] - before["time"], "statements": sum(statements.values()),
                "by_statement": dict(sorted(statements.items(), key=lambda item: -item[1])),
                "xact_commit": after["xact_commit"] - before["xact_commit"],
                "xact_rollback": after["xact_rollback"] - before["xact_rollback"],
                "cpu_s": after["cpu_s"] - before["cpu_s"]}


def children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == parent:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


class NATSCounters:
    """Messages counted by every node of the NATS cluster (`/varz` in_msgs / out_msgs, which count route hops too:
    a message published on node 1 for a subscriber on node 2 is in+out on node 1 and in+out on node 2) and the nodes'
    CPU and memory."""

    def __init__(self, cluster: NATSCluster):
        self.nodes = cluster.nodes

    def snapshot(self) -> dict:
        nodes = []
        for node in self.nodes:
            with urllib.request.urlopen(f"http://127.0.0.1:{node['monitor']}/varz", timeout=5) as response:
                varz = json.load(response)
            sample = ProcessSample(node["process"].pid).sample()
            nodes.append({"in_msgs": varz["in_msgs"], "out_msgs": varz["out_msgs"], "in_bytes": varz["in_bytes"],
                          "out_bytes": varz["out_bytes"], "cpu_s": sample.cpu, "rss_kib": sample.rss_kib,
                          "connections": varz.get("connections"), "subscriptions": varz.get("subscriptions")})
        return {"time": time.monotonic(), "nodes": nodes}

    @staticmethod
    def delta(before: dict, after: dict) -> dict:
        pairs = list(zip(before["nodes"], after["nodes"]))
        total = lambda key: sum(b2[key] - b1[key] for b1, b2 in pairs)
        return {"seconds": after["time"] - before["time"], "in_msgs": total("in_msgs"), "out_msgs": total("out_msgs"),
                "in_bytes": total("in_bytes"), "out_bytes": total("out_bytes"), "cpu_s": total("cpu_s"),
                "rss_kib": [node["rss_kib"] for node in after["nodes"]],
                "subscriptions": [node["subscriptions"] for node in after["nodes"]]}
