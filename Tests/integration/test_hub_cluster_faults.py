"""Faults of a hub cluster (issue 14): three real hubs on one PostgreSQL database, members of a real 3-node nats-server
cluster, Python agents on each hub exchanging numbered signal streams across hubs while
  - the NATS node a hub is connected to is killed with SIGKILL, and
  - PostgreSQL is stopped and started again.
Every wait is bounded; what was lost, when relaying resumed and when joins were served again are printed. What NATS
itself guarantees (at most once, no buffering for a subscriber that is moving to another node) is documented in
docs/scaling.md; the assertions hold the hubs to what they can promise: nothing duplicated, nothing lost once every hub
is reconnected, and relaying back within a bound."""
import base64
import json
import signal
import struct
import threading
import time
import urllib.request

import pytest
from hubharness import Hub
from natscluster import MISSING_REASON, SERVER, NATSCluster
from pgserver import PostgresServer, PostgresUnavailable
from riftproto import b64
from rgclient import Agent
from websockets.exceptions import ConnectionClosed, InvalidStatus

pytestmark = pytest.mark.skipif(SERVER is None, reason=MISSING_REASON)

# Signals per second in each stream: well under the per-connection limit (100/s), enough to see a gap of 50 ms.
RATE = 40
# Bounds, generous for a slow CI machine; the measured figures are printed.
RESUME_BOUND = 15.0
# A signal sent just before a node freezes or is killed can still be inside it (in the sending hub's NATS buffer or the
# node's) and is lost with it: the fault window opens this long before the SIGSTOP or SIGKILL. Seen once in CI each: a
# signal sent 25 ms before the freeze; one sent a few ms before the kill.
IN_FLIGHT_ALLOWANCE = 0.25
JOIN_RECOVERY_BOUND = 30.0


@pytest.fixture
def cluster(tmp_path):
    """A PostgreSQL server of the test's own, a 3-node NATS cluster, and three hubs (hub-1..3) on one database with
    network `home` and a token; yields (hubs, token, nats, postgres)."""
    try:
        postgres = PostgresServer()
    except PostgresUnavailable as absent:
        pytest.skip(str(absent))
    nats = NATSCluster()
    hubs = []
    try:
        database = postgres.create_database()
        options = lambda i: ("--nats", nats.urls, "--hub-id", f"hub-{i}", "--ping-interval", "1", "--pong-timeout", "3")
        hubs = [Hub(tmp_path / f"state{i}", options(i), database=database) for i in (1, 2, 3)]
        hubs[0].create_network("home")
        token = hubs[0].create_token("home", "fleet")[1]
        for hub in hubs:
            hub.start()
        for index, hub in enumerate(hubs, 1):
            for other in {1, 2, 3} - {index}:
                assert hub.wait_for_log(f"hub=hub-{other}-.*cluster: new hub heard", timeout=20), "\n".join(hub.log_lines)
        yield hubs, token, nats, postgres
    finally:
        for hub in hubs:
            hub.stop()
        nats.stop()
        postgres.destroy()


class Inbox:
    """Reads everything one agent receives, on a thread of its own, with the time it arrived."""

    def __init__(self, agent):
        self.agent, self.messages, self.closed = agent, [], None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            while True:
                message = json.loads(self.agent.ws.recv())
                self.messages.append((time.monotonic(), message))
        except ConnectionClosed as closed:
            self.closed = closed.rcvd.code if closed.rcvd else None
        except Exception as error:  # noqa: BLE001 (a test reading a closed socket)
            self.closed = repr(error)


