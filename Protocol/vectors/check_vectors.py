#!/usr/bin/env python3
"""Checks the cryptographic golden vectors with an implementation independent of RiftCrypto.

PyNaCl (libsodium's crypto_box) for sealed/ and proof/, hmac/hashlib for turn/ and tokens/, X25519 for keys/;
the payload rules of PROTOCOL.md §7 for payloads/, and JSON syntax, depth, values and peer names for messages/.
Format: sealed/README.md. Prints one line per failure and "N passed, M failed"; exits 1 when anything failed.
Needs `pip install pynacl`.
"""
import ipaddress
import base64, binascii, glob, hashlib, hmac, json, os, re, sys, unicodedata

from nacl.bindings import crypto_scalarmult_base
from nacl.exceptions import CryptoError
from nacl.public import Box, PrivateKey, PublicKey

ROOT = os.path.dirname(os.path.abspath(__file__))
unb64 = lambda text: base64.b64decode(text, validate=True)
b64 = lambda data: base64.b64encode(bytes(data)).decode()
public_of = lambda private_b64: b64(crypto_scalarmult_base(unb64(private_b64)))


class Mismatch(Exception):
    pass


def expect_equal(what, actual, expected):
    if actual != expected:
        raise Mismatch(f"{what}: got {actual!r}, expected {expected!r}")


def open_relayed(case):
    """Opens the relayed signal as a recipient must; returns "ok", "open_failed" or "mismatch"."""
    relayed, opener = case["relayed"], case["opener_private_key"]
    box = Box(PrivateKey(unb64(opener)), PublicKey(unb64(relayed["from"])))
    try:
        plaintext = box.decrypt(unb64(relayed["box"]), unb64(case["nonce"]))
    except CryptoError:
        return "open_failed"
    payload = json.loads(plaintext.decode("utf-8"))
    if payload["type"] != relayed["type"] or payload["from"] != relayed["from"] or payload["to"] != public_of(opener):
        return "mismatch"
    if payload["type"] in ("offer", "answer") and payload["wireguard"]["public_key"] != payload["from"]:
        return "mismatch"
    return "ok"


