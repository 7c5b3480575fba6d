"""An independent riftgate agent-side protocol client: Python `websockets` plus PyNaCl for the proof.

Messages, the proof and the WebSocket framing come from `riftproto` (Tests/protoclient), shared with the load generator.
"""
import base64
import json
import socket
import time

import nacl.public
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

import riftproto
from riftproto import b64, make_proof, sealed_blob  # noqa: F401 (re-exported for the tests)


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
            headers = riftproto.bearer(self.token)
        tls = {"ssl": self.hub.ssl_context} if self.hub.ssl_context else {}  # `ssl` needs websockets >= 14
        self.ws = connect(self.hub.url(path_network or self.network), additional_headers=headers,
                          subprotocols=[riftproto.SUBPROTOCOL], open_timeout=5, close_timeout=2, max_size=2**20, **tls)
        return self

    def read_challenge(self):
        self.challenge = self.expect("challenge")
        return self.challenge

    def hello(self, claimed_key=None, version=1, proof_network=None, routes=None, exit_node=None):
        hub_key, nonce = riftproto.challenge_keys(self.challenge or self.read_challenge())
        claimed = base64.b64decode(claimed_key) if claimed_key else None
        proof = make_proof(self.key, hub_key, nonce, proof_network or self.network, claimed)
        self.send(riftproto.hello(claimed_key or self.public_key, self.name, proof, version, routes, exit_node))

    def join(self):
        self.connect()
        self.read_challenge()
        self.hello()
        return self.expect("welcome")

    def send(self, message):
        self.ws.send(riftproto.encode(message).decode())

    def signal(self, kind, to, sealed=None, msg_id=None, **extra):
        self.send(riftproto.signal(kind, to, sealed or sealed_blob(), msg_id, **extra))

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

    def __init__(self, port, path, headers, ssl_context=None, sock=None):
        """Upgrades a new connection (over TLS with `ssl_context`), or `sock` when given (already connected)."""
        if sock is None:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            if ssl_context is not None:
                sock = ssl_context.wrap_socket(sock, server_hostname="127.0.0.1")
        self.sock = sock
        self.sock.sendall(riftproto.upgrade_request("127.0.0.1", port, path, headers))
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            assert chunk, "connection closed during the handshake"
            response += chunk
        head, self.buffer = response.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def join(self, key, network, name):
        """Reads the challenge and answers it with `key`'s proof for `network`; returns the hub's next message."""
        hub_key, nonce = riftproto.challenge_keys(self.recv_text())
        self.send_json(riftproto.hello(b64(bytes(key.public_key)), name, make_proof(key, hub_key, nonce, network)))
        return self.recv_text()

    def recv_frame(self):
        """(opcode, payload) of the next frame."""
        while (frame := riftproto.parse_frame(self.buffer)) is None:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        _, opcode, payload, end = frame
        self.buffer = self.buffer[end:]
        return opcode, payload

    def recv_text(self):
        """The next text message as a dict, answering pings on the way."""
        while True:
            opcode, payload = self.recv_frame()
            if opcode == riftproto.OP_TEXT:
                return json.loads(payload)
            if opcode == riftproto.OP_PING:
                self.send_frame(riftproto.OP_PONG, payload)

    def send_frame(self, opcode, payload):
        self.sock.sendall(riftproto.masked_frame(opcode, payload))

    def send_json(self, message):
        self.send_frame(riftproto.OP_TEXT, riftproto.encode(message))

    def close(self):
        self.sock.close()
