"""A throwaway PostgreSQL server for the integration tests, through the one helper script every test uses
(Tests/support/postgres-test-server.sh): started once per test module, removed at its end. With `netns` the server
runs (and listens on 127.0.0.1) inside that network namespace, for hubs that run there (Tests/e2e/test_hub_failover.py),
the way natscluster.py's nodes do."""
import os
import shutil
import subprocess
import tempfile
import uuid

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(REPO_ROOT, "Tests", "support", "postgres-test-server.sh")
ABSENT = 77


class PostgresUnavailable(Exception):
    """The server binaries are not installed (the tests skip with this reason)."""


class PostgresServer:
    """One server in a temporary directory on a free loopback port (of `netns`, when given); `create_database()`
    gives each test its own."""

    def __init__(self, netns=None):
        self.inside = ["ip", "netns", "exec", netns] if netns else []
        self.directory = tempfile.mkdtemp(prefix="riftgate-pg-")
        try:
            self.port = int(self._script("start", str(os.getpid())))
        except PostgresUnavailable:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise

    def _script(self, command, *extra):
        result = subprocess.run([*self.inside, "/bin/sh", SCRIPT, command, self.directory, *extra], capture_output=True,
                                text=True, timeout=120)
        if result.returncode == ABSENT:
            raise PostgresUnavailable(result.stderr.strip())
        if result.returncode != 0:
            raise AssertionError(f"postgres-test-server.sh {command} failed: {result.stderr}")
        return result.stdout.strip()

    def url(self, database="postgres", user="postgres", password=None):
        credentials = user + (f":{password}" if password else "")
        return f"postgres://{credentials}@127.0.0.1:{self.port}/{database}"

    def create_database(self):
        name = "it_" + uuid.uuid4().hex[:12]
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def psql(self, sql, database="postgres"):
        result = subprocess.run([*self.inside, "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
                                 "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise AssertionError(f"psql failed: {result.stderr}")
        return result.stdout

    def stop(self):
        self._script("stop")

    def start(self):
        self._script("start")

    def destroy(self):
        self._script("destroy")
