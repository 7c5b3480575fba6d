"""Lab hosts that look like separate computers to the deploy scripts, so the guides' commands can run unchanged.

A `Machine` is a lab namespace plus a private mount namespace in which /etc, /usr/local, /var/lib and /var/log are
copy-on-write overlays of this machine's directories and /run is empty: the scripts can create users, install
binaries and units, write /etc/riftgate-hub and start services as on a fresh Debian VM, and every change vanishes
with the lab. No systemd runs inside (/run/systemd/system is absent), which is what `--no-systemd` is for.

/dev/net/tun gets mode 0666 inside the machine only, as Debian's udev rule sets it on real systems (some VMs and
containers leave it 0600, and then an agent that is not root cannot open it).
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import time

import pytest
from lab import Host, lan, run, wait_for
from riftgate_lab import binary

OVERLAID = ("etc", "usr/local", "var/lib", "var/log")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Shell commands (with $work set) that give the calling mount namespace a machine's file system.
MOUNTS = r"""
for directory in {overlaid}; do
  layer="$work/$(echo "$directory" | tr / _)"
  mkdir -p "$layer/upper" "$layer/work"
  mount -t overlay overlay -o "lowerdir=/$directory,upperdir=$layer/upper,workdir=$layer/work" "/$directory"
done
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p "$work/dev"
mount -t tmpfs -o mode=0755 tmpfs "$work/dev"
mknod -m 0666 "$work/dev/tun" c 10 200
mount --bind "$work/dev/tun" /dev/net/tun
""".format(overlaid=" ".join(OVERLAID))

SETUP = "set -eu\nwork=\"$1\"\n" + MOUNTS + 'touch "$work/ready"\nexec sleep 86400\n'


def run_in_private_filesystem(work: str, script: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs a shell script as root with a machine's file system (overlays in `work`) but this machine's network."""
    os.makedirs(work, exist_ok=True)
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                           "set -eu\nwork=\"$1\"\n" + MOUNTS + script, "machine", work],
                          capture_output=True, text=True, timeout=timeout, env={"PATH": PATH, "HOME": "/root"})


def can_build_machines() -> str | None:
    """Why machines cannot be built here (not root, no overlayfs or mount namespaces), or None."""
    if os.geteuid() != 0:
        return "simulated machines need root (mount namespaces, overlayfs); run the tests as root, as CI does"
    probe = f"/tmp/rgprobe-{secrets.token_hex(3)}"
    os.makedirs(f"{probe}/upper")
    os.makedirs(f"{probe}/work")
    try:
        result = run("unshare", "--mount", "--propagation", "private", "--", "mount", "-t", "overlay", "overlay", "-o",
                     f"lowerdir=/etc,upperdir={probe}/upper,workdir={probe}/work", "/etc", check=False)
        if result.returncode != 0:
            return f"cannot mount overlayfs in a private mount namespace: {result.stderr.strip()}"
        return None
    finally:
        run("rm", "-rf", probe, check=False)


