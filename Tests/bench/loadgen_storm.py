"""The join storm on plain non-blocking sockets and one epoll, for a load generator that costs less than the hub.

`AgentFleet.storm` on asyncio spends about as much CPU per join as the hub does (a transport, a protocol, futures and
timers per connection, selector registration), so on a two-CPU machine the storm it measures ends when the load
generator does. This does the same joins (HTTP upgrade, challenge, `hello` with a real proof, welcome, then the
`peer_joined` of later members until every view is complete) with one edge-triggered epoll, a few system calls per
connection and no per-connection Python objects beyond one `StormConnection`. It blocks its thread for the storm:
nothing else runs in the load generator then. Afterwards every member's socket is handed to asyncio
(`WebSocketConnection.adopt`) so the idle and relay phases run as before, or kept here for the relay phase on epoll
(`loadgen_relay_epoll.py`).

Same rules as the asyncio storm: at most `concurrency` joins in flight (from connect to welcome), 30 s per attempt,
three attempts with a 0.5 s / 1 s back-off, the same timeline and failure reasons. Plain `ws://` only.
"""
from __future__ import annotations

import asyncio
import errno
import gc
import json
import select
import socket
import time
from collections import deque

import riftproto
from riftproto import OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, masked_frame, parse_frame
from wsclient import WebSocketConnection

ATTEMPT_SECONDS = 30
ATTEMPTS = 3
CONVERGE_SECONDS = 60
IN, OUT, ERR = select.EPOLLIN, select.EPOLLOUT, select.EPOLLERR | select.EPOLLHUP
# Connections to a loopback hub come from 127.0.0.1-8 in turn, the port picked at connect for the whole 4-tuple
# (IP_BIND_ADDRESS_NO_PORT): with ~19,000 connections from one address the kernel's search for a free ephemeral port
# (28,232 of them here) makes every connect slower.
SOURCE_ADDRESSES = [f"127.0.0.{n}" for n in range(1, 9)]
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


class StormConnection:
    """One attempt's socket and what has been read from it."""
    __slots__ = ("agent", "sock", "fd", "buffer", "upgraded", "pending", "deadline", "attempt")

    def __init__(self, agent, sock: socket.socket, attempt: int, deadline: float):
        self.agent, self.sock, self.fd, self.attempt, self.deadline = agent, sock, sock.fileno(), attempt, deadline
        self.buffer = bytearray()
        self.upgraded = False
        self.pending = b""  # bytes the kernel did not take yet


