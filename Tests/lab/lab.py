"""A network lab built from Linux network namespaces, veth pairs and bridges on this one machine.

Every name carries a per-run prefix, so labs never collide, and `Lab.close()` removes everything it made (processes
first, then namespaces) even after a failure; use it as a context manager. Addresses come only from the documentation
ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), so no traffic can leave for a real network: the namespaces
have no route out of the lab.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field


def run(*args: str, check: bool = True, timeout: float = 30, **kwargs) -> subprocess.CompletedProcess:
    """Runs a command, failing with its stderr when it fails."""
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
    return result


def wait_for(condition, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Polls `condition` until it returns a truthy value or `timeout` seconds pass; returns the value or raises."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - kept for the timeout message
            last_error = error
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))


def can_build_labs() -> str | None:
    """Why this machine cannot build labs, or None when it can (root, iproute2, namespaces)."""
    if os.geteuid() != 0:
        return "network namespaces need root (run the tests as root, as CI does)"
    if shutil.which("ip") is None:
        return "iproute2 (`ip`) is not installed; run deploy/install-deps.sh"
    probe = f"rgprobe{secrets.token_hex(3)}"
    result = run("ip", "netns", "add", probe, check=False)
    if result.returncode != 0:
        return f"cannot create network namespaces here: {result.stderr.strip()}"
    run("ip", "netns", "del", probe, check=False)
    return None


@dataclass
class Host:
    """One namespace standing in for a machine."""
    lab: "Lab"
    name: str          # short role name, e.g. "a"
    netns: str         # namespace name
    address: str = ""  # its address on the lab network

    def exec(self, *args: str, check: bool = True, timeout: float = 30, input: str | None = None) -> subprocess.CompletedProcess:
        """Runs a command in this namespace and waits for it (bounded by `timeout`)."""
        return run("ip", "netns", "exec", self.netns, *args, check=check, timeout=timeout, input=input)

    def nft(self, script: str) -> None:
        """Loads an nftables script (`nft -f -`) into this namespace; rules and conntrack are per namespace."""
        self.exec("nft", "-f", "-", input=script)

    def sysctl(self, key: str, value: str) -> None:
        """Sets a per-namespace sysctl such as net.ipv4.ip_forward."""
        self.exec("sysctl", "-qw", f"{key}={value}")

    def spawn(self, *args: str, log: str, env: dict | None = None) -> subprocess.Popen:
        """Starts a long-running process in this namespace, logging to `log`; the lab stops it on close."""
        handle = open(log, "ab")
        process = subprocess.Popen(["ip", "netns", "exec", self.netns, *args], stdout=handle, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})}, start_new_session=True)
        self.lab.processes.append((process, handle))
        return process

    def ping(self, target: str, count: int = 1, size: int | None = None, dont_fragment: bool = False,
             wait: float = 1) -> bool:
        args = ["ping", "-c", str(count), "-W", str(int(max(1, wait))), "-i", "0.2"]
        if size is not None:
            args += ["-s", str(size)]
        if dont_fragment:
            args += ["-M", "do"]
        return self.exec(*args, target, check=False, timeout=count * 2 + wait + 5).returncode == 0

    def first_answer(self, target: str, within: int, interval: float = 0.05) -> bool:
        """Pings every `interval` seconds until one answer comes back (True) or `within` seconds pass (False).

        One ping at a time waits its whole timeout when it was sent a moment too early (before the tunnel had a
        path, say), so a connect time measured that way comes out up to a second late; a stream of pings does not.
        """
        args = ["ping", "-c", "1", "-i", str(interval), "-w", str(within), target]
        return self.exec(*args, check=False, timeout=within + 5).returncode == 0

    def wait_for_answer(self, target: str, timeout: float, what: str) -> float:
        """Pings as a stream (`first_answer`, in slices of at most 5 s) until one answer comes back; returns the
        seconds it took, or raises TimeoutError after `timeout`."""
        started = time.monotonic()

        def answered() -> bool:
            left = timeout - (time.monotonic() - started)
            return self.first_answer(target, within=max(1, min(5, int(left))))
        wait_for(answered, timeout=timeout, interval=0.05, what=what)
        return time.monotonic() - started


@dataclass
class Lab:
    """A set of namespaces wired together; close() undoes everything."""
    prefix: str = field(default_factory=lambda: "rg" + secrets.token_hex(2))
    hosts: dict = field(default_factory=dict)
    namespaces: list = field(default_factory=list)
    processes: list = field(default_factory=list)
    veths: int = 0
    # riftgate and riftgate-hub processes that close() stopped with SIGTERM and that exited other than with 0:
    # (command line, exit status), for the test fixtures to report (a crash at shutdown would otherwise pass unseen).
    unclean_exits: list = field(default_factory=list)

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def namespace(self, role: str) -> str:
        name = f"{self.prefix}-{role}"
        run("ip", "netns", "add", name)
        self.namespaces.append(name)
        # A hosts file of its own: `ip netns exec` bind-mounts /etc/netns/<name>/hosts over /etc/hosts, so an agent's
        # name block (names = auto falls back to /etc/hosts without systemd-resolved) lands there, never in this
        # machine's /etc/hosts.
        os.makedirs(netns_etc(name), exist_ok=True)
        shutil.copyfile("/etc/hosts", os.path.join(netns_etc(name), "hosts"))
        run("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        return name

    def add_host(self, role: str) -> Host:
        host = Host(self, role, self.namespace(role))
        self.hosts[role] = host
        return host

    def bridge(self, role: str) -> Host:
        """A namespace holding a bridge `br0`, the lab's switch."""
        switch = self.add_host(role)
        switch.exec("ip", "link", "add", "br0", "type", "bridge")
        switch.exec("ip", "link", "set", "br0", "up")
        return switch

    def plug(self, host: Host, switch: Host, address: str, device: str = "eth0") -> None:
        """Connects `host` to `switch`'s bridge with a veth pair and gives it `address` (CIDR)."""
        # veth pairs are created in the root namespace, so their names must be unique on the machine: prefix + counter.
        self.veths += 1
        outside, inside = f"{self.prefix}v{self.veths}", f"{self.prefix}v{self.veths}p"
        run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
        run("ip", "link", "set", outside, "netns", switch.netns)
        run("ip", "link", "set", inside, "netns", host.netns)
        host.exec("ip", "link", "set", inside, "name", device)
        host.exec("ip", "addr", "add", address, "dev", device)
        host.exec("ip", "link", "set", device, "up")
        switch.exec("ip", "link", "set", outside, "master", "br0")
        switch.exec("ip", "link", "set", outside, "up")
        if not host.address:
            host.address = address.split("/")[0]

    def close(self) -> None:
        """Stops every process the lab started and deletes every namespace (and so every veth and bridge)."""
        terminated = []
        for process, _ in self.processes:
            if process.poll() is None:
                terminated.append(process)
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for process, handle in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=5)
            handle.close()
            if process in terminated and process.returncode != 0 and _is_riftgate(process.args):
                self.unclean_exits.append((" ".join(process.args[4:]), process.returncode))
        for name in reversed(self.namespaces):
            pids = run("ip", "netns", "pids", name, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            run("ip", "netns", "del", name, check=False)
            shutil.rmtree(netns_etc(name), ignore_errors=True)
        # A veth pair is created in the root namespace before it is moved: remove any a failure left there.
        for line in run("ip", "-o", "link", "show", check=False).stdout.splitlines():
            name = line.split(":")[1].strip().split("@")[0] if line.count(":") >= 2 else ""
            if name.startswith(f"{self.prefix}v"):
                run("ip", "link", "del", name, check=False)
        self.namespaces.clear()
        self.processes.clear()


def _is_riftgate(args) -> bool:
    """Whether a spawned command line (`ip netns exec NS PROGRAM …`: PROGRAM is the 5th word) runs riftgate or riftgate-hub."""
    return len(args) > 4 and os.path.basename(str(args[4])) in ("riftgate", "riftgate-hub")


def netns_etc(namespace: str) -> str:
    """The directory whose files `ip netns exec` mounts over /etc's inside `namespace`."""
    return os.path.join("/etc/netns", namespace)


def lan(lab: Lab, peers: tuple[str, ...] = ("a", "b")) -> dict:
    """LAN topology: the hub and the peers on one bridge, 192.0.2.0/24 (hub .1, peers .10, .20, ...)."""
    switch = lab.bridge("sw")
    hub = lab.add_host("hub")
    lab.plug(hub, switch, "192.0.2.1/24")
    hosts = {"switch": switch, "hub": hub}
    for index, role in enumerate(peers):
        host = lab.add_host(role)
        lab.plug(host, switch, f"192.0.2.{10 * (index + 1)}/24")
        hosts[role] = host
    return hosts