class Machine:
    """One simulated computer on a lab host (see the module documentation)."""

    def __init__(self, host: Host, workdir: str):
        self.host = host
        self.work = os.path.join(workdir, f"machine-{host.name}")
        os.makedirs(self.work)
        holder = host.spawn("unshare", "--mount", "--propagation", "private", "--", "sh", "-c", SETUP, "setup", self.work,
                            log=os.path.join(self.work, "setup.log"))
        wait_for(lambda: os.path.exists(os.path.join(self.work, "ready")) or holder.poll() is not None, timeout=10,
                 what=f"machine {host.name}'s mounts")
        if holder.poll() is not None:
            raise RuntimeError(f"machine {host.name} did not start: {open(os.path.join(self.work, 'setup.log')).read()}")
        self.pid = holder.pid

    def command(self, *args: str) -> list[str]:
        """`args` as a command line that runs inside this machine (its network and mount namespaces)."""
        return ["nsenter", f"--target={self.pid}", "--mount", "--net", "--", "env", "-i", f"PATH={PATH}", "HOME=/root",
                "LANG=C.UTF-8", *args]

    def run(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        """Runs a command inside the machine as root and waits for it; fails with its output when it fails."""
        result = subprocess.run(self.command(*args), input=input, capture_output=True, text=True, timeout=timeout, cwd="/")
        if check and result.returncode != 0:
            raise RuntimeError(f"[{self.host.name}] {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def shell(self, script: str, **kwargs) -> subprocess.CompletedProcess:
        return self.run("sh", "-c", script, **kwargs)

    def spawn(self, *args: str, log: str) -> subprocess.Popen:
        """Starts a long-running command inside the machine; the lab stops it on close."""
        handle = open(log, "ab")
        process = subprocess.Popen(self.command(*args), stdout=handle, stderr=subprocess.STDOUT, cwd="/",
                                   start_new_session=True)
        self.host.lab.processes.append((process, handle))
        return process

    def path(self, path: str) -> str:
        """Where `path` of this machine's file system is visible from outside it."""
        return f"/proc/{self.pid}/root{path}"

    def read(self, path: str) -> str:
        with open(self.path(path), errors="replace") as handle:
            return handle.read()

    def exists(self, path: str) -> bool:
        return os.path.exists(self.path(path))

    def processes(self, name: str) -> list[int]:
        """Pids of this machine's processes whose command line contains `name`."""
        pids = []
        for pid in run("ip", "netns", "pids", self.host.netns, check=False).stdout.split():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    words = handle.read().split(b"\0")
            except FileNotFoundError:
                continue
            if words and os.path.basename(words[0].decode(errors="replace")) == name:
                pids.append(int(pid))
        return pids


def process_identity(pid: int) -> dict:
    """Uid, gid and capability masks of a process, from /proc/<pid>/status."""
    fields = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return {"uid": int(fields["Uid"][1]), "gid": int(fields["Gid"][1]), "effective": int(fields["CapEff"][0], 16),
            "permitted": int(fields["CapPrm"][0], 16), "bounding": int(fields["CapBnd"][0], 16),
            "ambient": int(fields["CapAmb"][0], 16)}


def wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.1)


# --- Checks on agents, as a person would run them on the machine. ---

def status(machine: Machine, *extra: str) -> subprocess.CompletedProcess:
    return machine.run("riftgate", "status", *extra, check=False, timeout=15)


def status_json(machine: Machine) -> dict:
    result = status(machine, "--json")
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip())
    return json.loads(result.stdout)


def joined(machine: Machine) -> dict:
    """The machine's own status once the hub has assigned its addresses."""
    return wait_for(lambda: (s := status_json(machine)).get("ipv4") and s, 30, what=f"{machine.host.name}'s overlay address")


def connected_peer(machine: Machine, public_key: str) -> dict | None:
    peer = next((p for p in status_json(machine)["peers"] if p["public_key"] == public_key), None)
    return peer if peer and peer["state"] == "connected" else None


def ping(machine: Machine, address: str, count: int = 1) -> bool:
    return machine.run("ping", "-c", str(count), "-W", "1", "-i", "0.2", address, check=False,
                       timeout=count + 10).returncode == 0


def dump_logs(workdir: str, machines: dict) -> None:
    for name in sorted(os.listdir(workdir)):
        if name.endswith(".log"):
            print(f"--- {name} ---\n" + open(os.path.join(workdir, name), errors="replace").read()[-4000:])
    for machine in machines.values():
        for log in ("/var/log/riftgate.log", "/var/log/riftgate-hub.log", "/var/log/nginx/error.log"):
            if machine.exists(log):
                print(f"--- {machine.host.name}:{log} ---\n" + machine.read(log)[-4000:])


@pytest.fixture
def machines(lab, workdir):
    """The hub machine and agent machines A and B on one LAN (lab.lan); import it into a test module to use it."""
    reason = can_build_machines()
    if reason:
        pytest.skip(reason)
    for name in ("riftgate", "riftgate-hub"):
        binary(name)  # fails with "build first" when missing
    hosts = lan(lab)
    return {role: Machine(hosts[role], workdir) for role in ("hub", "a", "b")}