class EpollStorm:
    """Joins `fleet`'s agents (an `AgentFleet`) to the hub; `run` returns `AgentFleet.storm`'s timeline."""

    def __init__(self, fleet, concurrency: int, timeout: float):
        self.fleet, self.concurrency, self.timeout = fleet, concurrency, timeout
        self.poller = select.epoll()
        self.connections: dict[int, StormConnection] = {}
        self.in_flight = 0
        self.waiting = deque((agent, 0) for agent in fleet.agents)  # (agent, attempt) not started yet
        self.retries: list[tuple[float, object, int]] = []  # (due, agent, attempt)
        self.joins_left = len(fleet.agents)
        self.converged_at: float | None = None
        self.spread_sources = fleet.host.startswith("127.")
        # One receive buffer for every connection: `recv` would allocate (and, at this size, map and unmap) its own.
        self.scratch = bytearray(65536)
        self.scratch_view = memoryview(self.scratch)

    # the loop ----------------------------------------------------------------------------------------------------------
    def run(self) -> dict:
        fleet = self.fleet
        fleet.converged_count = 0
        started = time.monotonic()
        give_up = started + self.timeout
        next_check = started + 0.25
        while self.joins_left and (now := time.monotonic()) < give_up:
            self.start_joins(now)
            self.poll(0.05)
            if now >= next_check:
                self.expire(now)
                next_check = now + 0.25
        welcomed = time.monotonic()
        for connection in [c for c in self.connections.values() if c.agent.phase != "member"]:
            self.fail(connection, "TimeoutError", retry=False)
        failed = [agent for agent in fleet.agents if agent.phase != "member"]
        if not failed:
            converge_by = time.monotonic() + CONVERGE_SECONDS
            while self.converged_at is None and time.monotonic() < converge_by:
                self.poll(0.05)
        reasons: dict[str, int] = {}
        for agent in failed:
            reasons[agent.error or "unknown"] = reasons.get(agent.error or "unknown", 0) + 1
        return {"started": started, "welcomed": welcomed, "converged": self.converged_at, "failed": len(failed),
                "failure_reasons": reasons,
                "join_times": [agent.welcomed_at - agent.started for agent in fleet.agents if agent.phase == "member"]}

    def start_joins(self, now: float) -> None:
        while self.retries and self.retries[0][0] <= now:
            _, agent, attempt = self.retries.pop(0)
            self.waiting.appendleft((agent, attempt))
        while self.waiting and self.in_flight < self.concurrency:
            agent, attempt = self.waiting.popleft()
            self.connect(agent, attempt, now)

    def connect(self, agent, attempt: int, now: float) -> None:
        fleet = self.fleet
        agent.phase, agent.known, agent.error, agent.converged = "challenge", set(), None, False
        agent.started = now
        port = fleet.port_of(agent)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as asyncio's transports do
        if self.spread_sources:
            sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((SOURCE_ADDRESSES[agent.index % len(SOURCE_ADDRESSES)], 0))
        connection = StormConnection(agent, sock, attempt, now + ATTEMPT_SECONDS)
        connection.pending = fleet.request(agent.network, agent.token, port)
        self.in_flight += 1
        self.connections[connection.fd] = connection
        status = sock.connect_ex((fleet.host, port))
        if status not in (0, errno.EINPROGRESS):
            self.fail(connection, "ConnectionRefusedError" if status == errno.ECONNREFUSED else "OSError")
            return
        self.poller.register(connection.fd, IN | OUT | select.EPOLLET)
        if status == 0:
            self.flush(connection)

    def poll(self, timeout: float) -> None:
        connections = self.connections
        for fd, events in self.poller.poll(timeout):
            connection = connections.get(fd)
            if connection is None:
                continue
            if events & IN:
                self.receive(connection)
                if events & ERR and fd in connections:
                    self.lost(connection)
            elif events & ERR:
                self.lost(connection)
            elif events & OUT and connection.pending:
                self.flush(connection)

    def expire(self, now: float) -> None:
        for connection in [c for c in self.connections.values() if c.agent.phase != "member" and c.deadline <= now]:
            self.fail(connection, "TimeoutError")

    # one connection ----------------------------------------------------------------------------------------------------
    def flush(self, connection: StormConnection) -> None:
        try:
            sent = connection.sock.send(connection.pending)
        except BlockingIOError:
            return
        except OSError as error:
            self.fail(connection, type(error).__name__)
            return
        connection.pending = connection.pending[sent:]

    def send(self, connection: StormConnection, frame: bytes) -> None:
        if connection.pending:
            connection.pending += frame
        else:
            connection.pending = frame
            self.flush(connection)

    def receive(self, connection: StormConnection) -> None:
        if connection.pending:
            self.flush(connection)
        buffer, scratch = connection.buffer, self.scratch
        size = len(scratch)
        count = size
        while count == size:  # edge-triggered: read until the kernel has nothing more
            try:
                count = connection.sock.recv_into(scratch)
            except BlockingIOError:
                break
            except OSError:
                count = 0
            if not count:
                self.lost(connection)
                return
            buffer += self.scratch_view[:count]
        if not connection.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.fail(connection, "ConnectionError")
                return
            del buffer[:end + 4]
            connection.upgraded = True
        offset = 0
        while (frame := parse_frame(buffer, offset)) is not None:
            _, opcode, payload, offset = frame
            if opcode == OP_TEXT:
                self.message(connection, payload)
            elif opcode == OP_PING:
                self.send(connection, masked_frame(OP_PONG, payload))
            elif opcode == OP_CLOSE:
                self.lost(connection)
                return
            if connection.fd not in self.connections:
                return
        if offset:
            del buffer[:offset]

    def message(self, connection: StormConnection, payload: bytes) -> None:
        agent, fleet = connection.agent, self.fleet
        if agent.phase == "member":
            if b'"type":"peer_joined"' in payload:  # the bench's peers have plain names: no JSON parse needed
                at = payload.find(b'"public_key":"') + 14
                agent.known.add(payload[at:payload.find(b'"', at)].decode())
                self.check_converged(agent)
            else:
                fleet.on_member_message(agent, json.loads(payload))
            return
        message = json.loads(payload)
        kind = message.get("type")
        if agent.phase == "challenge" and kind == "challenge":
            hub_key, nonce = riftproto.challenge_keys(message)
            if hub_key != fleet.hub_key:
                self.fail(connection, "hub key changed", retry=False)
                return
            proof = riftproto.make_proof(agent.key, hub_key, nonce, agent.network, box=agent.box)
            agent.phase = "hello"
            self.send(connection, masked_frame(OP_TEXT, riftproto.encode(
                riftproto.hello(agent.public_key, f"bench-{agent.index}", proof))))
        elif agent.phase == "hello" and kind == "welcome":
            agent.phase = "member"
            agent.welcomed_at = time.monotonic()
            agent.known.update(peer["public_key"] for peer in message["peers"])
            self.in_flight -= 1
            self.joins_left -= 1
            self.check_converged(agent)
        elif kind == "error":
            self.fail(connection, message.get("code") or "error")

    def check_converged(self, agent) -> None:
        fleet = self.fleet
        if not agent.converged and len(agent.known) >= agent.expected:
            agent.converged = True
            fleet.converged_count += 1
            if fleet.converged_count == len(fleet.agents):
                self.converged_at = time.monotonic()

    def lost(self, connection: StormConnection) -> None:
        if connection.agent.phase == "member":  # closed by the hub after its welcome: no longer held
            self.drop(connection)
            connection.agent.phase, connection.agent.error = "failed", "closed after the welcome"
            return
        self.fail(connection, "ConnectionError")

    def fail(self, connection: StormConnection, reason: str, retry: bool = True) -> None:
        agent = connection.agent
        agent.error = agent.error or reason
        agent.phase = "failed"
        self.drop(connection)
        self.in_flight -= 1
        if retry and connection.attempt + 1 < ATTEMPTS:
            self.retries.append((time.monotonic() + 0.5 * (connection.attempt + 1), agent, connection.attempt + 1))
            self.retries.sort(key=lambda entry: entry[0])
        else:
            self.joins_left -= 1

    def drop(self, connection: StormConnection) -> None:
        if self.connections.pop(connection.fd, None) is None:
            return
        try:
            self.poller.unregister(connection.fd)
        except (OSError, ValueError):
            pass
        connection.sock.close()

    # after the storm ---------------------------------------------------------------------------------------------------
    async def adopt(self) -> None:
        """Hands every member's socket to asyncio (one `WebSocketConnection` each, with what was read but not yet
        parsed) and closes the epoll."""
        self.poller.close()
        loop = asyncio.get_running_loop()
        fleet = self.fleet
        for connection in list(self.connections.values()):
            agent = connection.agent
            _, protocol = await loop.create_connection(
                lambda: WebSocketConnection.adopted(fleet.on_message, agent, connection.buffer, connection.pending),
                sock=connection.sock)
            agent.connection = protocol
        self.connections.clear()


async def storm(fleet, concurrency: int, timeout: float, keep: bool = False) -> dict:
    """`AgentFleet.storm` on epoll: the same timeline; the members' connections are asyncio's afterwards, or with
    `keep` stay on the epoll as `fleet.storm_engine` (for `loadgen_relay_epoll.EpollRelay`)."""
    engine = EpollStorm(fleet, concurrency, timeout)
    collecting = gc.isenabled()
    gc.disable()  # the storm allocates tens of thousands of objects and frees them in order: no cycles to look for
    try:
        timeline = engine.run()
    finally:
        if collecting:
            gc.enable()
    if keep:
        fleet.storm_engine = engine
    else:
        await engine.adopt()
    return timeline
