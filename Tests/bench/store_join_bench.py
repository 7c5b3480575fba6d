"""Join latency on each store: SQLite (the single hub) against PostgreSQL (a hub of a cluster), same binary, same
client, sequential joins of new keys (each one allocates an address and writes a peer). Prints figures, asserts
nothing. Not part of `make bench` yet (the cluster benchmark of issue 14 will take it over).

    RIFTGATE_BIN_DIR=$(swift build -c release --show-bin-path) .venv/bin/python Tests/bench/store_join_bench.py [JOINS]

PostgreSQL is the throwaway test server (Tests/support/postgres-test-server.sh: loopback, fsync off), so the figure
is the hub's and the protocol's cost, not a durable commit's."""
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "protoclient"))

from hubharness import Hub  # noqa: E402
from pgserver import PostgresServer  # noqa: E402
from rgclient import Agent  # noqa: E402


def measure(hub, joins):
    hub.create_network("home", "--max-peers", str(max(joins, 1)))
    _, token = hub.create_token("home", "bench")
    hub.start()
    try:
        times = []
        for index in range(joins):
            agent = Agent(hub, "home", token, name=f"n{index}")
            started = time.perf_counter()
            agent.join()
            times.append((time.perf_counter() - started) * 1000)
            agent.close()
    finally:
        hub.stop()
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.99) - 1)]


def main():
    joins = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    directory = tempfile.mkdtemp(prefix="store-bench-")
    sqlite = measure(Hub(os.path.join(directory, "sqlite")), joins)
    server = PostgresServer()
    try:
        postgres = measure(Hub(os.path.join(directory, "postgres"), database=server.create_database()), joins)
    finally:
        server.destroy()
    print(f"join of a new key ({joins}, sequential): SQLite p50 {sqlite[0]:.2f} ms p99 {sqlite[1]:.2f} ms; "
          f"PostgreSQL p50 {postgres[0]:.2f} ms p99 {postgres[1]:.2f} ms")


if __name__ == "__main__":
    main()
