"""Names registered with the host (issue 16 item 1), two agents in namespaces.

Hosts strategy: each lab namespace has its own hosts file (/etc/netns/<ns>/hosts, which `ip netns exec` bind-mounts
over /etc/hosts, so the agent edits "/etc/hosts" in place through a bind mount, where a rename would fail with EBUSY);
`getent` inside A's namespace resolves B's name through glibc's files source. The block goes on `riftgate down` and on
SIGTERM; after a SIGKILL the next start removes the stale block before the welcome.

systemd-resolved strategy: this machine has no systemd-resolved, so a fake `resolvectl` first on the agent's PATH
records its arguments; the test asserts that the link got the agent's overlay address as DNS server and the network's
domain as a routing domain, and was reverted on stop. (Detection for names = auto is unit-tested.)"""
import os
import signal
import stat

from deployment import Deployment
from lab import netns_etc, wait_for
from topologies import lan_topology

ORIGINAL = "127.0.0.1\tlocalhost\n# written by the test; kept byte for byte\n::1 localhost ip6-localhost ip6-loopback\n"


def set_names(agent, mode: str) -> None:
    with open(agent.config, "a") as handle:
        handle.write(f'names = "{mode}"\n')


def namespace_hosts(agent) -> str:
    return os.path.join(netns_etc(agent.host.netns), "hosts")


def read(path: str) -> str:
    with open(path) as handle:
        return handle.read()


def lookup(agent, family: str, name: str) -> list[str]:
    """The addresses glibc finds for `name` inside the agent's namespace (`getent ahostsv4|ahostsv6`)."""
    result = agent.host.exec("getent", family, name, check=False, timeout=10)
    return sorted({line.split()[0] for line in result.stdout.splitlines() if line.strip()})


def test_names_in_the_hosts_file(lab, workdir):
    real_hosts = read("/etc/hosts")
    deployment = Deployment(lan_topology(lab), workdir, turn=False)
    deployment.start_hub()
    a, b = deployment.agent("a"), deployment.agent("b")
    for agent in (a, b):
        set_names(agent, "hosts")
        with open(namespace_hosts(agent), "w") as handle:
            handle.write(ORIGINAL)
        os.chmod(namespace_hosts(agent), 0o644)
    inode_a = os.stat(namespace_hosts(a)).st_ino
    try:
        a.start()
        b.start()
        deployment.wait_for_ping("a", "b", timeout=45)
        ipv4_b, ipv6_b = deployment.overlay("b")
        fqdn_a, fqdn_b = a.status()["dns_name"], b.status()["dns_name"]
        assert fqdn_b.endswith(".lab.rift"), b.status()

        assert wait_for(lambda: lookup(a, "ahostsv4", fqdn_b) == [ipv4_b], timeout=20,
                        what=f"{fqdn_b} to resolve to {ipv4_b} in a's namespace")
        assert lookup(a, "ahostsv6", fqdn_b) == [ipv6_b]
        assert lookup(a, "ahostsv4", fqdn_a) == [deployment.overlay("a")[0]], "the agent's own name too"
        assert lookup(a, "ahostsv4", fqdn_b.split(".")[0]) == [], "FQDN only, no bare label"
        text = read(namespace_hosts(a))
        assert text.startswith(ORIGINAL + "# BEGIN riftgate " + a.interface + " (managed by riftgate"), text
        assert text.endswith(f"# END riftgate {a.interface}\n") and f"{ipv4_b} {fqdn_b}\n" in text, text
        assert os.stat(namespace_hosts(a)).st_ino == inode_a, "edited in place (a bind mount cannot be renamed over)"
        assert stat.S_IMODE(os.stat(namespace_hosts(a)).st_mode) == 0o644
        names = a.status()["names"]
        assert names == {"domain": "lab.rift", "registration": "hosts", "hosts_file": "/etc/hosts"}, names
        assert f"names lab.rift via hosts file /etc/hosts" in a.status_text()

        # A rename on the hub (peer_joined for a known key): a's block follows.
        deployment.hub.admin("peer", "rename", "lab", b.status()["public_key"], "Bob's laptop")
        wait_for(lambda: lookup(a, "ahostsv4", "bob-s-laptop.lab.rift") == [ipv4_b], timeout=20,
                 what="the renamed peer's new name in a's hosts file")
        assert fqdn_b not in read(namespace_hosts(a)), read(namespace_hosts(a))
        fqdn_b = "bob-s-laptop.lab.rift"

        # riftgate down: the block goes, every other byte stays.
        a.down()
        assert read(namespace_hosts(a)) == ORIGINAL
        assert lookup(a, "ahostsv4", fqdn_b) == []
        # B learns that A left: its line goes from B's block.
        wait_for(lambda: fqdn_a not in read(namespace_hosts(b)), timeout=20, what="a's name to leave b's hosts file")

        # SIGKILL: no cleanup; plant a line a stale block could hold, then the next start removes it before the welcome.
        b.kill()
        stale = read(namespace_hosts(b))
        assert f"# BEGIN riftgate {b.interface} " in stale, stale
        with open(namespace_hosts(b), "w") as handle:
            handle.write(stale.replace(f"# END riftgate {b.interface}\n", f"100.64.99.99 ghost.lab.rift\n# END riftgate {b.interface}\n"))
        b.start()
        wait_for(lambda: f"{ipv4_b} {fqdn_b}\n" in read(namespace_hosts(b)) and "ghost" not in read(namespace_hosts(b)),
                 timeout=20, what="b's restart to replace the stale block")
        assert read(namespace_hosts(b)).count("# BEGIN riftgate") == 1

        # SIGTERM (systemctl stop): cleaned up like down.
        b.process.send_signal(signal.SIGTERM)  # the `ip netns exec` process execs riftgate: this is the agent
        b.process.wait(timeout=20)
        assert read(namespace_hosts(b)) == ORIGINAL
        assert read("/etc/hosts") == real_hosts, "this machine's own /etc/hosts is never touched"
    except Exception:
        print(deployment.logs())
        raise


