"""The relay measurement on the join storm's own sockets and epoll, for a load generator that costs less than the hub.

`RelayMeasurement` on asyncio pays a transport write, a `data_received` call, a `bytes` per frame and a callback per
delivery, and stamps the receive time whenever the event loop gets round to the data. This keeps the members' sockets
from `loadgen_storm.EpollStorm` (never handed to asyncio) and runs each step in one loop of its own: the same open-loop
schedule, pairs, message mix (1 offer : 3 candidates, agent 2k -> 2k+1) and nonce (CLOCK_MONOTONIC ns at send, a
sequence number), the same figures and saturation rule (`loadgen_relay.rate_steps`).

Cheap per message: every pair's two frames are built once, masked with one fixed key (allowed by RFC 6455 for a
benchmark: the key only has to be unpredictable to intermediaries; it is not all zero, so the hub unmasks as usual) so
only the 32 nonce characters are masked per message; one `send` per message; `recv_into` one preallocated buffer,
the receive time stamped once per read, frames parsed in place. Between steps the epoll is watched by asyncio
(`add_reader`) so pings are answered (masked pongs) while the load generator idles. Plain `ws://` only.
"""
from __future__ import annotations

import asyncio
import binascii
import json
import select
import struct
import time

from loadgen_relay import KIND_CYCLE, SLOW_NS, RelayMeasurement, own_cpu, own_system_cpu, runqueue_waits
from riftproto import OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, masked_frame

IN, OUT, ERR = select.EPOLLIN, select.EPOLLOUT, select.EPOLLERR | select.EPOLLHUP
MASK_KEY = bytes((0x5A, 0xC3, 0x3C, 0xA5))  # fixed for every relay frame (see the module's doc comment)
NONCE_CHARS = 32  # base64 of the 24-byte nonce
NONCE_KEY = b'"nonce":"'
TYPE_KEY = b'"type":"'
STAMP = struct.Struct("<QQQ")
# The sender's cadence: the asyncio client sleeps 1 ms between bursts, and so does this one, so the hub sees the same
# arrival pattern from both. (Sending each message the moment it is due, on every wake-up, spreads arrivals evenly:
# the hub then wakes for one or two messages at a time and used ~69 % of a CPU at 20,000 msg/s instead of ~55 %.)
SEND_TICK = 0.001
SENT_NS = struct.Struct("<Q")