class Stream:
    """Numbered signals from one agent to another at RATE per second; each number is in the sealed box's nonce, so the
    receiver can tell which arrived, which twice and which never."""

    def __init__(self, number, sender, receiver):
        self.number, self.sender, self.receiver = number, sender, receiver
        self.sent = []  # (time, sequence number)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._send, daemon=True)

    def blob(self, sequence):
        return {"nonce": b64(struct.pack(">QQQ", 0x52494654, self.number, sequence)), "box": b64(bytes(48))}

    def sequence_of(self, sealed):
        magic, number, sequence = struct.unpack(">QQQ", base64.b64decode(sealed["nonce"]))
        return sequence if magic == 0x52494654 and number == self.number else None

    def start(self):
        self.thread.start()
        return self

    def _send(self):
        sequence = 0
        while not self.stop.is_set():
            sequence += 1
            self.sender.signal("candidate", self.receiver.public_key, sealed=self.blob(sequence), msg_id=f"s{self.number}-{sequence}")
            self.sent.append((time.monotonic(), sequence))
            time.sleep(1 / RATE)

    def finish(self):
        self.stop.set()
        self.thread.join(10)

    def received(self, inbox):
        """[(arrival time, sequence)] of this stream's signals in the receiver's inbox, in arrival order."""
        arrived = []
        for at, message in list(inbox.messages):
            if message.get("type") == "candidate" and message.get("from") == self.sender.public_key:
                sequence = self.sequence_of(message["sealed"])
                if sequence is not None:
                    arrived.append((at, sequence))
        return arrived

    def refused(self, inbox):
        """Sequence numbers the sender's hub answered with an error (the sender knows those were not relayed)."""
        refused = {}
        for _, message in list(inbox.messages):
            reference = message.get("ref") or ""
            if message.get("type") == "error" and reference.startswith(f"s{self.number}-"):
                refused[int(reference.split("-")[1])] = message["code"]
        return refused


def joined(hub, token, name, key=None):
    agent = Agent(hub, "home", token, name=name, key=key)
    agent.welcome = agent.join()
    return agent


def mesh(hubs, token):
    """One agent per hub (a on hub-1, b on hub-2, c on hub-3), each having seen the other two, with inboxes."""
    agents = [joined(hub, token, name) for hub, name in zip(hubs, "abc")]
    for agent in agents:
        known = {peer["public_key"] for peer in agent.welcome["peers"]}
        deadline = time.monotonic() + 10
        while len(known) < 2 and time.monotonic() < deadline:
            message = agent.expect("peer_joined", max(0.1, deadline - time.monotonic()))
            known.add(message["peer"]["public_key"])
        assert len(known) == 2, f"{agent.name} sees {known}"
    return agents, [Inbox(agent) for agent in agents]


