"""Runs real riftgate-hub and riftgate processes inside a `lab.Lab`."""
from __future__ import annotations

import json
import os
import re
import signal
import time
from dataclasses import dataclass

from lab import Host, run, wait_for

TOKEN_PATTERN = re.compile(r"rgt_[A-Za-z0-9_-]{43}")
TOKEN_ID_PATTERN = re.compile(r"Created token (\S+) ")


def bin_dir() -> str:
    """Where the built binaries are (RIFTGATE_BIN_DIR, default .build/debug)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.environ.get("RIFTGATE_BIN_DIR", os.path.join(root, ".build", "debug"))
    return path if os.path.isabs(path) else os.path.join(root, path)


def binary(name: str) -> str:
    """The built program `name`; the agent (`riftgate`) may come from RIFTGATE_AGENT_BIN_DIR instead, so a benchmark
    can run the agent as packaged (static Swift runtime) against the same hub."""
    directory = os.environ.get("RIFTGATE_AGENT_BIN_DIR") if name == "riftgate" else None
    path = os.path.join(directory or bin_dir(), name)
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"{path} is missing: build first (swift build) or set RIFTGATE_BIN_DIR")
    return path


@dataclass
class Hub:
    """A riftgate-hub serving inside `host`."""
    host: Host
    workdir: str
    port: int = 8443
    stun_port: int = 3478

    @property
    def state_dir(self) -> str:
        return os.path.join(self.workdir, "hub-state")

    @property
    def authority(self) -> str:
        """host:port of the hub's listener, an IPv6 address in brackets."""
        address = self.host.address
        return f"[{address}]:{self.port}" if ":" in address else f"{address}:{self.port}"

    @property
    def url(self) -> str:
        return f"ws://{self.authority}"

    def admin(self, *args: str) -> str:
        """Runs an admin subcommand against the hub's state directory; returns its output."""
        return run(binary("riftgate-hub"), *args, "--state-dir", self.state_dir).stdout

    def create_network(self, name: str, *extra: str) -> None:
        self.admin("network", "create", name, *extra)

    def create_token(self, network: str, label: str) -> str:
        return self.create_token_with_id(network, label)[1]

    def create_token_with_id(self, network: str, label: str) -> tuple[str, str]:
        """Creates a token; returns its id (what `token revoke` takes) and its text."""
        output = self.admin("token", "create", network, "--label", label)
        match, created = TOKEN_PATTERN.search(output), TOKEN_ID_PATTERN.search(output)
        if not match or not created:
            raise RuntimeError(f"no token in the output of token create: {output!r}")
        return created.group(1), match.group(0)

    def start(self, *extra: str) -> None:
        os.makedirs(self.state_dir, exist_ok=True)
        self.host.spawn(binary("riftgate-hub"), "serve", "--listen", self.authority,
                        "--state-dir", self.state_dir, "--stun-port", str(self.stun_port), *extra,
                        log=os.path.join(self.workdir, "hub.log"))
        wait_for(self.healthy, timeout=20, what="the hub's /healthz")

    def healthy(self) -> bool:
        probe = ("import urllib.request,sys;"
                 f"sys.exit(0 if urllib.request.urlopen('http://{self.authority}/healthz', timeout=1).status == 200 else 1)")
        return self.host.exec("python3", "-c", probe, check=False, timeout=5).returncode == 0

    def stop(self) -> None:
        """Stops the hub processes in its namespace with SIGTERM (graceful) and waits until it stops answering."""
        self._signal(signal.SIGTERM)
        wait_for(lambda: not self.healthy(), timeout=10, what="the hub to stop")

    def kill(self) -> None:
        """SIGKILLs the hub: it says goodbye to nobody, as in a crash."""
        self._signal(signal.SIGKILL)
        wait_for(lambda: not self.healthy(), timeout=10, what="the hub to die")

    def _signal(self, number: int) -> None:
        for pid in run("ip", "netns", "pids", self.host.netns, check=False).stdout.split():
            try:
                if "riftgate-hub" in open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace"):
                    os.kill(int(pid), number)
            except (FileNotFoundError, ProcessLookupError):
                pass

    def log(self) -> str:
        path = os.path.join(self.workdir, "hub.log")
        return open(path, errors="replace").read() if os.path.exists(path) else ""


