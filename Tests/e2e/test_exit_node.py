"""Exit nodes (issue 16 item 3) with real agents, hub, wireguard-go and namespaces.

The `mixed` topology: B has a public address on the internet segment (203.0.113.20), A sits on a private LAN behind
a masquerading NAT router (r2, public 203.0.113.12) and, like a real home machine, reaches everything through a
default route to it. P, a "public" host on the internet segment (203.0.113.50), runs a TCP service that answers each
connection with the source address it sees. B runs `advertise_exit_node`; A runs `exit_node = "laptop-b"`:

- before an admin approves B, nothing is routed through it (P sees the NAT's address) and A's status says why;
- approved: P sees B's address (A's traffic leaves through B, masqueraded there), A's hub connection stays up (no
  routing loop: the hub is exempt, WireGuard's packets carry the fwmark, libnice's ports are exempt);
- IPv6 too: P and B also have IPv6 addresses on the internet segment, A has none of its own; approved, A's IPv6
  connections to P leave through B (P sees B's IPv6 address: the overlay's unique local address is masqueraded);
- B's agent stops: within a bounded wait A's rules and table are gone and P sees the NAT's address again (fail open),
  and A has no IPv6 path to P again;
- A `down` (SIGTERM) leaves no rule, table route or allowed IP; after a SIGKILL the TUN device is gone with
  wireguard-go, so the rules left behind fall through to main (P sees the NAT's address), and the next start removes
  them.
"""
import os
import re

from deployment import Deployment
from lab import run, wait_for
from riftgate_lab import binary
from topologies import mixed

P_ADDRESS = "203.0.113.50"
NAT_ADDRESS = "203.0.113.12"   # r2's public address: A's own, as the internet sees it
B_ADDRESS = "203.0.113.20"
P_ADDRESS6 = "2001:db8:50::50"
B_ADDRESS6 = "2001:db8:50::20"
PORT = 8099

# Answers every TCP connection with the peer's address and closes it.
ECHO_SERVER = f"""
import socket
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", {PORT}))
server.listen(16)
while True:
    connection, address = server.accept()
    connection.sendall(address[0].encode())
    connection.close()
"""

# The same over IPv6 (a second socket: IPv6 only, so the IPv4 one keeps its plain addresses).
ECHO_SERVER6 = ECHO_SERVER.replace("socket.socket()", "socket.socket(socket.AF_INET6)").replace(
    "server.bind((\"0.0.0.0\"", "server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)\nserver.bind((\"::\"")

ECHO_CLIENT = f"""
import socket
with socket.create_connection(("{P_ADDRESS}", {PORT}), timeout=3) as connection:
    print(connection.recv(64).decode())
"""


def seen_by_p(host) -> str:
    """The source address P sees for a connection from `host`; "" when it fails (bounded: 3 s connect timeout)."""
    result = host.exec("python3", "-c", ECHO_CLIENT, check=False, timeout=15)
    return result.stdout.strip() if result.returncode == 0 else ""


def seen_by_p6(host) -> str:
    """Like `seen_by_p`, over IPv6 to P's IPv6 address."""
    client = ECHO_CLIENT.replace(f'"{P_ADDRESS}"', f'"{P_ADDRESS6}"')
    result = host.exec("python3", "-c", client, check=False, timeout=15)
    return result.stdout.strip() if result.returncode == 0 else ""


def exit_rules(host) -> list[str]:
    """The policy rules at the exit-node priorities (IPv4 and IPv6)."""
    lines = host.exec("ip", "rule", "list", timeout=10).stdout.splitlines()
    lines += host.exec("ip", "-6", "rule", "list", timeout=10).stdout.splitlines()
    return [line for line in lines if re.match(r"3276[012]:", line.strip())]


def exit_table(host) -> str:
    result = host.exec("ip", "route", "show", "table", "21095", check=False, timeout=10)
    result6 = host.exec("ip", "-6", "route", "show", "table", "21095", check=False, timeout=10)
    return (result.stdout + result6.stdout).strip()


def exit_state(agent) -> str | None:
    return (agent.status()["routes"].get("exit_node") or {}).get("state")


