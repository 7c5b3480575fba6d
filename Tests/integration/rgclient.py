"""An independent riftgate agent-side protocol client: Python `websockets` plus PyNaCl for the proof."""
import base64
import json
import os
import socket
import struct
import time

import nacl.public
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

PROOF_CONTEXT = b"riftgate-proof-v1"


def b64(data):
    return base64.b64encode(data).decode()


def make_proof(agent_key, hub_key, challenge_nonce, network, claimed_key=None):
    """crypto_box(statement, random nonce, hub public key, agent private key), as PROTOCOL.md specifies."""
    claimed = claimed_key or bytes(agent_key.public_key)
    statement = PROOF_CONTEXT + b"\x00" + challenge_nonce + hub_key + claimed + network.encode()
    box = nacl.public.Box(agent_key, nacl.public.PublicKey(hub_key))
    sealed = box.encrypt(statement, os.urandom(24))
    return {"nonce": b64(sealed.nonce), "box": b64(sealed.ciphertext)}


def sealed_blob(seed=1, size=40):
    """An opaque sealed box: the hub must forward it without opening it."""
    return {"nonce": b64(bytes([seed]) * 24), "box": b64(bytes([seed ^ 0x5A]) * size)}


class Agent:
    """One agent connection. `join()` connects, answers the challenge and returns the welcome."""

    def __init__(self, hub, network, token, name="agent", key=None):
        self.hub, self.network, self.token, self.name = hub, network, token, name
        self.key = key or nacl.public.PrivateKey.generate()
        self.ws = None
        self.challenge = None

    @property
    def public_key(self):
        return b64(bytes(self.key.public_key))

    def connect(self, headers=None, path_network=None):
        if headers is None:
            headers = {"Authorization": f"Bearer {self.token}"}
        tls = {"ssl": self.hub.ssl_context} if self.hub.ssl_context else {}  # `ssl` needs websockets >= 14
        self.ws = connect(self.hub.url(path_network or self.network), additional_headers=headers,
                          subprotocols=["riftgate.v1"], open_timeout=5, close_timeout=2, max_size=2**20, **tls)
        return self

    def read_challenge(self):
        self.challenge = self.expect("challenge")
        return self.challenge

    def hello(self, claimed_key=None, version=1, proof_network=None):
        challenge = self.challenge or self.read_challenge()
        hub_key = base64.b64decode(challenge["hub_key"])
        nonce = base64.b64decode(challenge["nonce"])
        claimed = base64.b64decode(claimed_key) if claimed_key else None
        proof = make_proof(self.key, hub_key, nonce, proof_network or self.network, claimed)
        self.send({"type": "hello", "version": version, "public_key": claimed_key or self.public_key,
                   "name": self.name, "proof": proof})

    def join(self):
        self.connect()
        self.read_challenge()
        self.hello()
        return self.expect("welcome")

    def send(self, message):
        self.ws.send(json.dumps(message))

    def signal(self, kind, to, sealed=None, msg_id=None, **extra):
        message = {"type": kind, "to": to, "sealed": sealed or sealed_blob()}
        if msg_id:
            message["id"] = msg_id
        message.update(extra)
        self.send(message)

    def recv(self, timeout=5.0):
        """The next message as a dict; raises TimeoutError or ConnectionClosed."""
        return json.loads(self.ws.recv(timeout=timeout))

    def expect(self, kind, timeout=5.0, skip=()):
        """The next message, which must have type `kind` (types in `skip` are passed over)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.recv(max(0.01, deadline - time.monotonic()))
            if message["type"] in skip:
                continue
            assert message["type"] == kind, f"expected {kind}, got {message}"
            return message

    def expect_error(self, code, timeout=5.0, skip=()):
        message = self.expect("error", timeout, skip)
        assert message["code"] == code, f"expected error {code}, got {message}"
        return message

    def expect_closed(self, timeout=5.0):
        """Waits for the hub to close the connection; returns the close code. Messages before it are dropped."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        except TimeoutError:
            pass
        raise AssertionError("the hub did not close the connection")

    def assert_silent(self, duration=1.0):
        """No message arrives for `duration` seconds."""
        try:
            message = self.ws.recv(timeout=duration)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message: {message}")

    def close(self):
        if self.ws is not None:
            self.ws.close()


class RawWebSocket:
    """A WebSocket client written directly on a TCP socket, so a test can stop answering pings."""

    def __init__(self, port, path, headers):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = b64(os.urandom(16))
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            assert chunk, "connection closed during the handshake"
            response += chunk
        head, self.buffer = response.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _read(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def recv_frame(self):
        """(opcode, payload) of the next frame."""
        first, second = self._read(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8))[0]
        return first & 0x0F, self._read(length)

    def recv_text(self):
        """The next text message as a dict, answering pings on the way."""
        while True:
            opcode, payload = self.recv_frame()
            if opcode == 0x1:
                return json.loads(payload)
            if opcode == 0x9:
                self.send_frame(0xA, payload)

    def send_frame(self, opcode, payload):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send_json(self, message):
        self.send_frame(0x1, json.dumps(message).encode())

    def close(self):
        self.sock.close()