@dataclass
class Agent:
    """A riftgate agent inside `host`, with its own config directory and interface name. The directory (config,
    control socket, log) is named after `label`, by default the host's name: a second agent on one host needs its own
    label, or it would be the same agent's configuration (and the agent refuses to start beside itself)."""
    host: Host
    workdir: str
    interface: str
    process: object = None
    label: str | None = None

    @property
    def name(self) -> str:
        return self.label or self.host.name

    @property
    def config(self) -> str:
        return os.path.join(self.workdir, f"agent-{self.name}", "riftgate.toml")

    @property
    def control_socket(self) -> str:
        return os.path.join(self.workdir, f"agent-{self.name}", "control.sock")

    def init(self, hub_url: str | list[str], network: str, token: str) -> None:
        """`riftgate init` for one hub URL, or several (the members of a hub cluster, tried in this order)."""
        hubs = [hub_url] if isinstance(hub_url, str) else hub_url
        hub_options = [option for url in hubs for option in ("--hub", url)]
        run(binary("riftgate"), "init", "--config", self.config, *hub_options, "--network", network,
            "--token", token, "--name", f"laptop-{self.name}", "--interface", self.interface, "--force")
        text = open(self.config).read()
        text = re.sub(r'control_socket = ".*"', f'control_socket = "{self.control_socket}"', text)
        with open(self.config, "w") as handle:
            handle.write(text)

    def start(self, env: dict | None = None) -> None:
        """Starts `riftgate up` (with `env` added to its environment) and waits until its control socket answers (a
        stale socket left by a crash does not)."""
        self.process = self.host.spawn(binary("riftgate"), "up", "--verbose", "--config", self.config,
                                       log=os.path.join(self.workdir, f"agent-{self.name}.log"), env=env)
        wait_for(self.answers, timeout=15, what=f"agent {self.name}'s control socket")

    def answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"agent {self.name} exited with {self.process.returncode}")
        return run(binary("riftgate"), "status", "--json", "--config", self.config, check=False, timeout=10).returncode == 0

    def kill(self) -> None:
        """SIGKILLs the agent, as a crash would: no cleanup of its own (wireguard-go still gets its death signal)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def status(self) -> dict:
        result = run(binary("riftgate"), "status", "--json", "--config", self.config, check=False, timeout=10)
        if result.returncode != 0:
            raise RuntimeError(result.stderr.strip())
        return json.loads(result.stdout)

    def public_key(self) -> str:
        """The agent's public key, once its status has one (right after start the status may still be empty)."""
        return wait_for(lambda: self.status().get("public_key"), timeout=20, what=f"agent {self.name}'s public key")

    def status_text(self) -> str:
        return run(binary("riftgate"), "status", "--config", self.config, check=False, timeout=10).stdout

    def overlay_ipv4(self) -> str:
        return wait_for(lambda: self.status().get("ipv4"), timeout=20, what=f"agent {self.name}'s overlay address")

    def peer(self, public_key: str) -> dict | None:
        return next((p for p in self.status()["peers"] if p["public_key"] == public_key), None)

    def down(self, timeout: float = 15) -> None:
        """`riftgate down`, then waits for the agent to exit, which must be with status 0 (a crash while cleaning up
        would otherwise pass unseen)."""
        run(binary("riftgate"), "down", "--config", self.config, check=False, timeout=10)
        if self.process is not None:
            status = self.process.wait(timeout=timeout)
            if status != 0:
                tail = "\n".join(self.log().splitlines()[-20:])
                raise AssertionError(f"agent {self.name} exited with {status} after `riftgate down`:\n{tail}")

    def log(self) -> str:
        path = os.path.join(self.workdir, f"agent-{self.name}.log")
        return open(path, errors="replace").read() if os.path.exists(path) else ""


def wg_show(host: Host, interface: str) -> str:
    """`wg show <interface> dump` inside the host (talks to wireguard-go's UAPI socket)."""
    return host.exec("wg", "show", interface, "dump", check=False, timeout=10).stdout


def latest_handshakes(host: Host, interface: str) -> dict:
    """Peer public key -> seconds since its last handshake (None if never)."""
    result = {}
    lines = wg_show(host, interface).strip().splitlines()[1:]
    for line in lines:
        fields = line.split("\t")
        if len(fields) >= 5:
            stamp = int(fields[4])
            result[fields[0]] = None if stamp == 0 else max(0, int(time.time()) - stamp)
    return result
