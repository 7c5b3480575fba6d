"""A minimal asyncio WebSocket client (RFC 6455) for the hub load generator.

The `websockets` package costs tens of microseconds per message in Python, which would make the load generator the
bottleneck at 10,000 connections and thousands of messages per second. This client does only what the riftgate
protocol needs: one HTTP upgrade, masked text frames out, unmasked text/ping/close frames in, pongs. Messages are
handed to a callback as `bytes` so the caller decides what to parse.
"""
from __future__ import annotations

import asyncio
import base64
import os
import random
import struct

_OP_CONTINUATION, _OP_TEXT, _OP_BINARY, _OP_CLOSE, _OP_PING, _OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """One final client frame: clients must mask (RFC 6455 §5.3); XOR through Python ints keeps it in C."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    key = random.getrandbits(32).to_bytes(4, "little")
    if length == 0:
        return header + key
    stream = (key * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(length, "little")
    return header + key + masked


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

    @staticmethod
    def upgrade_request(host: str, port: int, path: str, headers: dict[str, str]) -> bytes:
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}", "Sec-WebSocket-Version: 13"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    # asyncio.Protocol ------------------------------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

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
        offset, size = 0, len(buffer)
        while size - offset >= 2:
            first, second = buffer[offset], buffer[offset + 1]
            length, start = second & 0x7F, offset + 2
            if length == 126:
                if size - start < 2:
                    break
                length, start = int.from_bytes(buffer[start:start + 2], "big"), start + 2
            elif length == 127:
                if size - start < 8:
                    break
                length, start = int.from_bytes(buffer[start:start + 8], "big"), start + 8
            if second & 0x80:  # a server must not mask; tolerate it anyway
                start += 4
            if size - start < length:
                break
            payload = bytes(buffer[start:start + length])
            offset = start + length
            self._frame(first & 0x80, first & 0x0F, payload)
        if offset:
            del buffer[:offset]

    def _frame(self, final: int, opcode: int, payload: bytes) -> None:
        if opcode == _OP_TEXT or opcode == _OP_BINARY:
            if final:
                self.on_message(self, payload)
            else:
                self._fragments = [payload]
        elif opcode == _OP_CONTINUATION and self._fragments is not None:
            self._fragments.append(payload)
            if final:
                message, self._fragments = b"".join(self._fragments), None
                self.on_message(self, message)
        elif opcode == _OP_PING:
            self.transport.write(masked_frame(_OP_PONG, payload))
        elif opcode == _OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            self.transport.write(masked_frame(_OP_CLOSE, payload[:2]))
            self.transport.close()

    # sending -----------------------------------------------------------------------------------------------------------
    def send_text(self, text: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(masked_frame(_OP_TEXT, text))

    def close(self, code: int = 1000) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(masked_frame(_OP_CLOSE, code.to_bytes(2, "big")))
            self.transport.close()
