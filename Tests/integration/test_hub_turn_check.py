"""The hub checks its own TURN credentials against a real coturn on loopback: an allocation with the right secret is
`ok`, with a wrong secret `rejected`, with coturn stopped `unreachable`, each visible on the admin /metrics."""
import os
import secrets
import shutil
import socket
import subprocess
import time

import pytest
from hubharness import eventually

needs_coturn = pytest.mark.skipif(shutil.which("turnserver") is None,
                                  reason="coturn's turnserver is not installed (apt-get install coturn, or run deploy/install-deps.sh)")


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LoopbackCoturn:
    """coturn with a TURN REST secret (use-auth-secret) on 127.0.0.1, UDP only."""

    def __init__(self, directory):
        self.directory = directory
        self.port = free_udp_port()
        self.secret = secrets.token_hex(24)
        self.process = None
        os.makedirs(directory, exist_ok=True)

    @property
    def url(self):
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def secret_file(self, secret=None):
        path = os.path.join(self.directory, "hub-secret" if secret is None else "wrong-secret")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write((secret or self.secret) + "\n")
        return path

    def start(self):
        options = ["use-auth-secret", f"static-auth-secret={self.secret}", "realm=riftgate", "no-tls", "no-dtls", "no-tcp",
                   "no-tcp-relay", "no-cli", "listening-ip=127.0.0.1", "relay-ip=127.0.0.1", f"listening-port={self.port}",
                   "min-port=49152", "max-port=65535", "log-file=stdout", "simple-log", "verbose",
                   f"pidfile={os.path.join(self.directory, 'turnserver.pid')}", f"userdb={os.path.join(self.directory, 'turndb')}"]
        config = os.path.join(self.directory, "turnserver.conf")
        descriptor = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write("\n".join(options) + "\n")
        self.log = open(os.path.join(self.directory, "turnserver.log"), "w")
        self.process = subprocess.Popen(["turnserver", "-c", config], stdout=self.log, stderr=subprocess.STDOUT)
        listening = eventually(self.listening, timeout=15, interval=0.1)
        assert listening, "coturn's UDP listener did not open: " + self.log_text()

    def listening(self):
        out = subprocess.run(["ss", "-Hnlu", f"src 127.0.0.1:{self.port}"], capture_output=True, text=True, timeout=10).stdout
        return f"127.0.0.1:{self.port}" in out

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None
            self.log.close()

    def log_text(self):
        with open(os.path.join(self.directory, "turnserver.log"), errors="replace") as handle:
            return handle.read()[-2000:]


@pytest.fixture
def coturn(tmp_path):
    server = LoopbackCoturn(str(tmp_path / "coturn"))
    server.start()
    yield server
    server.stop()


def turn_hub(hub_factory, coturn, secret_file):
    return hub_factory(("--turn-secret-file", secret_file, "--turn-url", coturn.url, "--turn-check-interval", "1"))


def series(coturn, result=None):
    server = f"127.0.0.1:{coturn.port}"
    if result is None:
        return f'riftgate_hub_turn_check_ok{{server="{server}"}}'
    return f'riftgate_hub_turn_checks_total{{server="{server}",result="{result}"}}'


# Generous bounds: a probe step waits at most 2 s, and the hub checks every second here.
CHECK_TIMEOUT = 60


@needs_coturn
def test_right_secret_is_ok_then_unreachable_when_coturn_stops(hub_factory, coturn):
    hub = turn_hub(hub_factory, coturn, coturn.secret_file())
    assert eventually(lambda: hub.metrics().get(series(coturn, "ok"), 0) >= 1, timeout=CHECK_TIMEOUT), \
        f"{hub.metrics()}\ncoturn log:\n{coturn.log_text()}"
    assert hub.metrics()[series(coturn)] == 1
    assert hub.metrics()[series(coturn, "rejected")] == 0
    # The allocation was released again (Refresh with LIFETIME 0).
    assert eventually(lambda: "lifetime=0" in coturn.log_text(), timeout=CHECK_TIMEOUT), coturn.log_text()
    coturn.stop()
    assert eventually(lambda: hub.metrics().get(series(coturn, "unreachable"), 0) >= 1, timeout=CHECK_TIMEOUT), hub.metrics()
    assert eventually(lambda: hub.metrics()[series(coturn)] == 0, timeout=CHECK_TIMEOUT)
    # The credential never reaches the log.
    assert not any(coturn.secret in line for line in hub.log_lines)


@needs_coturn
def test_wrong_secret_is_rejected(hub_factory, coturn):
    hub = turn_hub(hub_factory, coturn, coturn.secret_file(secrets.token_hex(24)))
    assert eventually(lambda: hub.metrics().get(series(coturn, "rejected"), 0) >= 1, timeout=CHECK_TIMEOUT), \
        f"{hub.metrics()}\ncoturn log:\n{coturn.log_text()}"
    assert hub.metrics()[series(coturn)] == 0
    assert hub.metrics()[series(coturn, "ok")] == 0
    assert hub.wait_for_log(r"TURN check failing.*rejected|rejected.*TURN check failing", timeout=10)


def test_no_turn_no_turn_metrics(hub):
    assert not any(name.startswith("riftgate_hub_turn_") for name in hub.metrics())
