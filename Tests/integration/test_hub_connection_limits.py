"""Connections that prove nothing must not take the hub's descriptors from everyone else.

At its open-file limit the hub closes new connections as soon as it accepts them, keeping a reserve for its own
files: before, `accept` failed with EMFILE while the connection stayed queued, and lws retried it at once — a CPU in a
loop and a log line per try (457,880 lines in 70 s in a measurement). Sockets from one address that never finish
their upgrade are bounded per address too; that needs an address other than loopback, which is exempt, and is tested
in Tests/e2e/test_hub_pending_limit.py.
"""
import os
import socket
import time

from hubharness import eventually
from rgclient import Agent
from test_hub_tls_hostile import closed_by_hub

OPEN_FILES = 256
# AcceptGuard.maximumSockets(fileDescriptorLimit: 256): an eighth (32) left to the process' other files.
MAXIMUM_SOCKETS = 224


def cpu_seconds(pid):
    """User plus system CPU time of process `pid` so far."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_idle_connections(port, count):
    """`count` TCP connections to the hub that send nothing."""
    return [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]


def test_at_its_open_file_limit_the_hub_refuses_at_once_without_spinning_and_serves_again(hub_factory):
    hub = hub_factory(start=False)
    _, token = hub.create_token("home", "limits")
    hub.open_files = OPEN_FILES
    hub.start()
    a = Agent(hub, "home", token, name="a")
    a.join()
    pid = hub.process.pid

    flood = open_idle_connections(hub.port, 2 * MAXIMUM_SOCKETS)
    try:
        assert eventually(lambda: sum(closed_by_hub(sock, timeout=0.001) is not None for sock in flood) >= MAXIMUM_SOCKETS // 2, timeout=5), \
            "the hub did not close the connections past its limit"
        held = len(os.listdir(f"/proc/{pid}/fd"))
        busy_from = cpu_seconds(pid)
        time.sleep(2)
        busy = cpu_seconds(pid) - busy_from
        metrics = hub.metrics()
    finally:
        for sock in flood:
            sock.close()

    assert held <= OPEN_FILES, f"{held} descriptors open against a limit of {OPEN_FILES}"
    # A hub retrying a failed accept spends the whole 2 s on it; one that refused spends next to nothing.
    assert busy < 1.0, f"the hub used {busy:.2f} s of CPU in 2 s while full: accept is spinning"
    assert not [line for line in hub.log_lines if "errno 24" in line], "accept failed with EMFILE"
    assert metrics['riftgate_hub_connections_refused_total{reason="capacity"}'] >= MAXIMUM_SOCKETS // 2
    assert len([line for line in hub.log_lines if "open-file limit" in line]) == 1, "refusals are logged once, then summed up"

    # The flood gone, the hub serves again, and the agent that was in all along still relays.
    b = Agent(hub, "home", token, name="b")
    b.welcome = eventually(lambda: _joined(b), timeout=10)
    assert b.welcome, "no room for a new agent after the flood ended"
    a.signal("offer", b.public_key)
    assert b.expect("offer", skip=("peer_joined",))["from"] == a.public_key


def _joined(agent):
    try:
        return agent.join()
    except Exception:  # refused while the hub still closes the flood's connections
        return None