def mask_stream(length: int, offset: int) -> int:
    """The mask key's bytes for payload bytes [offset, offset + length), as a little-endian int."""
    shift = offset % 4
    key = MASK_KEY[shift:] + MASK_KEY[:shift]
    return int.from_bytes((key * (length // 4 + 1))[:length], "little")


def masked(data: bytes, offset: int) -> bytes:
    return (int.from_bytes(data, "little") ^ mask_stream(len(data), offset)).to_bytes(len(data), "little")


class FrameTemplate:
    """One signal's client frame split around its nonce: `head` (header, key, masked prefix) + masked nonce + `tail`."""
    __slots__ = ("head", "nonce_mask", "tail")

    def __init__(self, prefix: bytes, suffix: bytes):
        length = len(prefix) + NONCE_CHARS + len(suffix)
        if length < 126:
            header = struct.pack("!BB", 0x80 | OP_TEXT, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | OP_TEXT, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | OP_TEXT, 0x80 | 127, length)
        self.head = header + MASK_KEY + masked(prefix, 0)
        self.nonce_mask = mask_stream(NONCE_CHARS, len(prefix))
        self.tail = masked(suffix, len(prefix) + NONCE_CHARS)

    def frame(self, nonce_base64: bytes) -> bytes:
        return self.head + (int.from_bytes(nonce_base64, "little") ^ self.nonce_mask).to_bytes(NONCE_CHARS, "little") \
            + self.tail


class EpollRelay(RelayMeasurement):
    """`RelayMeasurement` over the connections of `engine` (a finished `EpollStorm`); `step` blocks the thread."""

    def __init__(self, engine, agents):
        super().__init__(agents)
        self.engine, self.fleet = engine, engine.fleet
        self.connection_of = {connection.agent.index: connection for connection in engine.connections.values()}
        self.frames = [(self.connection_of[sender.index], [FrameTemplate(*templates[kind]) for kind in KIND_CYCLE])
                       for sender, templates in self.pairs]
        self.lost = 0

    # one step ---------------------------------------------------------------------------------------------------------
    async def step(self, rate: float, seconds: float, hub) -> dict:
        """`rate` messages/s for `seconds`, then up to 3 s for stragglers; the figures of `RelayMeasurement.step`."""
        for samples in self.latencies.values():
            samples.clear()
        self.received, self.errors, self.slow = 0, {}, []
        loop = asyncio.get_running_loop()
        loop.remove_reader(self.engine.poller.fileno())  # this step polls the epoll itself
        try:
            waits = runqueue_waits(hub)
            before, mine, kernel = hub.sample(), own_cpu(), own_system_cpu()
            started = time.monotonic()
            sent = self.send_for(rate, seconds, started)
            window = time.monotonic() - started
            deadline = time.monotonic() + 3
            poll, handle = self.engine.poller.poll, self.handle
            while self.received + sum(self.errors.values()) < sent and time.monotonic() < deadline:
                handle(poll(0.01))
            after, mine_after, kernel_after = hub.sample(), own_cpu(), own_system_cpu()
            waits = (waits, runqueue_waits(hub))
        finally:
            self.watch(loop)
        return self.summary(rate, sent, window, time.monotonic() - started, before, after, mine_after - mine,
                            kernel_after - kernel, waits)

    def send_for(self, rate: float, seconds: float, started: float) -> int:
        """The open-loop schedule of `RelayMeasurement.step`: every `SEND_TICK` every message due by then, in one
        burst; deliveries are handled as they arrive in between. Returns how many were sent."""
        frames, count = self.frames, len(self.frames)
        poll, handle, monotonic, monotonic_ns = self.engine.poller.poll, self.handle, time.monotonic, time.monotonic_ns
        pack, b64encode = STAMP.pack, binascii.b2a_base64
        sent = cursor = 0
        while (now := monotonic()) - started < seconds:
            due = int(rate * (now - started)) - sent
            for _ in range(due):
                connection, templates = frames[cursor]
                cursor = cursor + 1 if cursor + 1 < count else 0
                template = templates[sent & 3]
                sent += 1
                self.send(connection, template.frame(b64encode(pack(monotonic_ns(), sent, 0), newline=False)))
            tick = now + SEND_TICK
            while (left := tick - monotonic()) > 0:
                handle(poll(left))
        return sent

    # sockets ----------------------------------------------------------------------------------------------------------
    def send(self, connection, frame: bytes) -> None:
        if connection.pending:
            connection.pending += frame
            return
        try:
            sent = connection.sock.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.drop(connection)
            return
        if sent < len(frame):
            connection.pending = frame[sent:]  # EPOLLOUT (edge-triggered, registered by the storm) flushes it

    def flush(self, connection) -> None:
        try:
            sent = connection.sock.send(connection.pending)
        except BlockingIOError:
            return
        except OSError:
            self.drop(connection)
            return
        connection.pending = connection.pending[sent:]

    def handle(self, events) -> None:
        connections = self.engine.connections
        for fd, mask in events:
            connection = connections.get(fd)
            if connection is None:
                continue
            if mask & OUT and connection.pending:
                self.flush(connection)
            if mask & IN:
                self.receive(connection)
            elif mask & ERR:
                self.drop(connection)

    def receive(self, connection) -> None:
        """Reads until the kernel has nothing more (edge-triggered), stamping each read, and handles whole frames."""
        scratch, view, sock = self.engine.scratch, self.engine.scratch_view, connection.sock
        size = len(scratch)
        while True:
            try:
                count = sock.recv_into(scratch)
            except BlockingIOError:
                return
            except OSError:
                count = 0
            if not count:
                self.drop(connection)
                return
            received_ns = time.monotonic_ns()
            buffer = connection.buffer
            if buffer:
                buffer += view[:count]
                data, end = buffer, len(buffer)
            else:
                data, end = scratch, count
            offset = self.frames_in(connection, data, end, received_ns)
            if connection.fd not in self.engine.connections:
                return
            if data is buffer:
                del buffer[:offset]
            elif offset < end:
                buffer += view[offset:end]
            if count < size:
                return

    def frames_in(self, connection, data: bytearray, end: int, received_ns: int) -> int:
        """Handles the whole (unmasked, server) frames in data[:end]; returns where the first partial one starts."""
        offset = 0
        latencies = self.latencies
        while end - offset >= 2:
            first, length = data[offset], data[offset + 1] & 0x7F
            start = offset + 2
            if length == 126:
                if end - start < 2:
                    break
                length, start = (data[start] << 8) | data[start + 1], start + 2
            elif length == 127:
                if end - start < 8:
                    break
                length, start = int.from_bytes(data[start:start + 8], "big"), start + 8
            stop = start + length
            if stop > end:
                break
            offset = stop
            opcode = first & 0x0F
            if opcode == OP_TEXT:
                at = data.find(NONCE_KEY, start, stop)
                if at >= 0:  # a relayed signal: only its kind and the first 8 bytes of its nonce are needed
                    at += 9
                    sent_ns = SENT_NS.unpack_from(binascii.a2b_base64(data[at:at + 16]))[0]
                    kind_at = data.find(TYPE_KEY, start, stop) + 8
                    latency = received_ns - sent_ns
                    latencies["offer" if data[kind_at] == 0x6F else "candidate"].append(latency)
                    self.received += 1
                    if latency > SLOW_NS:
                        self.slow.append((received_ns, latency))
                else:
                    self.fleet.on_member_message(connection.agent, json.loads(bytes(data[start:stop])))
            elif opcode == OP_PING:
                self.send(connection, masked_frame(OP_PONG, bytes(data[start:stop])))
            elif opcode == OP_CLOSE:
                self.drop(connection)
                return offset
        return offset

    def drop(self, connection) -> None:
        if self.engine.connections.pop(connection.fd, None) is None:
            return
        self.lost += 1
        connection.agent.phase, connection.agent.error = "failed", "closed after the welcome"
        try:
            self.engine.poller.unregister(connection.fd)
        except (OSError, ValueError):
            pass
        connection.sock.close()

    # between steps ----------------------------------------------------------------------------------------------------
    def watch(self, loop) -> None:
        """Lets asyncio wake this relay when any member's socket has something (pings while the generator idles)."""
        loop.add_reader(self.engine.poller.fileno(), lambda: self.handle(self.engine.poller.poll(0)))

    def close_all(self) -> None:
        """A close frame on every connection, then the sockets and the epoll."""
        try:
            asyncio.get_running_loop().remove_reader(self.engine.poller.fileno())
        except RuntimeError:
            pass
        for connection in list(self.engine.connections.values()):
            try:
                connection.sock.send(masked_frame(OP_CLOSE, (1000).to_bytes(2, "big")))
            except OSError:
                pass
            connection.sock.close()
        self.engine.connections.clear()
        self.engine.poller.close()


def self_check() -> None:
    """Frames built from a template unmask to the message; a server frame stream yields its latency and a pong."""
    import base64
    import riftproto
    prefix, suffix = riftproto.signal_template("offer", "A" * 44, "B" * 660)
    nonce = base64.b64encode(STAMP.pack(123, 7, 0))
    frame = FrameTemplate(prefix, suffix).frame(nonce)
    final, opcode, payload, end = riftproto.parse_frame(frame)
    key = frame[end - len(payload) - 4:end - len(payload)]
    plain = bytes(byte ^ key[index % 4] for index, byte in enumerate(payload))
    assert (final, opcode, end, key) == (True, OP_TEXT, len(frame), MASK_KEY) and plain == prefix + nonce + suffix

    class Sent:
        def __init__(self):
            self.fd, self.pending, self.frames = 3, b"", []
    relay = EpollRelay.__new__(EpollRelay)
    relay.latencies, relay.received, relay.slow = {"offer": [], "candidate": []}, 0, []
    relay.send = lambda connection, data: connection.frames.append(data)
    relayed = b'{"type":"candidate","from":"x","sealed":{"nonce":"' + nonce + b'","box":"y"}}'
    stream = bytearray(bytes((0x81, 126)) + len(relayed).to_bytes(2, "big") + relayed)
    stream += bytes((0x89, 2)) + b"hb" + b"\x81"  # a ping, then the first byte of a frame still on its way
    connection = Sent()
    assert relay.frames_in(connection, stream, len(stream), 1123) == len(stream) - 1
    assert relay.latencies == {"offer": [], "candidate": [1000]} and relay.received == 1
    pong = connection.frames[0]  # masked: key at [2:6]
    unmasked = bytes(byte ^ pong[2 + index % 4] for index, byte in enumerate(pong[6:]))
    assert pong[0] == 0x80 | OP_PONG and unmasked == b"hb"
    print("loadgen_relay_epoll self-check: ok")


if __name__ == "__main__":
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "protoclient"))
    self_check()
