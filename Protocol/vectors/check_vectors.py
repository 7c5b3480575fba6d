#!/usr/bin/env python3
"""Checks the cryptographic golden vectors with an implementation independent of RiftCrypto.

PyNaCl (libsodium's crypto_box) for sealed/ and proof/, hmac/hashlib for turn/ and tokens/, X25519 for keys/.
Format: sealed/README.md. Prints one line per failure and "N passed, M failed"; exits 1 when anything failed.
Needs `pip install pynacl`.
"""
import base64, binascii, glob, hashlib, hmac, json, os, re, sys

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


CHECKS = {"sealed": check_sealed, "proof": check_proof, "turn": check_turn, "tokens": check_token, "keys": check_key}


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
            except (Mismatch, KeyError, ValueError, binascii.Error) as error:
                print(f"FAIL {name}: {type(error).__name__}: {error}")
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
