#!/usr/bin/env python3
"""Writes Protocol/vectors/messages/*.json (frames) and payloads/*.json (opened sealed plaintexts) with the decode
result PROTOCOL.md specifies.

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
# Depth counts every object and array on the path, the top-level object being 1: 32 parses, 33 is malformed.
err("depth-32-parses", "client", '{"type":"teleport","x":' + "[" * 31 + "]" * 31 + "}", "unknown_type",
    "nesting of exactly 32 (top object + 31 arrays) parses; the unknown type is then refused")
err("depth-33-malformed", "client", '{"type":"teleport","x":' + "[" * 32 + "]" * 32 + "}", "malformed_json",
    "nesting of 33 (top object + 32 arrays) is malformed JSON")
err("depth-33-objects-malformed", "client", '{"type":"teleport","x":' + '{"a":' * 32 + "1" + "}" * 32 + "}",
    "malformed_json", "nesting of 33 objects is malformed JSON")
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
ok("client-hello-name-63-scalars", "client", dict(hello, name="é" * 63), "63 scalars (126 bytes) is the longest name")
ok("client-hello-name-inner-space", "client", dict(hello, name="a\u00a0b c"), "spaces (Zs) inside a name are fine")
ok("client-hello-name-private-use", "client", dict(hello, name="x\ue000"), "private-use scalars (Co) are allowed")
ok("client-hello-name-emoji", "client", dict(hello, name="\U0001F4BB laptop"), "emoji (So) are fine; ZWJ sequences are not (U+200D is Cf)")
# Every scalar of general category Cc, Cf, Zl or Zp is refused anywhere; Zs is refused first and last.
for label, scalar, category in [("nul", "\u0000", "Cc"), ("tab", "\t", "Cc"), ("del", "\u007f", "Cc"),
                                ("nel", "\u0085", "Cc"), ("c1", "\u009b", "Cc"), ("zwsp", "\u200b", "Cf"),
                                ("zwj", "\u200d", "Cf"), ("soft-hyphen", "\u00ad", "Cf"), ("bom", "\ufeff", "Cf"),
                                ("lre", "\u202a", "Cf"), ("rlo", "\u202e", "Cf"), ("lri", "\u2066", "Cf"),
                                ("pdi", "\u2069", "Cf"), ("tag", "\U000E0041", "Cf"), ("line-sep", "\u2028", "Zl"),
                                ("para-sep", "\u2029", "Zp")]:
    err(f"hello-name-{label}", "client", dict(hello, name="a" + scalar + "b"), "invalid_value",
        f"U+{ord(scalar):04X} (general category {category}) in a name")
for label, name in [("leading-space", " laptop"), ("trailing-space", "laptop "), ("trailing-nbsp", "laptop\u00a0"),
                    ("leading-ideographic-space", "\u3000laptop"), ("only-space", " ")]:
    err(f"hello-name-{label}", "client", dict(hello, name=name), "invalid_value", "a name may not start or end with a space (Zs)")
err("hello-name-64-scalars", "client", dict(hello, name="é" * 64), "invalid_value", "64 scalars")
err("hub-peer-name-rlo", "hub", {"type": "peer_joined", "peer": dict(PEER_B, name="evil\u202etxt.exe")}, "invalid_value",
    "receivers apply the name rule to PeerInfo too")
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

# --- version 2: access policy (PROTOCOL.md §6.11) ---
ok("hub-challenge-v2", "hub", {"type": "challenge", "versions": [1, 2], "hub_key": HUB, "nonce": NONCE32},
   "a hub speaking versions 1 and 2")
ok("client-hello-v2", "client", dict(hello, version=2), "hello choosing version 2")
ok("hub-peer-joined-allow-in", "hub", {"type": "peer_joined", "peer": dict(PEER_B, allow_in=["tcp/8080", "udp/5000-5010"])},
   "v2: the peer may open tcp/8080 and udp/5000-5010 on the recipient, nothing else")
ok("hub-peer-joined-allow-in-empty", "hub", {"type": "peer_joined", "peer": dict(PEER_B, allow_in=[])},
   "v2: the peer may open nothing on the recipient (introduced because the recipient may reach it)")
ok("hub-welcome-v2", "hub", {"type": "welcome", "version": 2, "network": "home", "self": PEER_A,
                             "ipv4_prefix": "100.64.0.0/10", "ipv6_prefix": "fd7a:115c:a1e0::/64",
                             "peers": [dict(PEER_B, allow_in=["tcp/22"])], "ice": {"stun": [], "turn": []},
                             "heartbeat_seconds": 20}, "v2 welcome: a listed peer with allow_in")
ok("hub-peer-left-policy", "hub", {"type": "peer_left", "public_key": KEY_B, "reason": "policy"},
   "the access policy no longer introduces the two peers")
ok("hub-error-policy-denied", "hub", {"type": "error", "code": "policy_denied", "message": "the policy keeps you apart",
                                      "ref": "offer:abcdefgh:g0:1"}, "a signal to a peer the policy keeps apart")
ok("hub-error-token-exhausted", "hub", {"type": "error", "code": "token_exhausted",
                                        "message": "this token admits only one key and has admitted another"},
   "a single-use token presented with a second key (permanent; the connection is closed with 4403)")
for name, rule in [("port-zero", "tcp/0"), ("port-too-big", "udp/65536"), ("uppercase", "TCP/22"), ("icmp", "icmp/8"),
                   ("leading-zero", "tcp/022"), ("reversed-range", "tcp/9-8"), ("no-port", "tcp"), ("space", "tcp/ 22")]:
    err(f"hub-allow-in-{name}", "hub", {"type": "peer_joined", "peer": dict(PEER_B, allow_in=[rule])}, "invalid_value",
        f"allow_in entry {rule!r} is not a port rule")
err("hub-allow-in-not-array", "hub", {"type": "peer_joined", "peer": dict(PEER_B, allow_in="tcp/22")}, "wrong_type",
    "allow_in is an array of strings")
err("hub-allow-in-65-rules", "hub", {"type": "peer_joined", "peer": dict(PEER_B, allow_in=[f"tcp/{p}" for p in range(1, 66)])},
    "invalid_value", "at most 64 port rules")

# --- ice_servers from a client (PROTOCOL.md §6.12): the network's ICE servers for a token holder that does not join ---
ok("client-ice-servers", "client", {"type": "ice_servers"}, "instead of hello: ask for the network's ICE servers")
ok("client-ice-servers-with-id", "client", {"type": "ice_servers", "id": "netcheck"}, "ice_servers request with an id")
err("client-ice-servers-with-ice", "client", {"type": "ice_servers", "ice": ICE}, "unknown_field",
    "a client's ice_servers carries no servers: that is the hub's message")
err("client-ice-servers-with-key", "client", {"type": "ice_servers", "public_key": KEY_A}, "unknown_field",
    "no key: the request joins nothing and proves nothing")
err("client-ice-servers-id-not-string", "client", {"type": "ice_servers", "id": 7}, "wrong_type", "id must be a string")
ok("hub-ice-servers-token", "hub", {"type": "ice_servers", "ice": {
        "stun": ["stun:hub.example:3478"],
        "turn": [{"urls": ["turn:hub.example:3478?transport=udp"], "username": "1767225600:netcheck.home",
                  "credential": "geWYTZCjN7cGOOpMYaWR/SJOamI=", "expires_at": 1767225600}]}},
   "the answer to a client's ice_servers: credentials named netcheck.<network>, then a normal close (1000)")
ok("hub-ice-servers-none", "hub", {"type": "ice_servers", "ice": {"stun": [], "turn": []}},
   "the answer on a hub with neither STUN nor TURN configured")

# --- version 3: peers' DNS names (PROTOCOL.md §6.13) ---
WELCOME_V3 = {"type": "welcome", "version": 3, "network": "home", "self": dict(PEER_A, dns_name="laptop-a"),
              "ipv4_prefix": "100.64.0.0/10", "ipv6_prefix": "fd7a:115c:a1e0::/64",
              "peers": [dict(PEER_B, dns_name="laptop-b")], "ice": {"stun": [], "turn": []},
              "heartbeat_seconds": 20, "dns_domain": "home.rift"}
ok("hub-challenge-v3", "hub", {"type": "challenge", "versions": [1, 2, 3], "hub_key": HUB, "nonce": NONCE32},
   "a hub speaking versions 1 to 3")
ok("client-hello-v3", "client", dict(hello, version=3), "hello choosing version 3")
ok("hub-welcome-v3", "hub", WELCOME_V3, "v3 welcome: every peer's DNS label and the network's domain")
ok("hub-welcome-v3-long-suffix", "hub", dict(WELCOME_V3, dns_domain="home.vpn.example.org"),
   "a network whose suffix is vpn.example.org")
ok("hub-peer-joined-dns-name", "hub", {"type": "peer_joined", "peer": dict(PEER_B, name="Laptop B", dns_name="laptop-b-2")},
   "v3: a second peer whose name derives to laptop-b gets laptop-b-2")
for name, label in [("uppercase", "Laptop-b"), ("leading-dash", "-laptop"), ("trailing-dash", "laptop-"),
                    ("dot", "laptop.b"), ("underscore", "laptop_b"), ("empty", ""), ("64-characters", "a" * 64),
                    ("non-ascii", "l\u00e4ptop"), ("space", "laptop b")]:
    err(f"hub-dns-name-{name}", "hub", {"type": "peer_joined", "peer": dict(PEER_B, dns_name=label)}, "invalid_value",
        f"dns_name {label!r} is not a lower-case LDH label of 1-63 characters")
err("hub-dns-name-not-string", "hub", {"type": "peer_joined", "peer": dict(PEER_B, dns_name=7)}, "wrong_type",
    "dns_name is a string")
for name, domain in [("trailing-dot", "home.rift."), ("local", "home.local"), ("numeric-last-label", "home.123"),
                     ("five-labels", "home.a.b.c.d"), ("empty-label", "home..rift"), ("uppercase", "home.RIFT"),
                     ("empty", ""), ("too-long", "home." + ".".join(["a" * 62] * 3))]:
    err(f"hub-dns-domain-{name}", "hub", dict(WELCOME_V3, dns_domain=domain), "invalid_value",
        f"dns_domain {domain[:40]!r} is not 1-4 lower-case LDH labels, at most 189 characters, not under local or a number")

# --- version 4: subnet routes (PROTOCOL.md §6.14) ---
ok("hub-challenge-v4", "hub", {"type": "challenge", "versions": [1, 2, 3, 4], "hub_key": HUB, "nonce": NONCE32},
   "a hub speaking versions 1 to 4")
ok("client-hello-v4", "client", dict(hello, version=4), "hello choosing version 4, advertising no route")
ok("client-hello-v4-routes", "client", dict(hello, version=4, advertise_routes=["192.168.1.0/24", "fd00:1::/64"]),
   "v4 hello advertising an IPv4 and an IPv6 route")
ok("client-hello-v4-routes-limits", "client",
   dict(hello, version=4, advertise_routes=["10.0.0.0/8", "203.0.113.7/32", "2001::/16", "fd00::1/128"]
        + [f"172.{n}.0.0/16" for n in range(16, 28)]),
   "16 routes, the shortest and longest lengths of both families")
WELCOME_V4 = dict(WELCOME_V3, version=4, peers=[dict(PEER_B, dns_name="laptop-b", routes=["192.168.1.0/24", "fd00:1::/64"])])
ok("hub-welcome-v4-routes", "hub", WELCOME_V4, "v4 welcome: a peer with two approved routes")
ok("hub-peer-joined-routes-v4", "hub", {"type": "peer_joined", "peer": dict(PEER_B, dns_name="laptop-b", routes=["10.1.0.0/16"])},
   "v4: an approval reaches the others as peer_joined with the peer's routes")
BAD_ROUTES = [("host-bits", "192.168.1.1/24"), ("default-v4", "0.0.0.0/0"), ("default-v6", "::/0"), ("v4-too-short", "10.0.0.0/7"),
              ("v6-too-short", "fd00::/15"), ("v6-uppercase", "FD00:1::/64"), ("v6-leading-zero", "fd00:0001::/64"),
              ("v6-uncompressed", "fd00:1:0:0:0:0:0:0/64"), ("v4-leading-zero", "192.168.01.0/24"), ("no-length", "192.168.1.0"),
              ("length-leading-zero", "10.0.0.0/08"), ("v4-too-long", "10.0.0.0/33"), ("v6-too-long", "fd00::/129"),
              ("netmask", "10.0.0.0/255.0.0.0"), ("text", "lan"), ("empty", "")]
for name, route in BAD_ROUTES:
    err(f"client-hello-routes-{name}", "client", dict(hello, version=4, advertise_routes=[route]), "invalid_value",
        f"advertise_routes {route!r} is not a canonical route (IPv4 /8-/32, IPv6 /16-/128, host bits zero, RFC 5952)")
err("client-hello-routes-17", "client", dict(hello, version=4, advertise_routes=[f"10.{n}.0.0/16" for n in range(17)]),
    "invalid_value", "at most 16 routes")
err("client-hello-routes-duplicate", "client", dict(hello, version=4, advertise_routes=["10.0.0.0/8", "10.0.0.0/8"]),
    "invalid_value", "no route twice")
err("client-hello-routes-not-array", "client", dict(hello, version=4, advertise_routes="10.0.0.0/8"), "wrong_type",
    "advertise_routes is an array")
err("client-hello-routes-not-string", "client", dict(hello, version=4, advertise_routes=[8]), "wrong_type",
    "each route is a string")
err("client-hello-routes-v3", "client", dict(hello, version=3, advertise_routes=["10.0.0.0/8"]), "invalid_value",
    "advertise_routes only in a hello choosing version 4 or later")
err("hub-peer-routes-host-bits", "hub", {"type": "peer_joined", "peer": dict(PEER_B, routes=["10.1.0.1/16"])}, "invalid_value",
    "PeerInfo.routes is checked like advertise_routes")
err("hub-peer-routes-default", "hub", {"type": "peer_joined", "peer": dict(PEER_B, routes=["0.0.0.0/0"])}, "invalid_value",
    "a default route is not a route")
err("hub-peer-routes-not-array", "hub", {"type": "peer_joined", "peer": dict(PEER_B, routes="10.1.0.0/16")}, "wrong_type",
    "PeerInfo.routes is an array")

# --- version 5: exit nodes (PROTOCOL.md §6.15) ---
ok("hub-challenge-v5", "hub", {"type": "challenge", "versions": [1, 2, 3, 4, 5], "hub_key": HUB, "nonce": NONCE32},
   "a hub speaking versions 1 to 5")
ok("client-hello-v5", "client", dict(hello, version=5), "hello choosing version 5, advertising no exit node")
ok("client-hello-v5-exit-node", "client", dict(hello, version=5, advertise_exit_node=True), "v5 hello offering to be an exit node")
ok("client-hello-v5-exit-node-false", "client", dict(hello, version=5, advertise_exit_node=False),
   "advertise_exit_node false means the same as absent, and is kept as sent")
ok("client-hello-v5-routes-exit-node", "client",
   dict(hello, version=5, advertise_routes=["192.168.1.0/24"], advertise_exit_node=True), "v5 hello with routes and an exit node")
WELCOME_V5 = dict(WELCOME_V4, version=5, peers=[dict(PEER_B, dns_name="laptop-b", exit_node=True)])
ok("hub-welcome-v5-exit-node", "hub", WELCOME_V5, "v5 welcome: a peer that is an approved exit node")
ok("hub-peer-joined-exit-node-v5", "hub", {"type": "peer_joined", "peer": dict(PEER_B, dns_name="laptop-b", exit_node=True)},
   "v5: an approval reaches the others as peer_joined with exit_node")
ok("hub-peer-joined-exit-node-routes-v5", "hub",
   {"type": "peer_joined", "peer": dict(PEER_B, dns_name="laptop-b", routes=["10.1.0.0/16"], exit_node=True)},
   "v5: a peer with approved routes that is also an exit node")
for name, value in [("string", "true"), ("number", 1), ("null", None), ("array", [True])]:
    err(f"client-hello-exit-node-{name}", "client", dict(hello, version=5, advertise_exit_node=value), "wrong_type",
        "advertise_exit_node is a boolean")
err("client-hello-exit-node-v4", "client", dict(hello, version=4, advertise_exit_node=True), "invalid_value",
    "advertise_exit_node only in a hello choosing version 5 or later")
err("client-hello-exit-node-false-v4", "client", dict(hello, version=4, advertise_exit_node=False), "invalid_value",
    "advertise_exit_node only in a hello choosing version 5 or later, even false")
err("hub-peer-exit-node-false", "hub", {"type": "peer_joined", "peer": dict(PEER_B, exit_node=False)}, "invalid_value",
    "PeerInfo.exit_node is true or absent: a hub never sends false")
err("hub-peer-exit-node-string", "hub", {"type": "peer_joined", "peer": dict(PEER_B, exit_node="true")}, "wrong_type",
    "PeerInfo.exit_node is a boolean")

# --- names/: how a hub derives a peer's DNS label from its display name (PROTOCOL.md §6.13) ---
# One file: {"description", "cases": [{"name": display name, "label": derived label}]}.
LABELS = [("laptop-a", "laptop-a"), ("Zoë's MacBook Pro", "zo-s-macbook-pro"), ("build_server.01", "build-server-01"),
          ("  --weird--  ", "weird"), ("ラップトップ", "peer"), ("☕", "peer"), ("DESKTOP-7F3K2Q", "desktop-7f3k2q"),
          ("a" * 63, "a" * 63), ("x" + "é" * 62, "x"), ("web 1 / prod", "web-1-prod"), ("9lives", "9lives")]
names = {"derivation": {"description": "display name -> DNS label: ASCII letters lower-cased, digits kept, every run of "
                                       "anything else one '-', none at either end, at most 63, 'peer' when empty",
                        "cases": [{"name": name, "label": label} for name, label in LABELS]}}

# --- payloads/: the opened plaintext of a sealed signal (PROTOCOL.md §7), decoded before the envelope checks ---
# Each file: {"description", "payload": <exact plaintext>, "expect": {"ok": <JSON value>} | {"error": "<code>"}}.
payloads = {}
def payload(kind, generation=0, session="3f6c2a9e81d04b7c", **body):
    return {"type": kind, "from": KEY_A, "to": KEY_B, "session": session, "generation": generation, **body}
def pok(name, obj, description):
    payloads[name] = {"description": description, "payload": json.dumps(obj, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False), "expect": {"ok": obj}}
def perr(name, obj, code, description):
    text = obj if isinstance(obj, str) else json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    payloads[name] = {"description": description, "payload": text, "expect": {"error": code}}
DESCRIPTION = {"ice": {"ufrag": "Xq7f", "pwd": "mB3+kLz/9QeR2uVt0wYpAs",
                       "candidates": ["candidate:1 1 UDP 2015363327 192.168.1.20 51820 typ host"]},
               "wireguard": {"public_key": KEY_A, "listen_port": 51820}}
def ice(**changes): return dict(DESCRIPTION, ice=dict(DESCRIPTION["ice"], **changes))
pok("offer", payload("offer", **DESCRIPTION), "an offer")
pok("answer-no-candidates", payload("answer", **ice(candidates=[])), "an answer whose candidates all trickle")
pok("generation-max", payload("candidate", 4294967295, candidate="candidate:1 1 UDP 1 192.0.2.1 9 typ host"),
    "generation 2^32-1 is the largest")
perr("generation-too-large", payload("candidate", 4294967296, candidate="candidate:1 1 UDP 1 192.0.2.1 9 typ host"),
     "invalid_value", "generation 2^32 is out of range")
perr("generation-negative", payload("end_of_candidates", -1), "invalid_value", "generation below 0")
perr("generation-fraction", '{"from":"%s","generation":1.0,"session":"s","to":"%s","type":"end_of_candidates"}'
     % (KEY_A, KEY_B), "wrong_type", "1.0 is not an integer")
pok("session-none", payload("restart", session="none", reason="agent started"), "restart with session none (§8)")
pok("session-64", payload("end_of_candidates", session="~" * 64), "64 printable ASCII characters")
perr("session-65", payload("end_of_candidates", session="s" * 65), "invalid_value", "65 characters")
perr("session-space", payload("end_of_candidates", session="a b"), "invalid_value", "space is not printable ASCII here")
perr("session-empty", payload("end_of_candidates", session=""), "invalid_value", "empty session")
pok("ufrag-4-pwd-22", payload("offer", **ice(ufrag="ab+/", pwd="A" * 21 + "/")), "shortest ufrag and pwd")
pok("ufrag-pwd-256", payload("offer", **ice(ufrag="u" * 256, pwd="p" * 256)), "longest ufrag and pwd")
perr("ufrag-3", payload("offer", **ice(ufrag="abc")), "invalid_value", "ufrag shorter than 4")
perr("pwd-21", payload("offer", **ice(pwd="p" * 21)), "invalid_value", "pwd shorter than 22")
perr("ufrag-bad-char", payload("answer", **ice(ufrag="ab-cd")), "invalid_value", "'-' is not an ice-char")
perr("pwd-257", payload("offer", **ice(pwd="p" * 257)), "invalid_value", "pwd longer than 256")
perr("listen-port-0", payload("offer", **dict(DESCRIPTION, wireguard={"public_key": KEY_A, "listen_port": 0})),
     "invalid_value", "listen_port 0")
perr("candidates-65", payload("offer", **ice(candidates=["candidate:1 1 UDP 1 192.0.2.1 %d typ host" % i
                                                         for i in range(1, 66)])), "invalid_value", "65 candidates")
perr("candidate-513-bytes", payload("candidate", candidate="candidate:1 1 UDP 1 192.0.2.1 9 typ host" + " x" * 238),
     "invalid_value", "a candidate line over 512 bytes")
pok("offer-relay-only", payload("offer", relay_only=True, **DESCRIPTION), "relay_only true: a relay-only generation")
_false = payload("offer", relay_only=False, **DESCRIPTION)
payloads["offer-relay-only-false"] = {
    "description": "relay_only false is accepted and means the same as absent (senders omit it)",
    "payload": json.dumps(_false, sort_keys=True, separators=(",", ":")),
    "expect": {"ok": payload("offer", **DESCRIPTION)}}
perr("offer-relay-only-null", payload("offer", relay_only=None, **DESCRIPTION), "wrong_type", "relay_only is a boolean")
perr("offer-relay-only-string", payload("offer", relay_only="true", **DESCRIPTION), "wrong_type", "relay_only is a boolean")
perr("restart-relay-only", payload("restart", relay_only=True, reason="x"), "unknown_field", "relay_only only in offers")
perr("answer-relay-only", payload("answer", relay_only=True, **DESCRIPTION), "unknown_field",
     "relay_only is an offer field; an answer carrying it is refused")
perr("candidate-with-ice", payload("candidate", candidate="candidate:1 1 UDP 1 192.0.2.1 9 typ host", **DESCRIPTION),
     "unknown_field", "fields of another kind")
perr("restart-missing-reason", payload("restart"), "missing_field", "restart needs a reason")
perr("unknown-kind", payload("hello"), "unknown_type", "not a signal kind")

def write_dir(directory, entries):
    os.makedirs(directory, exist_ok=True)
    for old in os.listdir(directory):
        if old.endswith(".json"):
            os.remove(os.path.join(directory, old))
    for name, case in sorted(entries.items()):
        with open(os.path.join(directory, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(case, f, indent=2, sort_keys=True, ensure_ascii=False)
            f.write("\n")
    print(f"wrote {len(entries)} vectors to {directory}")

write_dir(OUT, cases)
write_dir(os.path.join(os.path.dirname(OUT), "payloads"), payloads)
write_dir(os.path.join(os.path.dirname(OUT), "names"), names)
