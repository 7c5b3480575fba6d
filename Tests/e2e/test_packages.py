"""The Debian packages installed and run for real: apt-get install ./riftgate*.deb in a minimal Debian 12 (dependencies
resolved by apt from the mirror), systemd as PID 1 in its own namespaces, the units with their real sandboxing.

Needs root, debootstrap, systemd-container and the Debian mirror the first time (the root file system is cached in
/var/cache/riftgate-tests). The packages are built from RIFTGATE_DEB_BIN_DIR, binaries built with
--static-swift-stdlib (`make integration-test` builds debug ones; `make deb` release ones).
"""

import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from container import Container, Unavailable, cached_rootfs, preconditions

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "deploy" / "debian" / "build-packages.sh"
OLD, NEW = "1.0.0", "1.0.1"
CAP_NET_ADMIN, CAP_NET_BIND_SERVICE = 1 << 12, 1 << 10


def static_bin_dir() -> Path | None:
    for variable in ("RIFTGATE_DEB_BIN_DIR", "RIFTGATE_BIN_DIR"):
        directory = os.environ.get(variable)
        if not directory:
            continue
        needed = subprocess.run(["objdump", "-p", f"{directory}/riftgate-hub"], capture_output=True, text=True).stdout
        if (Path(directory) / "riftgate").exists() and "libswiftCore" not in needed:
            return Path(directory)
    return None


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[str, Path]:
    """Both packages at two versions (the second to upgrade to), from the same binaries."""
    bin_dir = static_bin_dir()
    if bin_dir is None:
        pytest.skip("no --static-swift-stdlib binaries: set RIFTGATE_DEB_BIN_DIR (make integration-test builds them in "
                    ".build-deb-debug/debug)")
    output = tmp_path_factory.mktemp("debs")
    built = {}
    for version in (OLD, NEW):
        result = subprocess.run([str(BUILD), "--bin-dir", str(bin_dir), "--version", version, "--output", str(output),
                                 "--compression", "gzip", "--no-lintian"], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        for path in result.stdout.split():
            name = Path(path).name.split("_")[0]
            built[f"{name}-{version}"] = Path(path)
    return built


def test_packages_declare_what_debian_12_must_provide(packages):
    """Depends comes from dpkg-shlibdeps: the C libraries, never the Swift runtime; wireguard-go is a Recommends."""
    def field(deb: Path, name: str) -> str:
        return subprocess.run(["dpkg-deb", "--field", str(deb), name], capture_output=True, text=True, check=True).stdout

    agent = field(packages[f"riftgate-{OLD}"], "Depends")
    hub = field(packages[f"riftgate-hub-{OLD}"], "Depends")
    for library in ("libnice10", "libwebsockets17", "libev4", "libsodium23", "libssl3", "libldns3", "wireguard-tools", "adduser"):
        assert library in agent, agent
    # libwebsockets-evlib-ev: the lws plugin the hub's server loads with dlopen (no NEEDED entry names it).
    for library in ("libwebsockets17", "libwebsockets-evlib-ev", "libev4", "libsodium23", "libssl3", "libsqlite3-0", "libpq5", "libnats3.4", "adduser"):
        assert library in hub, hub
    assert "swift" not in (agent + hub).lower()
    assert "wireguard-go" in field(packages[f"riftgate-{OLD}"], "Recommends")
    contents = subprocess.run(["dpkg-deb", "--contents", str(packages[f"riftgate-hub-{OLD}"])],
                              capture_output=True, text=True, check=True).stdout
    assert "./lib/systemd/system/riftgate-hub.service" in contents
    assert "./etc/riftgate-hub/hub.toml" in contents


def test_lintian_reports_no_errors(packages):
    if subprocess.run(["which", "lintian"], capture_output=True).returncode != 0:
        pytest.skip("lintian is missing: deploy/install-deps.sh installs it")
    debs = [str(packages[f"riftgate-{OLD}"]), str(packages[f"riftgate-hub-{OLD}"])]
    result = subprocess.run(["lintian", "--fail-on", "error", *debs], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not re.search(r"^E: ", result.stdout, re.M), result.stdout


@pytest.fixture
def debian(packages, timing):
    reason = preconditions()
    if reason:
        pytest.skip(reason)
    try:
        tarball = cached_rootfs(timing)
    except Unavailable as error:
        pytest.skip(str(error))
    box = Container(tarball, f"rgpkg-{uuid.uuid4().hex[:8]}")
    try:
        for deb in packages.values():
            (box.root / "root" / deb.name).write_bytes(deb.read_bytes())
        yield box
    finally:
        box.close()


def healthz(box: Container, timeout: float = 30) -> str:
    """The hub's /healthz answer on its admin listener, waiting (bounded) for a hub that is still starting."""
    deadline = time.monotonic() + timeout
    while True:
        answer = box.host_command("curl", "-fsS", "--max-time", "5", "http://127.0.0.1:9090/healthz")
        if answer.returncode == 0 or time.monotonic() > deadline:
            return answer.stdout.strip() or answer.stderr.strip()
        time.sleep(0.5)


def sha256(box: Container, path: str) -> str:
    return box.sh(f"sha256sum {path}").stdout.split()[0]


def test_install_run_upgrade_purge_under_systemd(debian, timing):
    box = debian
    started = time.monotonic()
    # 1. apt installs the packages and resolves their dependencies from the mirror (the only step with network).
    install = box.run_unbooted("/bin/sh", "-c", f"apt-get update -qq && apt-get install -y -q "
                               f"/root/riftgate-hub_{OLD}_*.deb /root/riftgate_{OLD}_*.deb")
    unreachable = ("Could not resolve", "Temporary failure resolving", "Unable to connect", "Failed to fetch")
    if install.returncode != 0 and any(sign in install.stdout + install.stderr for sign in unreachable):
        pytest.skip(f"the Debian mirror is unreachable: {install.stdout[-300:]}")
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    assert "wireguard-go" in install.stdout, "apt did not install the recommended wireguard-go"
    timing(f"apt-get install of both packages with dependencies: {time.monotonic() - started:.0f} s")

    try:
        box.boot()
    except Unavailable as error:
        pytest.skip(str(error))
    # What udev does on a real Debian system (nspawn's own /dev has /dev/net/tun 0600): the agent's user opens it
    # for wireguard-go with CAP_NET_ADMIN, which does not override file permissions.
    box.sh("chmod 0666 /dev/net/tun")

    # 2. The hub was enabled on installation and started at boot; it answers /healthz on its admin listener.
    assert box.sh("systemctl is-active riftgate-hub", check=False).stdout.strip() == "active", box.journal("riftgate-hub")
    assert healthz(box) == "ok", box.journal("riftgate-hub")
    assert box.sh("stat -c '%a %U' /var/lib/riftgate-hub").stdout.split() == ["700", "riftgate-hub"]
    assert box.sh("stat -c '%a %U' /var/lib/riftgate-hub/hub.key").stdout.split() == ["600", "riftgate-hub"]

    # 3. The agent is enabled but, with no configuration, was never started.
    assert box.sh("systemctl is-enabled riftgate", check=False).stdout.strip() == "enabled"
    assert box.sh("systemctl is-active riftgate", check=False).stdout.strip() == "inactive"
    assert "ConditionResult=no" in box.sh("systemctl show -p ConditionResult riftgate").stdout
    assert box.sh("ip link show riftgate0", check=False).returncode != 0

    # 4. Configure it as the guide says; it joins the hub and brings up its interface, with the unit's capabilities.
    admin = "runuser -u riftgate-hub -- riftgate-hub {} --config /etc/riftgate-hub/hub.toml"
    box.sh(admin.format("network create lab"))
    token = re.search(r"rgt_[A-Za-z0-9_-]{43}", box.sh(admin.format("token create lab --label pkgtest")).stdout).group(0)
    box.sh("riftgate init --hub ws://127.0.0.1:8443 --network lab --name box --token - && "
           "chown riftgate:riftgate /etc/riftgate/secrets.toml", input=token + "\n")
    box.sh("systemctl start riftgate")
    address = box.wait_for("ip -o -4 addr show dev riftgate0 | grep -o '100\\.[0-9.]*'",
                           "the agent did not bring up riftgate0 with an overlay address", timeout=60).strip()
    pid = box.sh("systemctl show -p MainPID --value riftgate").stdout.strip()
    capabilities = dict(line.split(":\t") for line in box.sh(f"cat /proc/{pid}/status").stdout.splitlines() if "\t" in line)
    # CAP_NET_ADMIN for the interface, CAP_NET_BIND_SERVICE for the DNS server on port 53 of the overlay address.
    assert int(capabilities["CapEff"], 16) == CAP_NET_ADMIN | CAP_NET_BIND_SERVICE, capabilities["CapEff"]
    assert int(capabilities["CapBnd"], 16) == CAP_NET_ADMIN | CAP_NET_BIND_SERVICE, capabilities["CapBnd"]
    assert box.sh(f"stat -c %U /proc/{pid}").stdout.strip() == "riftgate"
    # No WireGuard kernel module here: the agent's user runs wireguard-go, which inherits CAP_NET_ADMIN.
    assert "[userspace]" in box.sh("riftgate status --verbose").stdout
    assert box.sh("ps -o user= -C wireguard-go").stdout.split() == ["riftgate"]
    box.wait_for("riftgate status --verbose | grep -q '^  hub .*: connected$'", "the agent's hub session is not up")
    hub_key, secrets = sha256(box, "/var/lib/riftgate-hub/hub.key"), sha256(box, "/etc/riftgate/secrets.toml")
    # Names inside the unit's sandbox (this root file system has no systemd-resolved): the agent's block in
    # /etc/hosts, written through ReadWritePaths= and the ACL entry the unit's ExecStartPre=+ grants.
    box.wait_for(f"getent ahostsv4 box.lab.rift | grep -q '^{address} '",
                 "the agent registered no name in /etc/hosts under its unit", timeout=30)

    # The guide's drop-in for node_exporter's textfile collector works inside the unit's sandbox.
    textfile = "/var/lib/prometheus/node-exporter/riftgate.prom"
    box.sh("mkdir -p /var/lib/prometheus/node-exporter /etc/systemd/system/riftgate.service.d && "
           "chgrp riftgate /var/lib/prometheus/node-exporter && chmod g+w /var/lib/prometheus/node-exporter && "
           "printf '[Service]\\nReadWritePaths=/var/lib/prometheus/node-exporter\\nExecStart=\\n"
           f"ExecStart=/usr/bin/riftgate up --config /etc/riftgate/riftgate.toml --metrics-textfile {textfile}\\n' "
           "> /etc/systemd/system/riftgate.service.d/metrics.conf && systemctl daemon-reload && systemctl restart riftgate")
    box.wait_for(f"grep -q '^riftgate_agent_hub_connected{{interface=\"riftgate0\"}} 1$' {textfile}",
                 "the agent wrote no metrics textfile saying its hub session is up", timeout=60)
    assert box.sh(f"stat -c '%a %U' {textfile}").stdout.split() == ["644", "riftgate"]
    promtool = subprocess.run(["promtool", "check", "metrics"], input=box.sh(f"cat {textfile}").stdout,
                              capture_output=True, text=True, timeout=60) if shutil.which("promtool") else None
    assert promtool is None or promtool.returncode == 0, promtool.stdout + promtool.stderr
    timing(f"install, boot and join: {time.monotonic() - started:.0f} s")

    # 5. Upgrade both to a newer version: services restarted, key, database, token and address kept.
    upgrade = box.sh(f"apt-get install -y -q /root/riftgate-hub_{NEW}_*.deb /root/riftgate_{NEW}_*.deb", timeout=300)
    assert box.sh("dpkg-query -W -f '${Version}' riftgate riftgate-hub").stdout == NEW * 2, upgrade.stdout
    assert box.sh("systemctl is-active riftgate-hub riftgate", check=False).stdout.split() == ["active", "active"]
    assert sha256(box, "/var/lib/riftgate-hub/hub.key") == hub_key
    assert sha256(box, "/etc/riftgate/secrets.toml") == secrets
    assert "lab" in box.sh(admin.format("network list")).stdout
    box.wait_for(f"ip -o -4 addr show dev riftgate0 | grep -q '{address}/'",
                 f"after the upgrade the agent did not come back with its address {address}", timeout=60)
    assert healthz(box) == "ok", box.journal("riftgate-hub")

    # 6. systemctl stop removes the interface (and wireguard-go).
    box.sh("systemctl stop riftgate", timeout=60)
    box.wait_for("! ip link show riftgate0 2>/dev/null", "systemctl stop left riftgate0 behind", timeout=30)
    assert "riftgate" not in box.sh("cat /etc/hosts").stdout, "the agent's hosts block outlived the service"
    assert "user:riftgate" not in box.sh("getfacl -p /etc/hosts").stdout, "the unit's ACL entry outlived the service"
    assert box.sh("pgrep -x wireguard-go", check=False).returncode != 0

    # 7. Purge removes the state: the hub key and database, the agent's configuration and key.
    box.sh("apt-get purge -y -q riftgate riftgate-hub", timeout=300)
    for path in ("/var/lib/riftgate-hub", "/etc/riftgate-hub", "/etc/riftgate", "/usr/bin/riftgate"):
        assert box.sh(f"test -e {path}", check=False).returncode != 0, f"{path} survived apt purge"
    assert box.sh("systemctl is-active riftgate-hub", check=False).stdout.strip() != "active"
    timing(f"whole package test: {time.monotonic() - started:.0f} s")