FAKE_RESOLVECTL = """#!/bin/sh
# Records each call, one line of arguments; answers like resolvectl would when it succeeds.
echo "$*" >> "{log}"
exit 0
"""


def test_names_through_systemd_resolved(lab, workdir):
    bin_dir = os.path.join(workdir, "fake-bin")
    os.makedirs(bin_dir)
    log = os.path.join(workdir, "resolvectl.log")
    with open(os.path.join(bin_dir, "resolvectl"), "w") as handle:
        handle.write(FAKE_RESOLVECTL.format(log=log))
    os.chmod(os.path.join(bin_dir, "resolvectl"), 0o755)
    deployment = Deployment(lan_topology(lab), workdir, turn=False)
    deployment.start_hub()
    a, b = deployment.agent("a"), deployment.agent("b")
    set_names(a, "resolved")
    set_names(b, "off")
    hosts_a = read(namespace_hosts(a))

    def calls() -> list[str]:
        return read(log).splitlines() if os.path.exists(log) else []
    try:
        a.start(env={"PATH": bin_dir + ":" + os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")})
        b.start()
        deployment.wait_for_ping("a", "b", timeout=45)
        ipv4_a = deployment.overlay("a")[0]
        wait_for(lambda: len(calls()) >= 3, timeout=20, what="the agent to configure its link in systemd-resolved")
        reverse = " ".join(f"~{octet}.100.in-addr.arpa" for octet in range(64, 128))  # the default 100.64.0.0/10
        assert calls()[0] == f"dns {a.interface} {ipv4_a}", calls()
        assert calls()[1].startswith(f"domain {a.interface} ~lab.rift {reverse} ~"), calls()
        assert calls()[1].endswith(".ip6.arpa") and len(calls()[1].split()) == 2 + 1 + 64 + 1, calls()
        assert calls()[2] == f"default-route {a.interface} false", calls()
        assert a.status()["names"] == {"domain": "lab.rift", "registration": "systemd-resolved"}, a.status()["names"]
        assert b.status()["names"] == {"domain": "lab.rift", "registration": "off"}, b.status()["names"]
        assert read(namespace_hosts(a)) == hosts_a, "the resolved strategy leaves the hosts file alone"
        a.down()
        assert calls()[3:] == [f"revert {a.interface}"], calls()
    except Exception:
        print(deployment.logs())
        raise
