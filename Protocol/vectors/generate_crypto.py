#!/usr/bin/env python3
"""Writes the cryptographic golden vectors: sealed/, proof/, turn/, tokens/ and keys/ (format: sealed/README.md).

Every input is fixed below: the private keys were made once with `wg genkey` and their public keys are the
ones `wg pubkey` printed; the nonces were drawn once from os.urandom. Running this again therefore rewrites the
same files byte for byte. Outputs are computed with PyNaCl and hmac/hashlib, independently of RiftCrypto.
Run it after changing a case (`pip install pynacl`); review the diff like code.
"""
import base64, hashlib, hmac, json, os, shutil, subprocess

from nacl.bindings import crypto_scalarmult_base
from nacl.public import Box, PrivateKey, PublicKey

ROOT = os.path.dirname(os.path.abspath(__file__))
def b64(data): return base64.b64encode(bytes(data)).decode()
unb64 = base64.b64decode

# `wg genkey`, and what `wg pubkey` printed for each.
KEYS = {
    "alice": ("4C/sENmm+YYJ0O6aI6Flnh6qLYEgHF/9jUkx5XmMnXg=", "ONmWD6W69wHj0I2rRIxiTeCNHSv/wxU5u+R0dGjCVCc="),
    "bob": ("kK2R40LyOIwPRn7XC9tv7pHkD0vIYfo5ZknqtyfSblM=", "zXwKUgU3CfHt55GCuzaHwB7PBqHYI2sqMwDoBbag21g="),
    "carol": ("YN6DIjeHzIpWUvJ+faa1XJg8kz/nvqCkH+Q6dFSwTUc=", "ACph2JrXFs5PvpxjYahqUUJaEy+z29HV3f/Bc2TKp18="),
    "hub": ("YMMvlIIvEC0y6qy+yGoDb4cRphLvgpfh04D34Kc1z38=", "kWJAwTP2ZIWVdrvUHfexLOc+qNQ/xqnuvKgDoqthxEI="),
    "agent": ("aAQg6dCem9wLidPmo+/X1wIKLYz4fWvJA34HA2vGs1U=", "1hMW0qElQrR6ePBJkingg6JmrOqyKmqdyZsY1V32vVw="),
    "mallory": ("SFLjNfCVLIRoN9/8lELpuw0Lfqp+HbJzr+7EER621kk=", "7qp67f0XfSVG4FZ7kb7ojZSEfiLo8x618oDkC7VCLEU="),
    "wg": ("cAgh5teR1cX/mrqWWrzVGM8tp1ckXJhqZEtZzpiT8k8=", "glP5LcNp56SK4FlhJhRzSBQGA0LC4mgXbzUMGadQ6jU="),
    # Not clamped (low bits set, bit 254 clear): `wg pubkey` clamps before multiplying, and so must we.
    "unclamped": ("7zw9bJLBZXatWc5NA+RAzKP5hBhsmsQcNHbUrbSdqoo=", "Kzt2T0OoyCKmcOslvCTZWjKkFLFYWFtmSv40Eud5KEY="),
}
NONCES = {
    "offer": "C4oP+CjwpXBzOcZZBGI7iav+zgWspRxf", "answer": "R1HxF4DVTvvn86sPknDVWK9yUa5Rvy2J",
    "candidate": "f481YyAbtZ0xO55/tlaksUihH9xfcoMW", "end_of_candidates": "1PKEvedWySpfPYdb1l8JMRVorJF0y3ul",
    "restart": "c5NcL/nMPVve0zNJ82IIufFzwsiGwHJp", "proof": "vVoH4JP7YIzRBLEGxboPLrF0+SGIAVzD",
    "challenge": "zp2fc/uoxyFNRnIpQWOiFbgwcZqqVwFUyASN2r2KcM8=",
    "other_challenge": "xfGAzRq6BnfrbWHMN6aFgR/fTME6ftAUgodYeH9MjME=",
    "token": "OHnlivXyckMVPfvAGBfiIeHi8/N0amwk79uVfE5E8o8=",
}
def private(name): return KEYS[name][0]
def public(name): return KEYS[name][1]