def connected_node(nats, hub_id, timeout=10):
    """The index of the NATS node whose /connz lists the connection named after `hub_id` (`<hub_id>-<random>`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for index, node in enumerate(nats.nodes):
            if node["process"].poll() is not None:
                continue
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{node['monitor']}/connz", timeout=2) as response:
                    names = [connection.get("name", "") for connection in json.load(response).get("connections", [])]
            except OSError:
                continue
            if any(name.startswith(hub_id + "-") for name in names):
                return index
        time.sleep(0.1)
    return None


def gaps(arrived):
    """The longest pause between two consecutive arrivals, in seconds."""
    times = [at for at, _ in arrived]
    return max((later - earlier for earlier, later in zip(times, times[1:])), default=0.0)


def check_stream(stream, received, refused, window, label):
    """Asserts no duplicate and nothing lost outside the fault `window` (start, healed), or at all when it is None;
    prints what the window cost."""
    sequences = [sequence for _, sequence in received]
    duplicates = sorted({s for s in sequences if sequences.count(s) > 1})
    assert not duplicates, f"{label}: delivered twice: {duplicates[:10]}"
    sent = dict((sequence, at) for at, sequence in stream.sent)
    missing = sorted(set(sent) - set(sequences) - set(refused))
    if window is None:
        assert not missing, f"{label}: lost: {missing[:10]}"
    else:
        fault_start, healed = window
        outside = [s for s in missing if not fault_start <= sent[s] <= healed]
        assert not outside, f"{label}: lost outside the fault window: {outside[:10]} (window {fault_start:.2f}..{healed:.2f})"
        assert any(sent[s] > healed for s in sent), f"{label}: nothing was sent after the fault healed"
    print(f"{label}: sent {len(sent)}, delivered {len(set(sequences))}, refused with an error {len(refused)}, lost silently "
          f"{len(missing)}, longest gap between deliveries {gaps(received):.2f} s")
    return missing


def test_killing_the_nats_node_of_a_hub_loses_no_signal_once_the_hubs_reconnect(cluster):
    hubs, token, nats, _ = cluster
    (a, b, c), (inbox_a, inbox_b, inbox_c) = mesh(hubs, token)
    nodes = {hub_id: connected_node(nats, hub_id) for hub_id in ("hub-1", "hub-2", "hub-3")}
    assert None not in nodes.values(), f"every hub shows in a node's /connz: {nodes}"
    victim = nodes["hub-1"]
    print(f"\nNATS nodes of the hubs: {nodes}; killing node n{victim + 1}, the one hub-1 is connected to")

    # a (hub-1, whose node dies) sends to b; c sends to a; b sends to c (hubs whose node may survive).
    streams = [Stream(1, a, b).start(), Stream(2, c, a).start(), Stream(3, b, c).start()]
    inbox_of = {b.public_key: inbox_b, a.public_key: inbox_a, c.public_key: inbox_c}
    sender_inbox = {a.public_key: inbox_a, b.public_key: inbox_b, c.public_key: inbox_c}
    time.sleep(2)
    killed = time.monotonic()
    nats.nodes[victim]["process"].kill()
    moved = {hub_id: connected_node(nats, hub_id, timeout=RESUME_BOUND) for hub_id, node in nodes.items() if node == victim}
    reconnected = time.monotonic()
    assert None not in moved.values(), f"hubs of the killed node reconnected elsewhere within {RESUME_BOUND} s: {moved}"
    for hub in hubs:
        assert hub.process.poll() is None, "every hub survives"
    # The hubs resubscribe and exchange snapshots on reconnection; allow them a second before holding them to "no loss".
    healed = reconnected + 1.0
    time.sleep(3)
    for stream in streams:
        stream.finish()
    time.sleep(1.5)  # the last signals in flight
    print(f"hubs of the killed node on another node after {reconnected - killed:.2f} s: {moved}")
    for stream in streams:
        received = stream.received(inbox_of[stream.receiver.public_key])
        refused = stream.refused(sender_inbox[stream.sender.public_key])
        check_stream(stream, received, refused, (killed - IN_FLIGHT_ALLOWANCE, healed), f"stream {stream.number} ({stream.sender.name}->{stream.receiver.name})")
        resumed = [at for at, sequence in received if at > killed and dict((s, t) for t, s in stream.sent)[sequence] > killed]
        assert resumed, f"stream {stream.number}: nothing sent after the kill arrived"
        print(f"  first delivery of a signal sent after the kill: {resumed[0] - killed:.2f} s after it")
    # No agent was told a peer left: presence survived the move.
    for inbox in (inbox_a, inbox_b, inbox_c):
        left = [message for _, message in inbox.messages if message["type"] == "peer_left"]
        assert not left, f"false departures: {left}"
        assert inbox.closed is None, f"a session was closed: {inbox.closed}"
    for agent in (a, b, c):
        agent.close()


def test_postgres_restart_keeps_relaying_and_refuses_joins_retryably_until_it_is_back(cluster):
    hubs, token, _, postgres = cluster
    (a, b, c), (inbox_a, inbox_b, inbox_c) = mesh(hubs, token)
    streams = [Stream(1, a, b).start(), Stream(2, b, c).start(), Stream(3, c, a).start()]
    inbox_of = {a.public_key: inbox_a, b.public_key: inbox_b, c.public_key: inbox_c}
    time.sleep(1.5)
    stopped = time.monotonic()
    postgres.stop()
    print(f"\nPostgreSQL stopped in {time.monotonic() - stopped:.2f} s")

    # A join during the outage: a clear, retryable refusal (internal_error, close 1011), promptly, on every hub.
    for hub in hubs:
        asked = time.monotonic()
        newcomer = Agent(hub, "home", token, name="newcomer")
        try:
            newcomer.connect()
            error = newcomer.expect("error", timeout=10)
            code = newcomer.expect_closed(timeout=10)
        except InvalidStatus as refused:  # an HTTP refusal would do as well, if it is a retryable one
            error, code = {"code": f"http {refused.response.status_code}"}, None
        answered = time.monotonic() - asked
        assert error["code"] == "internal_error" and code == 1011, (error, code)
        assert "retry" in error.get("message", ""), error
        print(f"join on {hub.extra_args[3]} during the outage: {error['code']} ({error.get('message')}), close {code}, after {answered:.2f} s")
        assert answered < 10, "a join during the outage must not hang"
    # The agent treats internal_error as retryable: it is not in the protocol's permanent codes.
    assert hub.process.poll() is None

    time.sleep(max(0.0, 4 - (time.monotonic() - stopped)))  # PostgreSQL stays down about four seconds
    restarted = time.monotonic()
    postgres.start()
    print(f"PostgreSQL down for {restarted - stopped:.2f} s")

    # After PostgreSQL is back, a new join succeeds on every hub within a bound (the hubs' reconnection backoff is capped at 8 s).
    recovered = {}
    for hub in hubs:
        deadline = time.monotonic() + JOIN_RECOVERY_BOUND
        agent = None
        while agent is None and time.monotonic() < deadline:
            try:
                agent = joined(hub, token, f"late-{hub.extra_args[3]}")
            except (AssertionError, ConnectionClosed, InvalidStatus, TimeoutError, OSError):
                time.sleep(0.25)
        assert agent is not None, f"{hub.extra_args[3]}: no join within {JOIN_RECOVERY_BOUND} s after PostgreSQL came back:\n" + "\n".join(hub.log_lines[-15:])
        recovered[hub.extra_args[3]] = time.monotonic() - restarted
        agent.close()
    print("joins served again after PostgreSQL came back: " + ", ".join(f"{hub} {seconds:.2f} s" for hub, seconds in recovered.items()))

    time.sleep(1.0)
    for stream in streams:
        stream.finish()
    time.sleep(1.5)
    for stream in streams:
        received = stream.received(inbox_of[stream.receiver.public_key])
        refused = stream.refused(inbox_of[stream.sender.public_key])
        # Relaying needs no storage: nothing may be lost at all, so the "fault window" is empty.
        missing = check_stream(stream, received, refused, None, f"stream {stream.number} ({stream.sender.name}->{stream.receiver.name})")
        assert not missing and not refused, (missing, refused)
    originals = {a.public_key, b.public_key, c.public_key}
    for inbox in (inbox_a, inbox_b, inbox_c):
        left = [message for _, message in inbox.messages if message["type"] == "peer_left" and message["public_key"] in originals]
        assert not left, f"false departures during the outage: {left}"
        assert inbox.closed is None, f"a session was closed during the outage: {inbox.closed}"
    for agent in (a, b, c):
        agent.close()


def test_a_frozen_nats_node_is_left_before_the_other_hubs_declare_its_hubs_dead(cluster):
    """A node that stops answering without resetting its sockets (SIGSTOP: a frozen VM, a partition) is noticed only by
    the client's pings; the hubs must leave it before the others' 5 s heartbeat deadline, or every remote peer is
    announced left. Signals through it are lost until then (core NATS): measured and printed, bounded, never duplicated."""
    hubs, token, nats, _ = cluster
    (a, b, c), (inbox_a, inbox_b, inbox_c) = mesh(hubs, token)
    nodes = {hub_id: connected_node(nats, hub_id) for hub_id in ("hub-1", "hub-2", "hub-3")}
    victim = nodes["hub-1"]
    streams = [Stream(1, a, b).start(), Stream(2, c, a).start(), Stream(3, b, c).start()]
    inbox_of = {a.public_key: inbox_a, b.public_key: inbox_b, c.public_key: inbox_c}
    time.sleep(2)
    frozen = time.monotonic()
    process = nats.nodes[victim]["process"]
    process.send_signal(signal.SIGSTOP)
    try:
        moved = {}
        while len(moved) < sum(1 for node in nodes.values() if node == victim) and time.monotonic() < frozen + RESUME_BOUND:
            for hub_id, node in nodes.items():
                if node == victim and hub_id not in moved:
                    now_on = connected_node(nats, hub_id, timeout=0.3)
                    if now_on is not None and now_on != victim:
                        moved[hub_id] = time.monotonic() - frozen
        healed = time.monotonic() + 1.0
        time.sleep(3)
        for stream in streams:
            stream.finish()
        time.sleep(1.5)
    finally:
        process.send_signal(signal.SIGCONT)
    print(f"\nNATS node n{victim + 1} frozen: its hubs moved to another node after " + ", ".join(f"{h} {s:.2f} s" for h, s in moved.items()))
    assert len(moved) == sum(1 for node in nodes.values() if node == victim), f"hubs still on the frozen node after {RESUME_BOUND} s"
    for stream in streams:
        received = stream.received(inbox_of[stream.receiver.public_key])
        refused = stream.refused(inbox_of[stream.sender.public_key])
        check_stream(stream, received, refused, (frozen - IN_FLIGHT_ALLOWANCE, healed), f"stream {stream.number} ({stream.sender.name}->{stream.receiver.name})")
    originals = {a.public_key, b.public_key, c.public_key}
    for inbox in (inbox_a, inbox_b, inbox_c):
        left = [message for _, message in inbox.messages if message["type"] == "peer_left" and message["public_key"] in originals]
        assert not left, f"false departures: the hubs on the frozen node were declared dead: {left}"
    for agent in (a, b, c):
        agent.close()
