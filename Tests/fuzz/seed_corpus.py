#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs into <out>/<Target>/ from Protocol/vectors and small built-in examples.

Usage: seed_corpus.py OUT_DIR. Seeds are named seed-*; the fuzzer's own corpus files sit beside them and are kept
between runs (make fuzz resumes from them). Nothing here is committed output: the directory is created at run time.
"""
import base64, glob, hashlib, json, os, struct, sys, zlib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VECTORS = os.path.join(ROOT, "Protocol", "vectors")


def write(out, target, data):
    if isinstance(data, str):
        data = data.encode()
    folder = os.path.join(out, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "seed-" + hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def protocol(out):
    for path in sorted(glob.glob(os.path.join(VECTORS, "messages", "*.json"))):
        case = json.load(open(path, encoding="utf-8"))
        frame = case["frame"]
        if len(frame.encode()) > 4096:
            continue  # the size-limit vectors only teach the fuzzer to make huge inputs
        write(out, "FuzzJSON", frame)
        write(out, "FuzzClientMessage" if case["direction"] == "client" else "FuzzHubMessage", frame)
    for path in sorted(glob.glob(os.path.join(VECTORS, "sealed", "*.json"))):
        case = json.load(open(path, encoding="utf-8"))
        write(out, "FuzzJSON", case["payload"])
        kinds = ["offer", "answer", "candidate", "end_of_candidates", "restart"]
        kind = json.loads(case["payload"]).get("type")
        if kind in kinds:
            # Even first byte: plaintext sealed by the target as that kind; odd: the relayed box itself.
            write(out, "FuzzSealed", bytes([2 * kinds.index(kind)]) + case["payload"].encode())
            write(out, "FuzzSealed", bytes([2 * kinds.index(kind) + 1]) + base64.b64decode(case["sealed_box"]))


def stun(out):
    cookie = struct.pack(">I", 0x2112A442)
    tid = bytes(range(1, 13))
    plain = struct.pack(">HH", 1, 0) + cookie + tid
    write(out, "FuzzSTUN", plain)
    head = struct.pack(">HH", 1, 8) + cookie + tid
    write(out, "FuzzSTUN", head + struct.pack(">HHI", 0x8028, 4, zlib.crc32(head) ^ 0x5354554E))
    # libnice's classic RFC 3489 request: no cookie, a 16-byte transaction id, and a SOFTWARE-like attribute.
    write(out, "FuzzSTUN", struct.pack(">HH", 1, 0) + bytes(range(16)))
    write(out, "FuzzSTUN", struct.pack(">HH", 1, 12) + bytes(range(16)) + struct.pack(">HH", 0x8022, 7) + b"libnice\0")
    # A success response (XOR-MAPPED-ADDRESS of 192.0.2.1:3478) for the client-side reader.
    xport = 3478 ^ 0x2112
    xaddr = bytes(a ^ b for a, b in zip(bytes([192, 0, 2, 1]), cookie))
    attr = struct.pack(">HHBBH", 0x0020, 8, 0, 1, xport) + xaddr
    write(out, "FuzzSTUN", struct.pack(">HH", 0x0101, len(attr)) + cookie + tid + attr)


def wireguard(out):
    our, peer_a, peer_b = ("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=", "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
                           "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=")
    dump = (f"{our}\tHIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=\t51820\toff\n"
            f"{peer_a}\t(none)\t192.0.2.7:51821\t100.64.0.3/32,fd7a:115c:a1e0::3/128\t1700000000\t2048\t4096\t25\n"
            f"{peer_b}\t(none)\t(none)\t(none)\t0\t0\t0\toff\n")
    write(out, "FuzzWireGuard", b"\0" + dump.encode())
    write(out, "FuzzWireGuard", b"\0(none)\t(none)\t0\toff\n")
    hex_a = base64.b64decode(peer_a).hex()
    uapi = (f"private_key={'ab' * 32}\nlisten_port=40000\npublic_key={hex_a}\npreshared_key={'00' * 32}\n"
            "protocol_version=1\nendpoint=[2001:db8::1]:51820\nlast_handshake_time_sec=1700000001\n"
            "last_handshake_time_nsec=5\ntx_bytes=92\nrx_bytes=180\npersistent_keepalive_interval=25\n"
            "allowed_ip=100.64.0.3/32\nallowed_ip=fd7a:115c:a1e0::3/128\nerrno=0\n\n")
    write(out, "FuzzWireGuard", b"\1" + uapi.encode())
    write(out, "FuzzWireGuard", b"\1errno=-98\n\n")
    write(out, "FuzzWireGuard", b"\2" + bytes(range(256)))


def configuration(out):
    hub = """listen = ":443"
public_host = "hub.example.org"
state_dir = "/var/lib/riftgate-hub"
stun_port = 3478
admin_listen = "127.0.0.1:9090"
tls_cert = "/etc/riftgate-hub/tls/fullchain.pem"
tls_key = "/etc/riftgate-hub/tls/privkey.pem"
turn_secret_file = "/etc/riftgate-hub/turn-secret"
turn_urls = ["turn:hub.example.org:3479?transport=udp"]
turn_ttl = "12h"
ping_interval = 20
pong_timeout = "30s"
no_stun = false
log_level = "info"
"""
    write(out, "FuzzConfiguration", b"\0" + hub.encode())
    write(out, "FuzzConfiguration", b"\0listen = \"[::1]:0\"\nno_stun = true\n")
    agent = """# riftgate agent configuration (written by `riftgate init`)
