"""Subnet routes (issue 16 item 2) with real agents, hub and namespaces.

The advertising side: B advertises a LAN, loads its forwarding table and turns IPv4 forwarding on; `riftgate down`
removes the table and restores forwarding; a table left by a SIGKILL is removed at the next start; an invalid route is
refused at start with a precise message. End to end: a LAN behind B whose host has no route back; A reaches it only once
an administrator approved B's route on the hub (`riftgate-hub route approve`) and only because A accepts routes; a
revoked approval takes the route away again; a prefix B does not advertise is never forwarded; an approved route that
overlaps the accepting machine's own LAN is refused there, with its reason in status."""
import time

from deployment import Deployment
from lab import run, wait_for
from riftgate_lab import binary
from topologies import lan_topology


def table(agent) -> str:
    return agent.host.exec("nft", "list", "table", "inet", f"riftgate_routes_{agent.interface.replace('-', '_')}",
                           check=False, timeout=10).stdout


def forwarding(agent) -> str:
    return agent.host.exec("sysctl", "-n", "net.ipv4.ip_forward", timeout=10).stdout.strip()


def test_advertised_routes_forwarding_table(lab, workdir):
    deployment = Deployment(lan_topology(lab), workdir, turn=False)
    deployment.start_hub()
    a, b = deployment.agent("a"), deployment.agent("b")
    with open(b.config, "a") as handle:
        handle.write('advertise_routes = ["10.99.0.0/24"]\n')
    try:
        refused = run(binary("riftgate"), "up", "--config", a.config, "--advertise-routes", "10.99.0.0/24,0.0.0.0/0",
                      check=False, timeout=20)
        assert refused.returncode != 0 and "\"0.0.0.0/0\" is a default route" in refused.stderr, refused.stderr
        before = forwarding(b)
        a.start()
        b.start()
        deployment.wait_for_ping("a", "b", timeout=45)
        wait_for(lambda: "10.99.0.0/24" in table(b), timeout=20, what="b's forwarding table")
        text = table(b)
        assert f'iifname "{b.interface}" ip daddr 10.99.0.0/24 accept' in text, text  # nft prints a one-element set bare
        assert f'iifname "{b.interface}" drop' in text and "masquerade" in text, text
        assert forwarding(b) == "1"
        assert b.status()["routes"]["advertised"] == ["10.99.0.0/24"], b.status()
        assert a.status()["routes"] == {"advertised": [], "accepted": False, "installed": [], "refused": []}, a.status()
        assert table(a) == "", "a advertises nothing: no table"
        assert deployment.ping("a", "b"), "the table does not filter the tunnel's own traffic"

        b.down()
        assert table(b) == "", "the table goes on down"
        assert forwarding(b) == before, "forwarding restored to what it was before"

        # SIGKILL: the table stays; the next start, now advertising nothing, removes it.
        b.start()
        wait_for(lambda: "10.99.0.0/24" in table(b), timeout=20, what="b's forwarding table after the restart")
        b.kill()
        assert "10.99.0.0/24" in table(b), "a crash leaves the table behind"
        with open(b.config) as handle:
            config = handle.read().replace('advertise_routes = ["10.99.0.0/24"]\n', "")
        with open(b.config, "w") as handle:
            handle.write(config)
        b.start()
        wait_for(lambda: table(b) == "", timeout=30, what="the restarted agent b to remove the stale table")
        b.down()
        a.down()
    except Exception:
        print(deployment.logs())
        raise