for name, (secret, expected) in KEYS.items():
    assert b64(crypto_scalarmult_base(unb64(secret))) == expected, name
    if shutil.which("wg"):
        printed = subprocess.run(["wg", "pubkey"], input=secret + "\n", capture_output=True, text=True, check=True)
        assert printed.stdout.strip() == expected, name

def write(path, case):
    os.makedirs(os.path.dirname(os.path.join(ROOT, path)), exist_ok=True)
    with open(os.path.join(ROOT, path), "w") as f:
        f.write(json.dumps(case, indent=2, ensure_ascii=False) + "\n")

def payload_text(kind, sender, recipient, generation, **body):
    """The payload exactly as SignalPayload.encoded() writes it: compact JSON, sorted keys, raw UTF-8."""
    fields = {"type": kind, "from": public(sender), "to": public(recipient), "session": "3f6c2a9e81d04b7c",
              "generation": generation, **body}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

def sealed(description, nonce, sender, recipient, text, opener=None, relayed_type=None, relayed_from=None,
           flip_byte=None, expect="ok"):
    box = Box(PrivateKey(unb64(private(sender))), PublicKey(unb64(public(recipient))))
    ciphertext = box.encrypt(text.encode(), unb64(NONCES[nonce])).ciphertext
    relayed_box = bytearray(ciphertext)
    if flip_byte is not None:
        relayed_box[flip_byte] ^= 0x01
    kind = json.loads(text)["type"]
    return {
        "description": description,
        "sender_private_key": private(sender), "sender_public_key": public(sender),
        "recipient_private_key": private(recipient), "recipient_public_key": public(recipient),
        "nonce": NONCES[nonce], "payload": text, "sealed_box": b64(ciphertext),
        "relayed": {"type": relayed_type or kind, "from": public(relayed_from or sender), "box": b64(relayed_box)},
        "opener_private_key": private(opener or recipient),
        "expect": expect,
    }

# Alice's key sorts before Bob's, so Alice is the controlling peer: she offers, Bob answers and asks for restarts.
OFFER = payload_text("offer", "alice", "bob", 0,
                     ice={"ufrag": "Xq7f", "pwd": "mB3+kLz/9QeR2uVt0wYpAs", "candidates": [
                         "candidate:1 1 UDP 2015363327 192.168.1.20 51820 typ host",
                         "candidate:2 1 UDP 1679819007 203.0.113.7 40211 typ srflx raddr 192.168.1.20 rport 51820"]},
                     wireguard={"public_key": public("alice"), "listen_port": 51820})
write("sealed/offer.json", sealed("offer from the controlling peer (alice) to bob", "offer", "alice", "bob", OFFER))
write("sealed/answer.json", sealed(
    "answer from the controlled peer (bob) to alice", "answer", "bob", "alice",
    payload_text("answer", "bob", "alice", 0,
                 ice={"ufrag": "c9Dk", "pwd": "Zr8/Uq1+eNw4TyHxLp6sVa",
                      "candidates": ["candidate:1 1 UDP 2015363327 10.0.0.5 40000 typ host"]},
                 wireguard={"public_key": public("bob"), "listen_port": 40000})))
write("sealed/candidate.json", sealed(
    "one trickled relay candidate", "candidate", "alice", "bob",
    payload_text("candidate", "alice", "bob", 2,
                 candidate="candidate:3 1 UDP 8331263 198.51.100.9 61044 typ relay raddr 203.0.113.7 rport 40211")))
write("sealed/end_of_candidates.json", sealed(
    "no more candidates for generation 2", "end_of_candidates", "bob", "alice",
    payload_text("end_of_candidates", "bob", "alice", 2)))
write("sealed/restart.json", sealed(
    "restart request whose reason holds non-ASCII text, quotes and a tab", "restart", "bob", "alice",
    payload_text("restart", "bob", "alice", 3, reason="consent lost \"après\" 30 s\tno reply")))
write("sealed/reject-reflected.json", sealed(
    "the hub relays alice's own offer back to her as if from bob; crypto_box keys are symmetric so it opens, "
    "but payload.from (alice) is not the envelope's from (bob)",
    "offer", "alice", "bob", OFFER, opener="alice", relayed_from="bob", expect="mismatch"))
