"""A real coturn TURN server inside a lab namespace, sharing a REST-API secret with the hub.

The hub hands agents time-limited TURN credentials derived from the same secret (`--use-auth-secret`), exactly as
in production. coturn listens on UDP 3478 of the host's lab address only and relays from that address; its pid file
and database live in the test's work directory, so several labs can run at once.

With `socket_buffer` set, coturn runs as `deploy/provision-hub.sh --turn` sets it up for Debian 12's coturn 4.6.1:
`deploy/coturn/socket-buffers.c` preloaded, so that its UDP sockets (the relay ports' fixed 64 KiB among them) get at
least that many bytes of buffer.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field

from lab import Host, wait_for

SOCKET_BUFFERS_SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                     "deploy", "coturn", "socket-buffers.c")


def turnserver_missing() -> str | None:
    """Why coturn cannot run here, or None."""
    if shutil.which("turnserver") is None:
        return "coturn's turnserver is not installed (apt-get install coturn, or run deploy/install-deps.sh)"
    return None


@dataclass
class Coturn:
    """coturn serving TURN on `host.address`:3478 (UDP)."""
    host: Host
    workdir: str
    port: int = 3478
    secret: str = field(default_factory=lambda: secrets.token_hex(24))
    socket_buffer: int = 0

    @property
    def directory(self) -> str:
        return os.path.join(self.workdir, "coturn")

    @property
    def secret_file(self) -> str:
        return os.path.join(self.directory, "static-auth-secret")

    @property
    def url(self) -> str:
        return f"turn:{self.host.address}:{self.port}?transport=udp"

    @property
    def tcp_url(self) -> str:
        """The same listener reached over TCP (coturn listens on TCP and UDP unless told not to)."""
        return f"turn:{self.host.address}:{self.port}?transport=tcp"

    @property
    def log_path(self) -> str:
        return os.path.join(self.directory, "turnserver.log")

    def hub_arguments(self) -> tuple[str, ...]:
        """The `riftgate-hub serve` flags that make the hub hand out credentials for this server."""
        return ("--turn-secret-file", self.secret_file, "--turn-url", self.url)

    def start(self) -> None:
        """Writes the shared secret (mode 0600), starts turnserver and waits until its UDP listener is open."""
        os.makedirs(self.directory, exist_ok=True)
        descriptor = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(self.secret + "\n")
        address = self.host.address
        # Options go through a config file so the secret is not on a command line other users can read.
        options = [
            "use-auth-secret", f"static-auth-secret={self.secret}", "realm=riftgate", "no-tls", "no-dtls",
            "no-tcp-relay", "no-cli", "fingerprint", "verbose", f"listening-ip={address}", f"relay-ip={address}",
            f"listening-port={self.port}", "min-port=49152", "max-port=49999", "log-file=stdout", "simple-log",
            f"pidfile={os.path.join(self.directory, 'turnserver.pid')}",
            f"userdb={os.path.join(self.directory, 'turndb')}",
        ]
        config = os.path.join(self.directory, "turnserver.conf")
        descriptor = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write("\n".join(options) + "\n")
        self.host.spawn("turnserver", "-c", config, log=self.log_path, env=self.preload())
        wait_for(self.listening, timeout=15, what="coturn's UDP listener")

    def preload(self) -> dict:
        """The environment that preloads deploy/coturn/socket-buffers.c (built here), or none without socket_buffer."""
        if not self.socket_buffer:
            return {}
        library = os.path.join(self.directory, "coturn-socket-buffers.so")
        subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", library, SOCKET_BUFFERS_SOURCE, "-ldl"], check=True)
        return {"LD_PRELOAD": library, "RIFTGATE_SOCKET_BUFFER": str(self.socket_buffer)}

    def listening(self) -> bool:
        """Whether coturn's UDP socket on address:port is open."""
        sockets = self.host.exec("ss", "-Hnlu", f"src {self.host.address}:{self.port}", check=False).stdout
        return f"{self.host.address}:{self.port}" in sockets

    def log(self) -> str:
        return open(self.log_path, errors="replace").read() if os.path.exists(self.log_path) else ""
