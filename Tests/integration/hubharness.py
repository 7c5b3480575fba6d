"""Starts and drives the real `riftgate-hub` binary for the integration tests.

Nothing is built here: the binary comes from $RIFTGATE_BIN_DIR (default .build/debug, relative to the
repository root). Every wait is bounded.
"""
import json
import os
import re
import resource
import signal
import subprocess
import threading
import time
import urllib.request

import riftproto

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.path.join(REPO_ROOT, os.environ.get("RIFTGATE_BIN_DIR", ".build/debug"))
HUB_BIN = os.path.join(BIN_DIR, "riftgate-hub")

LISTENING = "riftgate-hub listening"


def _port(line, key):
    match = re.search(key + r"=(?:\S+:)?(\d+)\b", line)
    return int(match.group(1)) if match else None


class Hub:
    """One `riftgate-hub` process with its own state directory, on ephemeral ports of 127.0.0.1."""

    def __init__(self, state_dir, extra_args=(), env=None, database=None):
        self.state_dir = str(state_dir)
        self.database = database  # --database for serve and the CLI (a PostgreSQL URL), else <state_dir>/hub.db
        self.extra_args = list(extra_args)
        self.env = dict(os.environ, **(env or {}))
        self.process = None
        self.log_lines = []
        self.port = self.stun_port = self.admin_port = None
        self.scheme = "ws"
        self.ssl_context = None  # for wss: an ssl.SSLContext trusting the hub's certificate
        self.listen = "127.0.0.1:0"
        self.open_files = None  # RLIMIT_NOFILE (soft and hard) for the server process; None: inherited

    # --- administration through the same binary -------------------------------------------------
    def cli(self, *args, check=True):
        """Runs `riftgate-hub ARGS --state-dir DIR` and returns the completed process."""
        database = ["--database", self.database] if self.database else []
        result = subprocess.run([HUB_BIN, *args, "--state-dir", self.state_dir, *database], capture_output=True, text=True,
                                timeout=30, env=self.env)
        if check and result.returncode != 0:
            raise AssertionError(f"riftgate-hub {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def create_network(self, name, *args):
        self.cli("network", "create", name, *args)

    def create_token(self, network, label="test", *options):
        """Creates a token (with extra `token create` options, e.g. "--single-use") and returns (id, token text)."""
        out = self.cli("token", "create", network, "--label", label, *options).stdout
        token = re.search(r"^(rgt_\S+)$", out, re.M).group(1)
        token_id = re.search(r"Created token (\S+) ", out).group(1)
        return token_id, token

    # --- the server -------------------------------------------------------------------------------
    def start(self, timeout=20):
        args = [HUB_BIN, "serve", "--state-dir", self.state_dir, "--listen", self.listen, "--stun-port", "0",
                "--admin-listen", "127.0.0.1:0", "--log-level", "debug", *self.extra_args]
        if self.database:
            args += ["--database", self.database]
        self.log_lines = []
        limit = self.open_files
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=self.env,
                                        preexec_fn=(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
                                        if limit else None)
        listening = threading.Event()

        def pump():
            for line in self.process.stderr:
                self.log_lines.append(line.rstrip("\n"))
                if LISTENING in line:
                    self.admin_port, self.stun_port = _port(line, "admin"), _port(line, "stun_port")
                    url = re.search(r"url=(wss?)://\S+?:(\d+)/", line)
                    self.scheme, self.port = url.group(1), int(url.group(2))
                    listening.set()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not listening.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("hub did not start:\n" + "\n".join(self.log_lines))
        while time.monotonic() < deadline:
            try:
                if self.http("/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError("hub never became healthy:\n" + "\n".join(self.log_lines))

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops the hub (SIGTERM by default) and returns its exit status; kills it if it hangs."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        status = self.process.returncode
        self.process = None
        return status

    def url(self, network):
        return f"{self.scheme}://127.0.0.1:{self.port}{riftproto.network_path(network)}"

    def http(self, path, admin=False):
        port = self.admin_port if admin else self.port
        scheme = "https" if self.scheme == "wss" and not admin else "http"
        try:
            with urllib.request.urlopen(f"{scheme}://127.0.0.1:{port}{path}", timeout=5, context=self.ssl_context) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def metrics(self, admin=True):
        """The /metrics page (served on the admin listener only) as {'name{labels}': value}."""
        status, body = self.http("/metrics", admin=admin)
        assert status == 200
        values = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    def wait_for_log(self, pattern, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(re.search(pattern, line) for line in self.log_lines):
                return True
            time.sleep(0.05)
        return False


def eventually(condition, timeout=5.0, interval=0.05):
    """Polls `condition` until it is truthy or `timeout` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
