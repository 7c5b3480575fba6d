#!/usr/bin/env python3
"""Writes Protocol/vectors/messages/*.json: frames and the decode result PROTOCOL.md specifies.

Each file: {"description", "direction": "client"|"hub", "frame": <exact frame text>,
            "expect": {"ok": <JSON value of the frame>} | {"error": "<code>"}}.
Run it after changing a case; review the diff like code.
"""
import base64, json, os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "messages")
def b64(data): return base64.b64encode(bytes(data)).decode()
KEY_A = b64(range(1, 33))            # sorts before KEY_B
KEY_B = b64(range(101, 133))
HUB = b64(range(201, 233))
NONCE24 = b64([7] * 24)
NONCE32 = b64([9] * 32)
BOX = b64(range(0, 48))
SEALED = {"nonce": NONCE24, "box": BOX}
PEER_A = {"public_key": KEY_A, "name": "laptop-a", "ipv4": "100.64.0.1", "ipv6": "fd7a:115c:a1e0::1"}
PEER_B = {"public_key": KEY_B, "name": "laptop-b", "ipv4": "100.64.0.2", "ipv6": "fd7a:115c:a1e0::2"}
ICE = {"stun": ["stun:hub.example:3478"],
       "turn": [{"urls": ["turn:hub.example:3478?transport=udp"], "username": "1767225600:laptop-a",
                 "credential": "q3sAjBUb4RfoHhPEw7T1O7Uo9IA=", "expires_at": 1767225600}]}

cases = {}
def ok(name, direction, obj, description):
    cases[name] = {"description": description, "direction": direction,
                   "frame": json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
                   "expect": {"ok": obj}}
def err(name, direction, frame, code, description):
    if not isinstance(frame, str):
        frame = json.dumps(frame, sort_keys=True, separators=(",", ":"))
    cases[name] = {"description": description, "direction": direction, "frame": frame, "expect": {"error": code}}

hello = {"type": "hello", "version": 1, "public_key": KEY_A, "name": "laptop-a", "proof": SEALED}
ok("client-hello", "client", hello, "hello without id")
ok("client-hello-with-id", "client", dict(hello, id="h1"), "hello with an id")
ok("client-hello-unicode-name", "client", dict(hello, name="Zoë's laptop ☕"), "peer names may be any printable Unicode")
for kind in ["offer", "answer", "candidate", "end_of_candidates", "restart"]:
    ok(f"client-{kind}", "client", {"type": kind, "to": KEY_B, "sealed": SEALED, "id": "m-1"}, f"{kind} to a peer")
    ok(f"hub-{kind}", "hub", {"type": kind, "from": KEY_A, "sealed": SEALED}, f"relayed {kind} with hub-stamped sender")
ok("hub-challenge", "hub", {"type": "challenge", "versions": [1], "hub_key": HUB, "nonce": NONCE32}, "challenge")
ok("hub-welcome", "hub", {"type": "welcome", "version": 1, "network": "home", "self": PEER_A,
                          "ipv4_prefix": "100.64.0.0/10", "ipv6_prefix": "fd7a:115c:a1e0::/64", "peers": [PEER_B],
                          "ice": ICE, "heartbeat_seconds": 20}, "welcome with one other peer and TURN")
ok("hub-welcome-alone", "hub", {"type": "welcome", "version": 1, "network": "home", "self": PEER_A,
                                "ipv4_prefix": "100.64.0.0/10", "ipv6_prefix": "fd7a:115c:a1e0::/64", "peers": [],
                                "ice": {"stun": [], "turn": []}, "heartbeat_seconds": 20}, "first peer of a network")
ok("hub-peer-joined", "hub", {"type": "peer_joined", "peer": PEER_B}, "peer joined")
ok("hub-peer-left", "hub", {"type": "peer_left", "public_key": KEY_B, "reason": "timeout"}, "peer left")
ok("hub-ice-servers", "hub", {"type": "ice_servers", "ice": ICE}, "refreshed TURN credentials")
ok("hub-error", "hub", {"type": "error", "code": "peer_not_found", "message": "no such peer", "ref": "m-1"}, "error with ref")
ok("hub-error-unknown-code", "hub", {"type": "error", "code": "from_the_future", "message": "x"},
   "codes a receiver does not know still decode")