def test_approved_route_reaches_the_lan_behind_a_peer_only_when_accepted(lab, workdir, timing):
    """A LAN behind B (10.99.0.0/24 advertised, 10.98.0.0/24 on the same wire but not advertised) whose host has no
    route back to the overlay. A accepts routes (the next test: an agent that does not installs nothing)."""
    deployment = Deployment(lan_topology(lab), workdir, turn=False)
    deployment.start_hub()
    a, b = deployment.agent("a"), deployment.agent("b")
    behind = lab.bridge("rlan")
    lan_host = lab.add_host("lanhost")
    lab.plug(b.host, behind, "10.99.0.1/24", device="eth1")
    lab.plug(lan_host, behind, "10.99.0.5/24")
    b.host.exec("ip", "addr", "add", "10.98.0.1/24", "dev", "eth1")
    lan_host.exec("ip", "addr", "add", "10.98.0.5/24", "dev", "eth0")
    with open(b.config, "a") as handle:
        handle.write('advertise_routes = ["10.99.0.0/24"]\n')
    with open(a.config, "a") as handle:
        handle.write("accept_routes = true\n")
    try:
        a.start()
        b.start()
        deployment.wait_for_ping("a", "b", timeout=45)
        wait_for(lambda: "10.99.0.0/24" in table(b), timeout=20, what="b's forwarding table")
        assert b.host.ping("10.99.0.5") and b.host.ping("10.98.0.5"), "b reaches both LAN prefixes itself"
        key_b = b.status()["public_key"]

        # Advertised, not approved: the hub lists it, and nothing reaches A.
        listing = deployment.hub.admin("route", "list", "lab")
        line = next(line for line in listing.splitlines() if "10.99.0.0/24" in line)
        assert line.rstrip().endswith("advertised") and "approved" not in line, listing
        assert a.status()["routes"]["installed"] == [], a.status()["routes"]
        assert not a.host.ping("10.99.0.5", count=2), "an unapproved route is installed nowhere"

        # Approved: A installs it (allowed IP + kernel route) and reaches the LAN host through B (masqueraded).
        approved_at = time.monotonic()
        deployment.hub.admin("route", "approve", "lab", key_b, "10.99.0.0/24")
        wait_for(lambda: a.status()["routes"]["installed"], timeout=10, interval=0.1, what="a to install b's route")
        timing(f"route approved -> installed on a in {time.monotonic() - approved_at:.2f} s")
        assert "10.99.0.0/24" in a.host.exec("ip", "route", "show", "dev", a.interface).stdout
        assert "10.99.0.0/24" in a.host.exec("wg", "show", a.interface, "allowed-ips").stdout
        wait_for(lambda: a.host.ping("10.99.0.5"), timeout=20, interval=0.5,
                 what="a to reach the LAN host behind b (forwarded, masqueraded: the host has no route back)")
        assert not a.host.ping("10.98.0.5", count=2), "a prefix b does not advertise is not forwarded"

        # Revoked: the route leaves A.
        deployment.hub.admin("route", "revoke", "lab", key_b, "10.99.0.0/24")
        wait_for(lambda: not a.status()["routes"]["installed"], timeout=10, interval=0.1, what="a to remove b's route")
        assert "10.99.0.0/24" not in a.host.exec("ip", "route", "show", "dev", a.interface).stdout
        assert not a.host.ping("10.99.0.5", count=2)
        b.down()
        assert table(b) == ""
        a.down()
    except Exception:
        print(deployment.logs())
        raise


def test_approved_route_is_not_installed_without_accept_routes(lab, workdir):
    deployment = Deployment(lan_topology(lab), workdir, turn=False)
    deployment.start_hub()
    a, b = deployment.agent("a"), deployment.agent("b")
    with open(b.config, "a") as handle:
        handle.write('advertise_routes = ["10.99.0.0/24"]\n')
    try:
        a.start()
        b.start()
        deployment.wait_for_ping("a", "b", timeout=45)
        deployment.hub.admin("route", "approve", "lab", b.status()["public_key"], "10.99.0.0/24")
        time.sleep(2)  # well past the hub's 250 ms tick: had A accepted routes, it would have installed this one
        assert a.status()["routes"] == {"advertised": [], "accepted": False, "installed": [], "refused": []}, a.status()
        assert "10.99.0.0/24" not in a.host.exec("ip", "route", "show", "dev", a.interface).stdout
        b.down()
        a.down()
    except Exception:
        print(deployment.logs())
        raise


def test_route_overlapping_the_accepting_machines_own_lan_is_refused_there(lab, workdir):
    """B advertises 10.97.0.0/24 and an administrator approves it; but 10.97.0.0/24 is also a LAN of A's own (an
    address on A's eth0). A accepts routes, yet refuses this one: routing its own LAN into the tunnel would cut it off
    from its neighbours. The refusal is in A's status with its reason; A's LAN route stays on eth0."""
    deployment = Deployment(lan_topology(lab), workdir, turn=False)
    deployment.start_hub()
    a, b = deployment.agent("a"), deployment.agent("b")
    a.host.exec("ip", "addr", "add", "10.97.0.1/24", "dev", "eth0")
    with open(b.config, "a") as handle:
        handle.write('advertise_routes = ["10.97.0.0/24"]\n')
    with open(a.config, "a") as handle:
        handle.write("accept_routes = true\n")
    try:
        a.start()
        b.start()
        deployment.wait_for_ping("a", "b", timeout=45)
        deployment.hub.admin("route", "approve", "lab", b.status()["public_key"], "10.97.0.0/24")
        wait_for(lambda: a.status()["routes"]["refused"], timeout=10, interval=0.1, what="a to refuse b's route")
        routes = a.status()["routes"]
        assert routes["installed"] == [], routes
        [refused] = routes["refused"]
        assert refused["route"] == "10.97.0.0/24", refused
        assert "overlaps this machine's LAN 10.97.0.0/24 on eth0" in refused["reason"], refused
        assert "10.97.0.0/24" not in a.host.exec("ip", "route", "show", "dev", a.interface).stdout
        assert "10.97.0.0/24" not in a.host.exec("wg", "show", a.interface, "allowed-ips").stdout
        assert "dev eth0" in a.host.exec("ip", "route", "get", "10.97.0.5").stdout, "A's own LAN stays on its LAN"
        assert deployment.ping("a", "b"), "the tunnel is unaffected"
        b.down()
        a.down()
    except Exception:
        print(deployment.logs())
        raise
