"""A minimal asyncio WebSocket client (RFC 6455) for the hub load generator.

The `websockets` package costs tens of microseconds per message in Python, which would make the load generator the
bottleneck at 10,000 connections and thousands of messages per second. This client does only what the riftgate
protocol needs: one HTTP upgrade, masked text frames out, unmasked text/ping/close frames in, pongs. Messages are
handed to a callback as `bytes` so the caller decides what to parse.
"""
from __future__ import annotations

import asyncio

import riftproto
from riftproto import OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, masked_frame, parse_frame


class WebSocketConnection(asyncio.Protocol):
    """One client connection. `on_message(connection, payload_bytes)` is called for every text message in order;
    `context` is the caller's object for this connection (set before any message can arrive).

    `opened` resolves when the server answered 101 (or fails with ConnectionError); `closed` resolves when the TCP
    connection is gone.
    """

    def __init__(self, request: bytes, on_message, context=None):
        self.request = request
        self.on_message = on_message
        self.context = context
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future = loop.create_future()
        self.closed: asyncio.Future = loop.create_future()
        self.close_code: int | None = None
        self._buffer = bytearray()
        self._upgraded = False
        self._fragments: list[bytes] | None = None

    upgrade_request = staticmethod(riftproto.upgrade_request)

    @classmethod
    def adopted(cls, on_message, context, unparsed: bytes = b"", unsent: bytes = b"") -> "WebSocketConnection":
        """A connection upgraded elsewhere (`loadgen_storm.py`), for `loop.create_connection(..., sock=...)`:
        `unparsed` is what was read and not yet handled, `unsent` what the kernel did not take yet."""
        connection = cls(unsent, on_message, context)
        connection._upgraded = True
        connection.opened.set_result(True)
        connection._buffer += unparsed
        return connection

    # asyncio.Protocol ------------------------------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        if self.request:
            transport.write(self.request)
        if self._buffer:
            self._parse_frames(self._buffer)

    def connection_lost(self, exc) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed during the upgrade: {exc}"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self._upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end])
            del buffer[:end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace")))
                self.transport.close()
                return
            self._upgraded = True
            self.opened.set_result(True)
        self._parse_frames(buffer)

    # frames ------------------------------------------------------------------------------------------------------------
    def _parse_frames(self, buffer: bytearray) -> None:
        offset = 0
        while (frame := parse_frame(buffer, offset)) is not None:
            final, opcode, payload, offset = frame
            self._frame(final, opcode, payload)
        if offset:
            del buffer[:offset]

    def _frame(self, final: int, opcode: int, payload: bytes) -> None:
        if opcode == OP_TEXT or opcode == OP_BINARY:
            if final:
                self.on_message(self, payload)
            else:
                self._fragments = [payload]
        elif opcode == OP_CONTINUATION and self._fragments is not None:
            self._fragments.append(payload)
            if final:
                message, self._fragments = b"".join(self._fragments), None
                self.on_message(self, message)
        elif opcode == OP_PING:
            self.transport.write(masked_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            self.transport.write(masked_frame(OP_CLOSE, payload[:2]))
            self.transport.close()

    # sending -----------------------------------------------------------------------------------------------------------
    def send_text(self, text: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(masked_frame(OP_TEXT, text))

    def close(self, code: int = 1000) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(masked_frame(OP_CLOSE, code.to_bytes(2, "big")))
            self.transport.close()