err("malformed-truncated", "client", '{"type":"hello"', "malformed_json", "truncated JSON")
err("malformed-trailing", "client", '{"type":"hello"} x', "malformed_json", "data after the value")
err("malformed-duplicate-key", "client", '{"type":"offer","type":"answer"}', "malformed_json", "duplicate key")
err("malformed-deep", "client", '{"type":' + "[" * 40 + "]" * 40 + "}", "malformed_json", "nesting deeper than 32")
err("malformed-not-utf8-escape", "client", '{"type":"\\ud800"}', "malformed_json", "unpaired surrogate")
err("not-an-object", "client", "[1,2,3]", "not_an_object", "top-level array")
err("missing-type", "client", {"to": KEY_B}, "missing_field", "no type")
err("type-not-string", "client", {"type": 5}, "wrong_type", "type is a number")
err("unknown-type", "client", {"type": "teleport"}, "unknown_type", "unknown message type")
err("hub-type-from-client", "client", {"type": "welcome"}, "unknown_type", "hub message types are unknown from clients")
err("hello-missing-proof", "client", {k: v for k, v in hello.items() if k != "proof"}, "missing_field", "hello without proof")
err("hello-version-string", "client", dict(hello, version="1"), "wrong_type", "version as a string")
err("hello-version-float", "client", dict(hello, version=1.5), "wrong_type", "version with a fraction")
err("hello-short-key", "client", dict(hello, public_key=b64(range(31))), "invalid_value", "31-byte key")
err("hello-key-not-base64", "client", dict(hello, public_key="not base64!"), "invalid_value", "key not base64")
err("hello-noncanonical-key", "client", dict(hello, public_key=KEY_A[:-2] + "Z="), "invalid_value",
    "base64 with non-zero padding bits")
err("hello-empty-name", "client", dict(hello, name=""), "invalid_value", "empty name")
err("hello-control-name", "client", dict(hello, name="a\u0007b"), "invalid_value", "control character in name")
err("hello-long-name", "client", dict(hello, name="x" * 64), "invalid_value", "64-character name")
err("hello-unknown-field", "client", dict(hello, admin=True), "unknown_field", "extra field")
err("hello-proof-unknown-field", "client", dict(hello, proof=dict(SEALED, extra=1)), "unknown_field", "extra nested field")
err("hello-proof-not-object", "client", dict(hello, proof="x"), "wrong_type", "proof is a string")
err("hello-short-nonce", "client", dict(hello, proof={"nonce": b64([1] * 23), "box": BOX}), "invalid_value", "23-byte nonce")
err("hello-box-too-short", "client", dict(hello, proof={"nonce": NONCE24, "box": b64([1] * 16)}), "invalid_value",
    "a box no longer than its MAC")
err("offer-spoofed-from", "client", {"type": "offer", "to": KEY_B, "from": KEY_A, "sealed": SEALED},
    "sender_not_allowed", "a client may not name the sender")
err("offer-missing-to", "client", {"type": "offer", "sealed": SEALED}, "missing_field", "no recipient")
err("offer-long-id", "client", {"type": "offer", "to": KEY_B, "sealed": SEALED, "id": "i" * 65}, "invalid_value", "id over 64 bytes")
err("candidate-sealed-too-large", "client", {"type": "candidate", "to": KEY_B,
    "sealed": {"nonce": NONCE24, "box": b64([0] * 32769)}}, "invalid_value", "sealed box over 32768 bytes")
big = json.dumps({"type": "offer", "to": KEY_B, "sealed": SEALED, "id": "x", "pad": "p" * 70000})
err("frame-too-large", "client", big, "frame_too_large", "frame over 65536 bytes, rejected before parsing")
err("hub-welcome-bad-prefix", "hub", {"type": "welcome", "version": 1, "network": "home", "self": PEER_A,
    "ipv4_prefix": "100.64.0.1/10", "ipv6_prefix": "fd7a:115c:a1e0::/64", "peers": [], "ice": {"stun": [], "turn": []},
    "heartbeat_seconds": 20}, "invalid_value", "prefix with host bits set")
err("hub-welcome-bad-network", "hub", {"type": "welcome", "version": 1, "network": "-home", "self": PEER_A,
    "ipv4_prefix": "100.64.0.0/10", "ipv6_prefix": "fd7a:115c:a1e0::/64", "peers": [], "ice": {"stun": [], "turn": []},
    "heartbeat_seconds": 20}, "invalid_value", "network name starting with '-'")
err("hub-peer-bad-ipv4", "hub", {"type": "peer_joined", "peer": dict(PEER_B, ipv4="100.064.0.2")}, "invalid_value",
    "IPv4 with a leading zero")
err("hub-signal-missing-from", "hub", {"type": "offer", "sealed": SEALED}, "missing_field", "relayed without sender")

os.makedirs(OUT, exist_ok=True)
for old in os.listdir(OUT):
    if old.endswith(".json"):
        os.remove(os.path.join(OUT, old))
for name, case in sorted(cases.items()):
    with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(case, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
print(f"wrote {len(cases)} vectors to {OUT}")