def test_exit_node_carries_all_traffic_only_while_approved_and_present(lab, workdir):
    topology = mixed(lab, public=("b",), private=("a",))
    p = lab.add_host("p")
    lab.plug(p, topology.internet_switch, f"{P_ADDRESS}/24")
    deployment = Deployment(topology, workdir, turn=True)
    deployment.start_hub()
    a, b = deployment.agent("a"), deployment.agent("b")
    # A home machine: everything through its router, not only the internet segment.
    a.host.exec("ip", "route", "del", "203.0.113.0/24")
    a.host.exec("ip", "route", "add", "default", "via", "198.51.100.129")
    p.exec("ip", "-6", "addr", "add", f"{P_ADDRESS6}/64", "dev", "eth0", "nodad")
    b.host.exec("ip", "-6", "addr", "add", f"{B_ADDRESS6}/64", "dev", "eth0", "nodad")
    p.spawn("python3", "-c", ECHO_SERVER, log=os.path.join(workdir, "echo-p.log"))
    p.spawn("python3", "-c", ECHO_SERVER6, log=os.path.join(workdir, "echo-p6.log"))
    wait_for(lambda: seen_by_p6(b.host) == B_ADDRESS6, timeout=15, what="P's IPv6 echo service, seen from B")
    assert seen_by_p6(a.host) == "", "A has no IPv6 path of its own"
    wait_for(lambda: seen_by_p(a.host) == NAT_ADDRESS, timeout=15, what="P's echo service, seen from A through the NAT")
    with open(b.config, "a") as handle:
        handle.write("advertise_exit_node = true\n")
    with open(a.config, "a") as handle:
        handle.write('exit_node = "LAPTOP-B"\n')  # its DNS label, any case
    try:
        refused = run(binary("riftgate"), "up", "--config", a.config, "--advertise-exit-node", check=False, timeout=20)
        assert refused.returncode != 0 and "cannot send its traffic through an exit node and be one" in refused.stderr, \
            refused.stderr
        a.start()
        b.start()
        deployment.wait_for_ping("a", "b", timeout=45)

        # Advertised, not approved: nothing routed through B.
        wait_for(lambda: (exit_state(a) or "").startswith("waiting: laptop-b is not an approved exit node"),
                 timeout=10, what="a to say b is not approved")
        assert exit_rules(a.host) == [], exit_rules(a.host)
        assert seen_by_p(a.host) == NAT_ADDRESS
        assert b.status()["routes"]["exit_node"] == {"advertised": True, "using": None, "state": None, "approved": False}, \
            b.status()["routes"]
        assert b.host.exec("sysctl", "-n", "net.ipv4.ip_forward").stdout.strip() == "1"

        # Approved: all of A's traffic leaves through B.
        deployment.hub.admin("route", "approve", "lab", b.status()["public_key"], "exit-node")
        wait_for(lambda: exit_state(a) == "active", timeout=10, interval=0.1, what="a to use b as its exit node")
        assert a.status()["routes"]["exit_node"]["using"] == "laptop-b"
        assert "exit node: not offered, using laptop-b: active" in a.status_text(), a.status_text()
        rules = "\n".join(exit_rules(a.host))
        assert "not from all fwmark 0x5267 lookup 21095" in rules and "suppress_prefixlength 0" in rules, rules
        assert "ipproto udp sport 31000-31799 lookup main" in rules and "to 203.0.113.1 lookup main" in rules, rules
        assert f"default dev {a.interface}" in exit_table(a.host)
        assert "0.0.0.0/0" in a.host.exec("wg", "show", a.interface, "allowed-ips").stdout
        to_p = a.host.exec("ip", "route", "get", P_ADDRESS, timeout=10).stdout
        assert f"dev {a.interface} table 21095" in to_p, to_p
        to_hub = a.host.exec("ip", "route", "get", "203.0.113.1", timeout=10).stdout
        assert "via 198.51.100.129 dev eth0" in to_hub, to_hub  # the hub stays on the underlay
        to_b = a.host.exec("ip", "route", "get", B_ADDRESS, "mark", "0x5267", timeout=10).stdout
        assert "via 198.51.100.129 dev eth0" in to_b, to_b  # WireGuard's own packets too
        wait_for(lambda: seen_by_p(a.host) == B_ADDRESS, timeout=20, interval=0.5,
                 what="P to see A's connections coming from B (through the exit node)")
        assert deployment.ping("a", "b"), "the tunnel itself still works (WireGuard's packets bypass the exit table)"
        to_p6 = a.host.exec("ip", "-6", "route", "get", P_ADDRESS6, timeout=10).stdout
        assert f"dev {a.interface} table 21095" in to_p6, to_p6
        wait_for(lambda: seen_by_p6(a.host) == B_ADDRESS6, timeout=20, interval=0.5,
                 what="P to see A's IPv6 connections coming from B (masqueraded there)")
        assert a.status()["hub"]["state"] == "connected", a.status()["hub"]
        assert "exit node laptop-b active" in a.log()

        # B's agent stops: A falls back to its own default route.
        b.down()
        wait_for(lambda: exit_rules(a.host) == [] and exit_table(a.host) == "", timeout=30, interval=0.2,
                 what="a to remove its exit-node rules once b left")
        assert (exit_state(a) or "").startswith("waiting: no peer named LAPTOP-B"), exit_state(a)
        assert seen_by_p(a.host) == NAT_ADDRESS, "A's own route is back"
        assert seen_by_p6(a.host) == "", "and no IPv6 path through B"
        assert a.status()["hub"]["state"] == "connected"

        # B back: A uses it again; then A down (SIGTERM through the control socket) leaves nothing.
        b.start()
        wait_for(lambda: exit_state(a) == "active", timeout=45, what="a to use b again")
        assert b.status()["routes"]["exit_node"]["approved"] is True, "b's welcome describes its approval"
        wait_for(lambda: seen_by_p(a.host) == B_ADDRESS, timeout=30, interval=0.5, what="P to see B's address again")
        a.down()
        assert exit_rules(a.host) == [] and exit_table(a.host) == "", (exit_rules(a.host), exit_table(a.host))
        assert seen_by_p(a.host) == NAT_ADDRESS

        # SIGKILL: the rules stay, but the TUN device and with it table 21095's route went with wireguard-go, so
        # lookups fall through to main; the next start removes the rules.
        a.start()
        wait_for(lambda: exit_state(a) == "active", timeout=45, what="a to use b after its restart")
        a.kill()
        wait_for(lambda: exit_table(a.host) == "", timeout=15, what="the table's route to go with the TUN device")
        assert len(exit_rules(a.host)) >= 6, "a crash leaves the rules behind"
        wait_for(lambda: seen_by_p(a.host) == NAT_ADDRESS, timeout=15, what="P to see A's own address after the crash")
        with open(a.config) as handle:
            config = handle.read().replace('exit_node = "LAPTOP-B"\n', "")
        with open(a.config, "w") as handle:
            handle.write(config)
        a.start()
        wait_for(lambda: exit_rules(a.host) == [], timeout=15, what="the restarted agent a to remove the stale rules")
        assert a.status()["routes"].get("exit_node") is None
        a.down()
        b.down()
    except Exception:
        print(deployment.logs())
        raise
