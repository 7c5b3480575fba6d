"""End to end on one LAN: a real hub and two real agents with wireguard-go, in three namespaces on one bridge."""
import os
import time

from deployment import CONNECT_BOUND, FULL_SIZE_PING
from lab import lan, wait_for
from riftgate_lab import Agent, Hub, latest_handshakes, wg_show


def test_two_agents_on_a_lan_ping_each_other_directly(lab, workdir, timing):
    hosts = lan(lab)
    hub = Hub(hosts["hub"], workdir)
    hub.create_network("home")
    token = hub.create_token("home", "e2e")
    hub.start()

    # Interface names must be unique on the machine: every namespace shares /var/run/wireguard.
    if_a, if_b = f"{lab.prefix}a", f"{lab.prefix}b"
    a = Agent(hosts["a"], workdir, interface=if_a)
    b = Agent(hosts["b"], workdir, interface=if_b)
    for agent in (a, b):
        agent.init(hub.url, "home", token)
    a.start()
    started_b = time.monotonic()
    b.start()
    try:
        a_status, b_status = a.status(), b.status()
        ip_a, ip_b = a.overlay_ipv4(), b.overlay_ipv4()
        a_status, b_status = a.status(), b.status()
        assert ip_a != ip_b and ip_a.startswith("100.")

        wait_for(lambda: hosts["a"].ping(ip_b), timeout=30, interval=0.05, what="A to ping B through the tunnel")
        connect = time.monotonic() - started_b
        timing(f"second agent start to first ping: {connect:.2f} s (bound {CONNECT_BOUND} s)")
        assert connect < CONNECT_BOUND
        assert hosts["b"].ping(ip_a)
        assert hosts["a"].ping(b_status["ipv6"]) and hosts["b"].ping(a_status["ipv6"])
        # Full-size packets cross unfragmented (interface MTU 1380), IPv4 and IPv6; one byte more does not.
        assert hosts["a"].ping(ip_b, size=FULL_SIZE_PING, dont_fragment=True)
        assert hosts["b"].ping(a_status["ipv6"], size=FULL_SIZE_PING - 20, dont_fragment=True)
        assert not hosts["a"].ping(ip_b, size=FULL_SIZE_PING + 1, dont_fragment=True)

        peer_b = wait_for(lambda: (p := a.peer(b_status["public_key"])) and p["state"] == "connected" and p,
                          timeout=15, what="A's status to call B connected")
        assert peer_b.get("path_type") == "host" and peer_b.get("path_mode") == "direct", peer_b
        assert peer_b["ipv4"] == ip_b
        peer_a = wait_for(lambda: (p := b.peer(a_status["public_key"])) and p["state"] == "connected" and p,
                          timeout=15, what="B's status to call A connected")
        assert peer_a.get("path_type") == "host" and peer_a.get("path_mode") == "direct", peer_a
        assert "connected" in a.status_text()

        handshakes_a = latest_handshakes(hosts["a"], if_a)
        handshakes_b = latest_handshakes(hosts["b"], if_b)
        assert handshakes_a.get(b_status["public_key"]) is not None and handshakes_a[b_status["public_key"]] < 60
        assert handshakes_b.get(a_status["public_key"]) is not None and handshakes_b[a_status["public_key"]] < 60
        # One /32 and one /128 per peer, never a default route.
        dump = wg_show(hosts["a"], if_a)
        assert f"{ip_b}/32" in dump and "0.0.0.0/0" not in dump
    except Exception:
        print("--- agent A log ---\n" + a.log()[-4000:] + "\n--- agent B log ---\n" + b.log()[-4000:])
        raise

    # Stopping B removes B's peer on A and leaves nothing behind on B.
    b.down()
    wait_for(lambda: b_status["public_key"] not in wg_show(hosts["a"], if_a), timeout=20,
             what="A to remove B's WireGuard peer after B stopped")
    assert hosts["b"].exec("ip", "link", "show", if_b, check=False).returncode != 0, "B's interface is gone"
    assert not os.path.exists(f"/var/run/wireguard/{if_b}.sock")
    assert not [line for line in os.popen(f"pgrep -af 'wireguard-go.*{if_b}'").read().splitlines() if "pgrep" not in line]
    a.down()
    assert hosts["a"].exec("ip", "link", "show", if_a, check=False).returncode != 0