hub = "wss://hub.example.org"
network = "home"
name = "laptop-a"
interface = "riftgate0"
listen_port = 51820
mtu = 1380
secrets_file = "/etc/riftgate/secrets.toml"
control_socket = "/run/riftgate/riftgate0.sock"
control_group = "riftgate"
ca_file = "/etc/riftgate/ca.pem"
"""
    write(out, "FuzzConfiguration", b"\1" + agent.encode())
    write(out, "FuzzConfiguration", b"\1hub = 'ws://127.0.0.1:8080/'\nnetwork = \"lab\"\nname = \"Zo\\u00eb\"\n"
                                    b"secrets_file = \"s\"\nwireguard_go = \"/usr/bin/wireguard-go\"\n")


def dns_queries(out):
    """Queries as stub resolvers send them: A, AAAA, PTR, ANY, with and without EDNS, and a name with compression."""
    def name(text):
        return b"".join(bytes([len(label)]) + label.encode() for label in text.split(".") if label) + b"\0"

    def query(ident, qname, qtype, edns=False):
        header = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 1 if edns else 0)
        opt = b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0) if edns else b""
        return header + name(qname) + struct.pack(">HH", qtype, 1) + opt

    write(out, "FuzzDNS", query(1, "laptop-b.home.rift", 1))
    write(out, "FuzzDNS", query(2, "LAPTOP-B.home.rift", 28, edns=True))
    write(out, "FuzzDNS", query(3, "2.0.64.100.in-addr.arpa", 12))
    write(out, "FuzzDNS", query(4, "nas.home.rift", 255, edns=True))
    write(out, "FuzzDNS", query(5, "example.com", 1))
    # Two questions, the second a compression pointer to the first name (offset 12).
    write(out, "FuzzDNS", struct.pack(">HHHHHH", 6, 0x0100, 2, 0, 0, 0) + name("nas.home.rift") + struct.pack(">HH", 1, 1)
          + b"\xc0\x0c" + struct.pack(">HH", 28, 1))


def cluster(out):
    key = base64.b64encode(bytes([1] * 32)).decode()
    other = base64.b64encode(bytes([2] * 32)).decode()
    session = {"network": "home", "key": key, "session": "hub-2-5f3a9c1e/17", "claimed_at_ms": 1764560000123}
    messages = [
        {"type": "signal", "hub": "hub-1", "seq": 1, "network": "home", "to": other, "kind": "offer", "from": key,
         "sealed": {"nonce": base64.b64encode(bytes(24)).decode(), "box": base64.b64encode(bytes(range(40))).decode()}},
        dict(session, type="session_claimed", hub="hub-2-5f3a9c1e", seq=2),
        {"type": "session_ended", "hub": "hub-2-5f3a9c1e", "seq": 3, "network": "home", "key": key,
         "session": "hub-2-5f3a9c1e/17", "reason": "timeout"},
        {"type": "hub_alive", "hub": "hub-3", "seq": 4, "broadcast_seq": 3, "sessions": 20000},
        {"type": "sessions_request", "hub": "hub-1", "seq": 5},
        {"type": "sessions_snapshot", "hub": "hub-2-5f3a9c1e", "seq": 6, "snapshot": 2, "part": 0, "broadcast_seq": 3,
         "sessions": [session, session], "more": True},
    ]
    for message in messages:
        write(out, "FuzzClusterMessage", json.dumps(message, separators=(",", ":")))


def client_streams(out):
    """What a client of the hub's public listener sends: keep-alive requests, the upgrade, masked frames (7-, 16- and
    64-bit lengths, fragments, control frames), and an unmasked frame. The first byte of each seed is the cut point."""
    def frame(opcode, payload, masked=True, fin=True, long_form=False):
        first = (0x80 if fin else 0) | opcode
        bit = 0x80 if masked else 0
        if len(payload) < 126 and not long_form:
            header = struct.pack("!BB", first, bit | len(payload))
        elif len(payload) < 65536 and not long_form:
            header = struct.pack("!BBH", first, bit | 126, len(payload))
        else:
            header = struct.pack("!BBQ", first, bit | 127, len(payload))
        key = b"\x81\x82\x83\x84" if masked else b""
        return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if masked else header + payload
    healthz = b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n"
    upgrade = (b"GET /v1/networks/home HTTP/1.1\r\nHost: hub\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    masked = (frame(1, b'{"type":"hello"}') + frame(1, b" " * 200) + frame(1, b"{}", long_form=True)
              + frame(1, b"{", fin=False) + frame(9, b"ping") + frame(0, b"}") + frame(10, b"") + frame(8, b"\x03\xe8"))
    for cut, stream in [(7, upgrade + masked), (40, healthz + healthz + upgrade + masked),
                        (3, upgrade + frame(9, b"ping", masked=False)), (90, upgrade + masked + frame(1, b"{}", masked=False))]:
        write(out, "FuzzFrameParser", bytes([cut]) + stream)


if __name__ == "__main__":
    out = sys.argv[1]
    protocol(out)
    cluster(out)
    stun(out)
    wireguard(out)
    configuration(out)
    dns_queries(out)
    client_streams(out)
    for target in sorted(os.listdir(out)):
        print(f"seeds: {target}: {len(glob.glob(os.path.join(out, target, 'seed-*')))}")
