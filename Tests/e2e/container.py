"""A minimal Debian 12 booted with systemd as PID 1 in its own namespaces (systemd-nspawn), for the package test.

The root file system comes from a debootstrap tarball cached outside the repository (RIFTGATE_TEST_CACHE, default
/var/cache/riftgate-tests), built on first use. Each container gets a fresh copy of it in its own directory, a private
network namespace (loopback only) once booted, nspawn's own /tmp and /dev, and no bind mount of the host: the
container can delete nothing of the host's. Every wait is bounded.
"""

import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

CACHE = Path(os.environ.get("RIFTGATE_TEST_CACHE", "/var/cache/riftgate-tests"))
MIRROR = os.environ.get("RIFTGATE_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# Only what booting and apt need; the packages under test must pull in everything else through apt.
ROOTFS_PACKAGES = "systemd,systemd-sysv,dbus"
ROOTFS_TARBALL = CACHE / "bookworm-minbase-systemd.tar"


class Unavailable(Exception):
    """The container cannot be built here (missing tool, no mirror, not root); the test skips with this reason."""


def preconditions() -> str | None:
    """Why the container cannot run here, or None."""
    if os.geteuid() != 0:
        return "systemd-nspawn and debootstrap need root"
    for tool, package in [("debootstrap", "debootstrap"), ("systemd-nspawn", "systemd-container"), ("nsenter", "util-linux")]:
        if shutil.which(tool) is None:
            return f"{tool} is missing: deploy/install-deps.sh installs the {package} package"
    return None


def cached_rootfs(log) -> Path:
    """The debootstrap tarball, built once (about a minute and 60 MB from the mirror) under a lock shared by parallel
    runs. Raises Unavailable when the mirror cannot be reached."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ROOTFS_TARBALL.exists():
            return ROOTFS_TARBALL
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="debootstrap-", dir=CACHE) as work:
            target = Path(work) / "rootfs"
            result = subprocess.run(
                ["debootstrap", "--variant=minbase", f"--include={ROOTFS_PACKAGES}", "bookworm", str(target), MIRROR],
                capture_output=True, text=True, timeout=900)
            if result.returncode != 0:
                raise Unavailable(f"debootstrap of Debian 12 from {MIRROR} failed (no mirror?): "
                                  f"{(result.stderr or result.stdout).strip().splitlines()[-1:]}")
            partial = ROOTFS_TARBALL.with_suffix(".tar.partial")
            subprocess.run(["tar", "-C", str(target), "-cf", str(partial), "."], check=True, timeout=300)
            partial.rename(ROOTFS_TARBALL)
        log(f"built the Debian 12 root file system cache {ROOTFS_TARBALL} in {time.monotonic() - started:.0f} s")
        return ROOTFS_TARBALL


class Container:
    """One Debian 12 root file system, first used without booting (to install packages with the host's network),
    then booted with systemd as PID 1 in a private network namespace."""

    def __init__(self, tarball: Path, name: str):
        self.name = name
        self.directory = Path(tempfile.mkdtemp(prefix=f"{name}-", dir="/var/tmp"))
        self.root = self.directory / "rootfs"
        self.root.mkdir()
        subprocess.run(["tar", "-C", str(self.root), "-xf", str(tarball)], check=True, timeout=300)
        self.console = self.directory / "console.log"
        self.nspawn: subprocess.Popen | None = None
        self.init_pid: int | None = None

    def run_unbooted(self, *command: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """Runs a command in the root file system, not booted, sharing the host's network (for apt)."""
        return subprocess.run(
            ["systemd-nspawn", "--quiet", "--keep-unit", "--register=no", f"--machine={self.name}", "--pipe",
             "-D", str(self.root), "--setenv=DEBIAN_FRONTEND=noninteractive", "--", *command],
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def boot(self, timeout: float = 120) -> None:
        """Boots systemd as PID 1 and waits until it has finished starting up (running or degraded)."""
        with open(self.console, "w") as console:
            self.nspawn = subprocess.Popen(
                ["systemd-nspawn", "--quiet", "--keep-unit", "--register=no", f"--machine={self.name}", "--boot",
                 "--private-network", "-D", str(self.root)],
                stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while self.init_pid is None:
            if self.nspawn.poll() is not None or time.monotonic() > deadline:
                # No PID 1 at all: this machine cannot run a booted container (no cgroup delegation, no namespaces:
                # e.g. CI inside an unprivileged container). Nothing of riftgate's has run yet, so this is a skip.
                raise Unavailable(f"systemd-nspawn cannot boot a container here:\n{self.console.read_text()[-1500:]}")
            self.init_pid = self._find_init()
            time.sleep(0.2)
        state = self.sh("systemctl is-system-running --wait", timeout=max(1, deadline - time.monotonic()), check=False)
        assert state.stdout.strip() in ("running", "degraded"), \
            f"systemd did not finish booting: {state.stdout}\n{self.sh('systemctl --failed --no-pager', check=False).stdout}"

    def _find_init(self) -> int | None:
        """PID 1 of the container: the descendant of our systemd-nspawn that is PID 1 in its own PID namespace."""
        parents = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    parents[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
                except (OSError, ValueError):
                    continue
        for pid in parents:
            ancestor = parents.get(pid)
            while ancestor and ancestor != self.nspawn.pid:
                ancestor = parents.get(ancestor)
            if ancestor != self.nspawn.pid:
                continue
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            nspid = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
            if len(nspid) > 1 and nspid[-1] == "1":
                return pid
        return None

    def sh(self, script: str, timeout: float = 60, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        """Runs a shell script in all of the booted container's namespaces, as its root."""
        assert self.init_pid is not None, "the container is not booted"
        result = subprocess.run(
            ["nsenter", "-t", str(self.init_pid), "-m", "-u", "-i", "-n", "-p", "--", "/bin/sh", "-c", script],
            capture_output=True, text=True, timeout=timeout, input=input,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive"})
        if check and result.returncode != 0:
            raise AssertionError(f"`{script}` failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def wait_for(self, script: str, what: str, timeout: float = 60) -> str:
        """Runs `script` until it succeeds; returns its output. Fails with `what` and the last output after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.sh(script, check=False, timeout=max(1, min(30, deadline - time.monotonic())))
            if result.returncode == 0:
                return result.stdout
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} (not within {timeout:.0f} s): {result.stdout}{result.stderr}")
            time.sleep(0.5)

    def host_command(self, *command: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Runs a host binary (curl) in the container's network namespace only."""
        return subprocess.run(["nsenter", "-t", str(self.init_pid), "-n", "--", *command],
                              capture_output=True, text=True, timeout=timeout)

    def journal(self, unit: str) -> str:
        return self.sh(f"journalctl -u {unit} --no-pager -n 40", check=False).stdout

    def close(self) -> None:
        """Powers the container off (killing it if that takes over 30 s) and deletes its files."""
        if self.nspawn is not None and self.nspawn.poll() is None:
            if self.init_pid is not None:
                self.sh("systemctl poweroff --no-block", check=False, timeout=10)
            try:
                self.nspawn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.nspawn.pid, signal.SIGKILL)
                self.nspawn.wait(timeout=10)
        # nspawn leaves an empty mount-propagation directory named after the machine on the host.
        shutil.rmtree(f"/run/systemd/nspawn/propagate/{self.name}", ignore_errors=True)
        shutil.rmtree(self.directory, ignore_errors=True)