write("sealed/reject-relabelled-kind.json", sealed(
    "the hub relabels alice's offer as an answer", "offer", "alice", "bob", OFFER, relayed_type="answer",
    expect="mismatch"))
write("sealed/reject-wrong-recipient.json", sealed(
    "carol receives the offer sealed for bob", "offer", "alice", "bob", OFFER, opener="carol",
    expect="open_failed"))
write("sealed/reject-tampered.json", sealed(
    "one bit of the ciphertext (byte 40) flipped in transit", "offer", "alice", "bob", OFFER, flip_byte=40,
    expect="open_failed"))

write("sealed/reject-foreign-wireguard-key.json", sealed(
    "alice's offer names carol's key as its WireGuard key; it opens and its type/from/to match, but "
    "wireguard.public_key must equal from", "offer", "alice", "bob",
    payload_text("offer", "alice", "bob", 0,
                 ice={"ufrag": "Xq7f", "pwd": "mB3+kLz/9QeR2uVt0wYpAs", "candidates": []},
                 wireguard={"public_key": public("carol"), "listen_port": 51820}),
    expect="mismatch"))

def proof(name, description, expect_valid, **verify_changes):
    challenge, network = unb64(NONCES["challenge"]), "home-lab"
    statement = (b"riftgate-proof-v1\x00" + challenge + unb64(public("hub")) + unb64(public("agent"))
                 + network.encode())
    box = Box(PrivateKey(unb64(private("agent"))), PublicKey(unb64(public("hub"))))
    proof_box = box.encrypt(statement, unb64(NONCES["proof"])).ciphertext
    verify = {"challenge_nonce": NONCES["challenge"], "network": network, "agent_public_key": public("agent")}
    verify.update(verify_changes)
    write(f"proof/{name}.json", {
        "description": description, "challenge_nonce": NONCES["challenge"],
        "hub_private_key": private("hub"), "hub_public_key": public("hub"),
        "agent_private_key": private("agent"), "agent_public_key": public("agent"),
        "network": network, "box_nonce": NONCES["proof"], "statement_hex": statement.hex(),
        "proof_box": b64(proof_box), "verify": verify, "expect_valid": expect_valid,
    })

proof("valid", "the agent proves possession of its key to join network home-lab", True)
proof("reject-wrong-agent-key", "mallory presents the agent's proof while claiming her own key", False,
      agent_public_key=public("mallory"))
proof("reject-wrong-network", "the proof is presented to join another network", False, network="office")
proof("reject-replayed", "the proof is replayed on a connection with another challenge nonce", False,
      challenge_nonce=NONCES["other_challenge"])

def turn(name, secret, peer, expires_at):
    username = f"{expires_at}:{peer}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    write(f"turn/{name}.json", {"secret": secret, "name": peer, "expires_at": expires_at,
                                "username": username, "credential": b64(digest)})

turn("basic", "north-wind-7f3c9a1e", public("bob"), 1767225600)
turn("long-secret", "s" * 10 + "K8/q+2vZ" * 12, "home-lab.laptop", 4102444800)  # longer than SHA-1's block
turn("netcheck", "north-wind-7f3c9a1e", "netcheck.home", 1767225600)  # PROTOCOL.md §6.12: the name of a token-only request

token = "rgt_" + base64.urlsafe_b64encode(unb64(NONCES["token"])).decode().rstrip("=")
write("tokens/token.json", {"description": "rgt_ + base64url without padding of 32 random bytes; "
                                           "hash = BLAKE2b-256 (crypto_generichash, 32 bytes) of the token text",
                            "token": token, "hash_hex": hashlib.blake2b(token.encode(), digest_size=32).hexdigest()})

write("keys/wg-genkey.json", {"description": "made by `wg genkey`; public key as `wg pubkey` prints it",
                              "private_key": private("wg"), "public_key": public("wg")})
write("keys/unclamped.json", {"description": "a private key that is not clamped; `wg pubkey` clamps it first",
                              "private_key": private("unclamped"), "public_key": public("unclamped")})