def check_sealed(case):
    expect_equal("sender_public_key", public_of(case["sender_private_key"]), case["sender_public_key"])
    expect_equal("recipient_public_key", public_of(case["recipient_private_key"]), case["recipient_public_key"])
    payload = json.loads(case["payload"])
    expect_equal("payload.from", payload["from"], case["sender_public_key"])
    expect_equal("payload.to", payload["to"], case["recipient_public_key"])
    expect_equal("payload is compact JSON with sorted keys", case["payload"],
                 json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    box = Box(PrivateKey(unb64(case["sender_private_key"])), PublicKey(unb64(case["recipient_public_key"])))
    sealed = box.encrypt(case["payload"].encode("utf-8"), unb64(case["nonce"])).ciphertext
    expect_equal("sealed_box", b64(sealed), case["sealed_box"])
    expect_equal("opening the relayed signal", open_relayed(case), case["expect"])


def check_proof(case):
    expect_equal("hub_public_key", public_of(case["hub_private_key"]), case["hub_public_key"])
    expect_equal("agent_public_key", public_of(case["agent_private_key"]), case["agent_public_key"])
    statement = (b"riftgate-proof-v1\x00" + unb64(case["challenge_nonce"]) + unb64(case["hub_public_key"])
                 + unb64(case["agent_public_key"]) + case["network"].encode("utf-8"))
    expect_equal("statement_hex", statement.hex(), case["statement_hex"])
    box = Box(PrivateKey(unb64(case["agent_private_key"])), PublicKey(unb64(case["hub_public_key"])))
    expect_equal("proof_box", b64(box.encrypt(statement, unb64(case["box_nonce"])).ciphertext), case["proof_box"])
    verify = case["verify"]
    expected = (b"riftgate-proof-v1\x00" + unb64(verify["challenge_nonce"]) + unb64(case["hub_public_key"])
                + unb64(verify["agent_public_key"]) + verify["network"].encode("utf-8"))
    hub_box = Box(PrivateKey(unb64(case["hub_private_key"])), PublicKey(unb64(verify["agent_public_key"])))
    try:
        opened = hub_box.decrypt(unb64(case["proof_box"]), unb64(case["box_nonce"]))
        valid = hmac.compare_digest(opened, expected)
    except CryptoError:
        valid = False
    expect_equal("proof verifies", valid, case["expect_valid"])


def check_turn(case):
    username = f'{case["expires_at"]}:{case["name"]}'
    expect_equal("username", username, case["username"])
    digest = hmac.new(case["secret"].encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    expect_equal("credential", b64(digest), case["credential"])


def check_token(case):
    token = case["token"]
    if not re.fullmatch(r"rgt_[A-Za-z0-9_-]{43}", token):
        raise Mismatch("token: not rgt_ followed by 43 base64url characters")
    expect_equal("token decodes to 32 bytes", len(base64.urlsafe_b64decode(token[4:] + "=")), 32)
    expect_equal("hash_hex", hashlib.blake2b(token.encode("utf-8"), digest_size=32).hexdigest(), case["hash_hex"])


def check_key(case):
    expect_equal("public_key", public_of(case["private_key"]), case["public_key"])


class Refused(Exception):
    """A decode failure with the protocol's error code."""
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def strict_json(text, max_depth=32):
    """RFC 8259 JSON with the protocol's extra rules: no duplicate keys, depth <= 32 (top level is 1)."""
    def no_duplicates(pairs):
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            raise Refused("malformed_json")
        return dict(pairs)
    def bad_constant(name):
        raise Refused("malformed_json")
    try:
        value = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=bad_constant)
    except ValueError:
        raise Refused("malformed_json")
    def strings(node):
        if isinstance(node, dict):
            for key, item in node.items():
                yield key
                yield from strings(item)
        elif isinstance(node, list):
            for item in node:
                yield from strings(item)
        elif isinstance(node, str):
            yield node
    if any(0xD800 <= ord(c) <= 0xDFFF for text in strings(value) for c in text):
        raise Refused("malformed_json")  # an unpaired surrogate escape is not a Unicode scalar
    def depth(node):
        if isinstance(node, dict):
            return 1 + max((depth(v) for v in node.values()), default=0)
        if isinstance(node, list):
            return 1 + max((depth(v) for v in node), default=0)
        return 0
    if depth(value) > max_depth:
        raise Refused("malformed_json")
    return value


def is_key(text):
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        return False
    return len(raw) == 32 and base64.b64encode(raw).decode() == text


ICE_CHARS = re.compile(r"[A-Za-z0-9+/]*")


def decode_payload(text):
    """The rules of PROTOCOL.md §7 for an opened plaintext, written independently of RiftProtocol."""
    value = strict_json(text)
    if not isinstance(value, dict):
        raise Refused("not_an_object")
    seen = set()
    def field(obj, key, kind):
        seen_here = seen if obj is value else None
        if key not in obj:
            raise Refused("missing_field")
        item = obj[key]
        if seen_here is not None:
            seen.add(key)
        if kind == "int":
            if isinstance(item, bool) or not isinstance(item, int):
                raise Refused("wrong_type")
        elif not isinstance(item, kind):
            raise Refused("wrong_type")
        return item
    kind = field(value, "type", str)
    if kind not in ("offer", "answer", "candidate", "end_of_candidates", "restart"):
        raise Refused("unknown_type")
    for key in ("from", "to"):
        if not is_key(field(value, key, str)):
            raise Refused("invalid_value")
    session = field(value, "session", str)
    if not 1 <= len(session) <= 64 or not all(0x21 <= ord(c) <= 0x7E for c in session):
        raise Refused("invalid_value")
    if not 0 <= field(value, "generation", "int") <= 2**32 - 1:
        raise Refused("invalid_value")
    if kind in ("offer", "answer"):
        ice, wireguard = field(value, "ice", dict), field(value, "wireguard", dict)
        for key, minimum in (("ufrag", 4), ("pwd", 22)):
            credential = field(ice, key, str)
            if not minimum <= len(credential) <= 256 or not ICE_CHARS.fullmatch(credential):
                raise Refused("invalid_value")
        candidates = field(ice, "candidates", list)
        if len(candidates) > 64:
            raise Refused("invalid_value")
        for line in candidates:
            if not isinstance(line, str):
                raise Refused("wrong_type")
            if len(line.encode()) > 512:
                raise Refused("invalid_value")
        if set(ice) - {"ufrag", "pwd", "candidates"}:
            raise Refused("unknown_field")
        if not is_key(field(wireguard, "public_key", str)):
            raise Refused("invalid_value")
        if not 1 <= field(wireguard, "listen_port", "int") <= 65535:
            raise Refused("invalid_value")
        if set(wireguard) - {"public_key", "listen_port"}:
            raise Refused("unknown_field")
        seen.update({"ice", "wireguard"})
        if kind == "offer" and "relay_only" in value:
            if not isinstance(value["relay_only"], bool):
                raise Refused("wrong_type")
            seen.add("relay_only")
            if value["relay_only"] is False:
                seen.discard("relay_only")
                value = {key: item for key, item in value.items() if key != "relay_only"}  # canonical: omitted
    elif kind == "candidate":
        if len(field(value, "candidate", str).encode()) > 512:
            raise Refused("invalid_value")
    elif kind == "restart":
        if len(field(value, "reason", str).encode()) > 256:
            raise Refused("invalid_value")
    if set(value) - seen:
        raise Refused("unknown_field")
    return value


def check_payload(case):
    try:
        result = {"ok": decode_payload(case["payload"])}
    except Refused as refused:
        result = {"error": refused.code}
    expect_equal("decoding the payload", result, case["expect"])


def valid_peer_name(name):
    """PROTOCOL.md §6: 1-63 scalars; no Cc, Cf, Zl, Zp; no Zs first or last."""
    if not 1 <= len(name) <= 63:
        return False
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        return False
    return unicodedata.category(name[0]) != "Zs" and unicodedata.category(name[-1]) != "Zs"


PORT_RULE = re.compile(r"^(tcp|udp)/([1-9][0-9]{0,4})(?:-([1-9][0-9]{0,4}))?$")


def allow_in_error(peer):
    """PROTOCOL.md §6.11: the error code an `allow_in` earns, None when it is absent or valid."""
    if "allow_in" not in peer:
        return None
    rules = peer["allow_in"]
    if not isinstance(rules, list) or not all(isinstance(rule, str) for rule in rules):
        return "wrong_type"
    if len(rules) > 64:
        return "invalid_value"
    for rule in rules:
        match = PORT_RULE.match(rule)
        if not match:
            return "invalid_value"
        low = int(match.group(2))
        high = int(match.group(3) or low)
        if not (1 <= low <= high <= 65535):
            return "invalid_value"
    return None


DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def valid_dns_domain(domain):
    """PROTOCOL.md §6.13: 1-4 labels, at most 189 characters, last label not `local` and not all digits."""
    labels = domain.split(".")
    return (0 < len(domain) <= 189 and 1 <= len(labels) <= 4 and all(DNS_LABEL.match(label) for label in labels)
            and labels[-1] != "local" and not labels[-1].isdigit())


def derive_dns_label(name):
    """PROTOCOL.md §6.13: the label a hub derives from a display name."""
    label = re.sub(r"[^a-z0-9]+", "-", "".join(c.lower() if c.isascii() and c.isalpha() else c for c in name)).strip("-")
    label = label[:63].rstrip("-")
    return label or "peer"


def dns_error(value):
    """The error code the DNS fields of a frame earn (§6.13), None when absent or valid."""
    peers = [value.get("peer"), value.get("self")] + list(value.get("peers") or [])
    for peer in peers:
        if isinstance(peer, dict) and "dns_name" in peer:
            if not isinstance(peer["dns_name"], str):
                return "wrong_type"
            if not DNS_LABEL.match(peer["dns_name"]):
                return "invalid_value"
    if value.get("type") == "welcome" and "dns_domain" in value:
        if not isinstance(value["dns_domain"], str):
            return "wrong_type"
        if not valid_dns_domain(value["dns_domain"]):
            return "invalid_value"
    return None


def route_list_error(routes):
    """PROTOCOL.md §6.14: the error code a list of routes earns, None when valid. Canonical means what Python's
    ipaddress prints back, host bits zero (strict), IPv4 /8-/32, IPv6 /16-/128, no duplicates, at most 16."""
    if not isinstance(routes, list) or not all(isinstance(route, str) for route in routes):
        return "wrong_type"
    if len(routes) > 16 or len(set(routes)) != len(routes):
        return "invalid_value"
    for route in routes:
        try:
            network = ipaddress.ip_network(route, strict=True)
        except ValueError:
            return "invalid_value"
        shortest = 8 if network.version == 4 else 16
        if str(network) != route or network.prefixlen < shortest:
            return "invalid_value"
    return None


def routes_error(value):
    """The error code the route fields of a frame earn (§6.14), None when absent or valid."""
    if value.get("type") == "hello" and "advertise_routes" in value:
        code = route_list_error(value["advertise_routes"])
        if code:
            return code
        if isinstance(value.get("version"), int) and value["version"] < 4:
            return "invalid_value"
    for peer in [value.get("peer"), value.get("self")] + list(value.get("peers") or []):
        if isinstance(peer, dict) and "routes" in peer:
            code = route_list_error(peer["routes"])
            if code:
                return code
    return None


def exit_node_error(value):
    """PROTOCOL.md §6.15: the error code the exit-node fields of a frame earn, None when absent or valid. A hello may
    say true or false, only from version 5 on; a PeerInfo says true or nothing."""
    if value.get("type") == "hello" and "advertise_exit_node" in value:
        if not isinstance(value["advertise_exit_node"], bool):
            return "wrong_type"
        if isinstance(value.get("version"), int) and value["version"] < 5:
            return "invalid_value"
    for peer in [value.get("peer"), value.get("self")] + list(value.get("peers") or []):
        if isinstance(peer, dict) and "exit_node" in peer:
            if not isinstance(peer["exit_node"], bool):
                return "wrong_type"
            if peer["exit_node"] is not True:
                return "invalid_value"
    return None

def check_names(case):
    """names/: every display name derives to the expected label, and that label is valid."""
    for item in case["cases"]:
        expect_equal(f"label of {item['name']!r}", derive_dns_label(item["name"]), item["label"])
        if not DNS_LABEL.match(item["label"]):
            raise Mismatch(f"derived label {item['label']!r} is not a valid label")


def check_message(case):
    """An independent look at the frame vectors: JSON syntax, depth and duplicate keys, `ok` values, and peer names.
    (The full message rules are checked by the Swift decoder; these are the ones most easily got wrong.)"""
    expected = case["expect"]
    if len(case["frame"].encode()) > 65536:
        expect_equal("oversized frame", expected, {"error": "frame_too_large"})
        return
    try:
        value = strict_json(case["frame"])
    except Refused:
        expect_equal("malformed frame", expected, {"error": "malformed_json"})
        return
    if "ok" in expected:
        expect_equal("frame value", value, expected["ok"])
    else:
        if expected["error"] == "malformed_json":
            raise Mismatch("the frame parses as strict JSON, but the vector expects malformed_json")
    names = []
    if isinstance(value, dict):
        if value.get("type") == "hello" and isinstance(value.get("name"), str):
            names.append(value["name"])
        for peer in [value.get("peer"), value.get("self")] + list(value.get("peers") or []):
            if isinstance(peer, dict) and isinstance(peer.get("name"), str):
                names.append(peer["name"])
    if any(not valid_peer_name(name) for name in names):
        expect_equal("a frame with an invalid peer name", expected, {"error": "invalid_value"})
    if isinstance(value, dict):
        for peer in [value.get("peer"), value.get("self")] + list(value.get("peers") or []):
            code = allow_in_error(peer) if isinstance(peer, dict) else None
            if code:
                expect_equal("a frame with an invalid allow_in", expected, {"error": code})
        code = dns_error(value)
        if code:
            expect_equal("a frame with an invalid dns_name or dns_domain", expected, {"error": code})
        code = routes_error(value)
        if code:
            expect_equal("a frame with invalid routes", expected, {"error": code})
        code = exit_node_error(value)
        if code:
            expect_equal("a frame with an invalid exit-node field", expected, {"error": code})


CHECKS = {"messages": check_message, "payloads": check_payload, "sealed": check_sealed, "proof": check_proof, "turn": check_turn, "tokens": check_token, "keys": check_key, "names": check_names}


def main():
    passed, failed = 0, 0
    for directory, check in CHECKS.items():
        paths = sorted(glob.glob(os.path.join(ROOT, directory, "*.json")))
        if not paths:
            print(f"FAIL {directory}/: no vectors found")
            failed += 1
        for path in paths:
            name = os.path.relpath(path, ROOT)
            try:
                with open(path, encoding="utf-8") as file:
                    check(json.load(file))
                passed += 1
            except (Mismatch, KeyError, ValueError, TypeError, binascii.Error) as error:
                print(f"FAIL {name}: {type(error).__name__}: {error}")
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
