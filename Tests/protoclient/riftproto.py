"""The riftgate agent-side protocol, written once for every Python client (PROTOCOL.md; RFC 6455 for the framing).

Pure encoding and decoding, no I/O: the integration tests' clients (`Tests/integration/rgclient.py`) and the hub load
generator (`Tests/bench/loadgen_agents.py`, `wsclient.py`) each bring their own transport (blocking sockets,
`websockets`, or an asyncio protocol fast enough for thousands of connections) and build every message and frame here.
"""
from __future__ import annotations

import base64
import json
import os
import random
import struct

import nacl.public

SUBPROTOCOL = "riftgate.v1"
PROTOCOL_VERSION = 1
PROOF_CONTEXT = b"riftgate-proof-v1"

OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def network_path(network: str) -> str:
    """The hub's WebSocket path for `network`."""
    return f"/v1/networks/{network}"


def bearer(token: str) -> dict[str, str]:
    """The join request's authorization header."""
    return {"Authorization": f"Bearer {token}"}


def encode(message: dict) -> bytes:
    """One protocol message as the text of a WebSocket message (compact JSON)."""
    return json.dumps(message, separators=(",", ":")).encode()


def ice_servers_request(msg_id: str | None = None) -> dict:
    """Instead of `hello`: ask for the network's ICE servers with the token alone (PROTOCOL.md §6.12). The hub answers
    one `ice_servers` ({"type": "ice_servers", "ice": {"stun": [...], "turn": [...]}}) and closes with 1000."""
    message = {"type": "ice_servers"}
    if msg_id is not None:
        message["id"] = msg_id
    return message


# join: challenge -> hello with proof -> welcome (PROTOCOL.md §5) ------------------------------------------------------
def make_proof(agent_key: nacl.public.PrivateKey, hub_key: bytes, challenge_nonce: bytes, network: str,
               claimed_key: bytes | None = None, box: nacl.public.Box | None = None) -> dict:
    """crypto_box(statement, random nonce, hub public key, agent private key), as PROTOCOL.md specifies.

    `claimed_key` (raw bytes) defaults to the agent's own public key; `box` is the precomputed crypto_box with the hub's
    key, when the caller keeps one (the load generator computes them all before a join storm).
    """
    claimed = claimed_key or bytes(agent_key.public_key)
    statement = PROOF_CONTEXT + b"\x00" + challenge_nonce + hub_key + claimed + network.encode()
    box = box or nacl.public.Box(agent_key, nacl.public.PublicKey(hub_key))
    sealed = box.encrypt(statement, os.urandom(24))
    return {"nonce": b64(sealed.nonce), "box": b64(sealed.ciphertext)}


def challenge_keys(challenge: dict) -> tuple[bytes, bytes]:
    """(hub public key, challenge nonce) of a `challenge` message, raw."""
    return base64.b64decode(challenge["hub_key"]), base64.b64decode(challenge["nonce"])


def hello(public_key: str, name: str, proof: dict, version: int = PROTOCOL_VERSION, routes: list[str] | None = None,
          exit_node: bool | None = None) -> dict:
    """The `hello` answering a challenge; `public_key` is base64 (the key the proof claims)."""
    message = {"type": "hello", "version": version, "public_key": public_key, "name": name, "proof": proof}
    if routes is not None:
        message["advertise_routes"] = routes  # PROTOCOL.md §6.14, version 4
    if exit_node is not None:
        message["advertise_exit_node"] = exit_node  # PROTOCOL.md §6.15, version 5
    return message


# signaling: sealed boxes the hub forwards without opening -------------------------------------------------------------
def sealed_blob(seed: int = 1, size: int = 40) -> dict:
    """An opaque sealed box: the hub must forward it without opening it."""
    return {"nonce": b64(bytes([seed]) * 24), "box": b64(bytes([seed ^ 0x5A]) * size)}


def signal(kind: str, to: str, sealed: dict, msg_id: str | None = None, **extra) -> dict:
    """A signal of `kind` (offer, answer, candidate, ...) for the peer with public key `to` (base64)."""
    message = {"type": kind, "to": to, "sealed": sealed}
    if msg_id:
        message["id"] = msg_id
    message.update(extra)
    return message


def signal_template(kind: str, to: str, box: str) -> tuple[bytes, bytes]:
    """The encoded signal split around its sealed nonce's base64: prefix + nonce + suffix is the message. Lets a
    sender stamp each message's nonce without encoding JSON per message."""
    marker = "\x00nonce\x00"
    text = encode(signal(kind, to, {"nonce": marker, "box": box}))
    prefix, suffix = text.split(json.dumps(marker).encode()[1:-1])
    return prefix, suffix


# WebSocket framing (client side) --------------------------------------------------------------------------------------
def upgrade_request(host: str, port: int, path: str, headers: dict[str, str]) -> bytes:
    """The HTTP/1.1 upgrade request; add `Sec-WebSocket-Protocol: riftgate.v1` to `headers` to ask for the protocol."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {b64(os.urandom(16))}", "Sec-WebSocket-Version: 13"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def masked_frame(opcode: int, payload: bytes, final: bool = True) -> bytes:
    """One client frame, final unless `final` is False: clients must mask (RFC 6455 §5.3); XOR through Python ints
    keeps it in C."""
    length = len(payload)
    first = (0x80 | opcode) if final else opcode
    if length < 126:
        header = struct.pack("!BB", first, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, length)
    key = random.getrandbits(32).to_bytes(4, "little")
    if length == 0:
        return header + key
    stream = (key * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(length, "little")
    return header + key + masked


def parse_frame(buffer, offset: int = 0):
    """The frame starting at `offset` of `buffer` as (final, opcode, payload, offset after it), or None while it is
    incomplete. A server must not mask; a masked frame is skipped over its key anyway (its payload left as sent)."""
    size = len(buffer)
    if size - offset < 2:
        return None
    first, second = buffer[offset], buffer[offset + 1]
    length, start = second & 0x7F, offset + 2
    if length == 126:
        if size - start < 2:
            return None
        length, start = int.from_bytes(buffer[start:start + 2], "big"), start + 2
    elif length == 127:
        if size - start < 8:
            return None
        length, start = int.from_bytes(buffer[start:start + 8], "big"), start + 8
    if second & 0x80:
        start += 4
    if size - start < length:
        return None
    return bool(first & 0x80), first & 0x0F, bytes(buffer[start:start + length]), start + length


def peek_signal(payload: bytes):
    """(kind, sealed nonce as base64 bytes) of a relayed signal without parsing its JSON, or None for any other
    message (one with no sealed nonce). For the load generator, which receives thousands a second."""
    nonce_at = payload.find(b'"nonce":"')
    if nonce_at < 0:
        return None
    kind_at = payload.find(b'"type":"') + 8
    nonce_end = payload.find(b'"', nonce_at + 9)
    return payload[kind_at:payload.find(b'"', kind_at)].decode(), payload[nonce_at + 9:nonce_end]
