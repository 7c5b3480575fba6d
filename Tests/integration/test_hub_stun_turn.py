"""NAT traversal support: the built-in STUN responder and TURN credentials accepted by a real coturn."""
import hashlib
import hmac
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import zlib

import pytest
import riftproto
from rgclient import Agent

MAGIC = 0x2112A442


def stun_request(transaction, attributes=b"", fingerprint=False, method=0x0001):
    length = len(attributes) + (8 if fingerprint else 0)
    message = struct.pack("!HHI", method, length, MAGIC) + transaction + attributes
    if fingerprint:
        message += struct.pack("!HHI", 0x8028, 4, (zlib.crc32(message) ^ 0x5354554E) & 0xFFFFFFFF)
    return message


def attributes_of(message):
    result, offset = {}, 20
    while offset + 4 <= len(message):
        kind, length = struct.unpack("!HH", message[offset:offset + 4])
        result[kind] = message[offset + 4:offset + 4 + length]
        offset += 4 + (length + 3) // 4 * 4
    return result


def xor_address(value, transaction):
    family, port = value[1], struct.unpack("!H", value[2:4])[0] ^ (MAGIC >> 16)
    pad = struct.pack("!I", MAGIC) + transaction
    address = bytes(b ^ pad[i] for i, b in enumerate(value[4:]))
    return socket.inet_ntop(socket.AF_INET if family == 1 else socket.AF_INET6, address), port


@pytest.mark.parametrize("fingerprint", [False, True])
def test_stun_binding_request_is_answered_with_xor_mapped_address(hub, fingerprint):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.bind(("127.0.0.1", 0))
        transaction = os.urandom(12)
        sock.sendto(stun_request(transaction, fingerprint=fingerprint), ("127.0.0.1", hub.stun_port))
        response, _ = sock.recvfrom(2048)
        kind, length, cookie = struct.unpack("!HHI", response[:8])
        assert (kind, cookie, response[8:20]) == (0x0101, MAGIC, transaction)
        assert length == len(response) - 20
        attributes = attributes_of(response)
        assert xor_address(attributes[0x0020], transaction) == sock.getsockname()
        # FINGERPRINT covers everything before it.
        expected = (zlib.crc32(response[:-8]) ^ 0x5354554E) & 0xFFFFFFFF
        assert struct.unpack("!I", attributes[0x8028])[0] == expected




def test_stun_classic_rfc3489_request_is_answered_with_mapped_address(hub):
    """libnice discovers server-reflexive candidates with classic requests (no magic cookie): RFC 5389 §12.2."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.bind(("127.0.0.1", 0))
        transaction = os.urandom(16)
        sock.sendto(struct.pack("!HH", 0x0001, 0) + transaction, ("127.0.0.1", hub.stun_port))
        response, _ = sock.recvfrom(2048)
        kind, length = struct.unpack("!HH", response[:4])
        assert (kind, response[4:20]) == (0x0101, transaction)
        attributes = attributes_of(response)
        assert set(attributes) == {0x0001}, "MAPPED-ADDRESS only: a classic client knows no XOR-MAPPED-ADDRESS"
        value = attributes[0x0001]
        assert value[1] == 1 and (socket.inet_ntop(socket.AF_INET, value[4:8]), struct.unpack("!H", value[2:4])[0]) \
            == sock.getsockname()


def test_stun_ignores_malformed_datagrams_and_keeps_answering(hub):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        target = ("127.0.0.1", hub.stun_port)
        transaction = os.urandom(12)
        bad = [b"", b"\x00" * 19, stun_request(transaction)[:-1] + b"", stun_request(transaction, method=0x0101),
               stun_request(transaction, b"\x00\x06\x00\x08abc"),
               stun_request(transaction, fingerprint=True)[:-1] + b"\x00"]
        for datagram in bad:
            sock.sendto(datagram, target)
        with pytest.raises(socket.timeout):
            sock.recvfrom(2048)
        sock.settimeout(3)
        sock.sendto(stun_request(transaction), target)
        assert sock.recvfrom(2048)[0][8:20] == transaction


def turn_allocate(port, username, password, timeout=3.0):
    """A minimal TURN Allocate (RFC 5766) with long-term credentials; returns the final response type and attributes."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        transport = struct.pack("!HHI", 0x0019, 4, 17 << 24)
        first = os.urandom(12)
        sock.sendto(stun_request(first, transport, method=0x0003), ("127.0.0.1", port))
        challenge, _ = sock.recvfrom(4096)
        assert struct.unpack("!H", challenge[:2])[0] == 0x0113, "expected 401 to the unauthenticated allocate"
        attributes = attributes_of(challenge)
        realm, nonce = attributes[0x0014], attributes[0x0015]

        def attribute(kind, value):
            return struct.pack("!HH", kind, len(value)) + value + b"\x00" * ((4 - len(value) % 4) % 4)

        body = transport + attribute(0x0006, username.encode()) + attribute(0x0014, realm) + attribute(0x0015, nonce)
        transaction = os.urandom(12)
        header = struct.pack("!HHI", 0x0003, len(body) + 24, MAGIC) + transaction
        key = hashlib.md5(f"{username}:{realm.decode()}:{password}".encode()).digest()
        integrity = hmac.new(key, header + body, hashlib.sha1).digest()
        sock.sendto(header + body + attribute(0x0008, integrity), ("127.0.0.1", port))
        response, _ = sock.recvfrom(4096)
        return struct.unpack("!H", response[:2])[0], attributes_of(response)


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def coturn(tmp_path):
    binary = shutil.which("turnserver")
    if binary is None:
        pytest.skip("coturn's turnserver is not installed (apt-get install coturn)")
    secret = "integration-secret-" + os.urandom(8).hex()
    port = free_udp_port()
    relay_low = 49152 + (port % 8000)
    process = subprocess.Popen(
        [binary, "-n", "--use-auth-secret", f"--static-auth-secret={secret}", "--realm=riftgate", "--no-tls", "--no-dtls",
         "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}", "--no-cli", "--no-tcp",
         f"--min-port={relay_low}", f"--max-port={relay_low + 50}", "--log-file=stdout", "--simple-log",
         f"--pidfile={tmp_path / 'turn.pid'}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Wait (bounded) until it answers a STUN binding request.
    deadline = time.monotonic() + 10
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        while True:
            sock.sendto(stun_request(os.urandom(12)), ("127.0.0.1", port))
            try:
                sock.recvfrom(2048)
                break
            except socket.timeout:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail("turnserver did not start: " + (process.stdout.read() if process.stdout else ""))
    secret_file = tmp_path / "turn-secret"
    secret_file.write_text(secret + "\n")
    secret_file.chmod(0o600)
    yield port, secret_file
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def test_turn_credentials_from_the_welcome_are_accepted_by_coturn(hub_factory, coturn):
    port, secret_file = coturn
    hub = hub_factory(("--turn-secret-file", str(secret_file), "--turn-url", f"turn:127.0.0.1:{port}", "--turn-ttl", "1h"),
                      start=False)
    _, token = hub.create_token("home")
    hub.start()
    agent = Agent(hub, "home", token)
    welcome = agent.join()
    (turn,) = welcome["ice"]["turn"]
    assert turn["urls"] == [f"turn:127.0.0.1:{port}"]
    assert turn["username"] == f"{turn['expires_at']}:{agent.public_key}"
    assert 3500 <= turn["expires_at"] - time.time() <= 3700
    kind, attributes = turn_allocate(port, turn["username"], turn["credential"])
    assert kind == 0x0103, f"allocate failed: {attributes.get(0x0009)}"
    assert 0x0016 in attributes, "XOR-RELAYED-ADDRESS"
    # The check can fail: a wrong credential is refused.
    kind, attributes = turn_allocate(port, turn["username"], "AAAA" + turn["credential"][4:])
    assert kind == 0x0113


def test_stun_answers_one_source_at_a_bounded_rate(hub):
    """STUN answers are larger than requests and UDP sources can be forged: one source gets a burst, then a trickle."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        flood.bind(("127.0.0.2", 0))
        other.bind(("127.0.0.3", 0))
        for _ in range(200):
            flood.sendto(stun_request(os.urandom(12)), ("127.0.0.1", hub.stun_port))
        flood.settimeout(0.5)
        answers = 0
        try:
            while True:
                flood.recvfrom(2048)
                answers += 1
        except socket.timeout:
            pass
        assert 1 <= answers <= 30, answers  # a burst of 20, plus what refilled at 10/s meanwhile
        other.settimeout(3)
        transaction = os.urandom(12)
        other.sendto(stun_request(transaction), ("127.0.0.1", hub.stun_port))
        assert other.recvfrom(2048)[0][8:20] == transaction, "another source is still answered"


def test_a_token_alone_gets_turn_credentials_coturn_accepts_without_joining(hub_factory, coturn):
    """PROTOCOL.md §6.12: `ice_servers` instead of hello. The credentials work on a real coturn, live minutes, and the
    request joins nothing: no peer appears, and a single-use token keeps its slot."""
    port, secret_file = coturn
    hub = hub_factory(("--turn-secret-file", str(secret_file), "--turn-url", f"turn:127.0.0.1:{port}", "--turn-ttl", "1h"),
                      start=False)
    _, token = hub.create_token("home", "single", "--single-use")
    hub.start()
    peers_before = hub.cli("peer", "list", "home").stdout
    asker = Agent(hub, "home", token).connect()
    asker.read_challenge()
    asker.send(riftproto.ice_servers_request("netcheck"))
    answer = asker.expect("ice_servers")
    assert asker.expect_closed() == 1000
    (turn,) = answer["ice"]["turn"]
    assert turn["username"] == f"{turn['expires_at']}:netcheck.home"
    assert 0 < turn["expires_at"] - time.time() <= 660, "token-only credentials live at most 10 minutes"
    assert answer["ice"]["stun"], answer
    kind, attributes = turn_allocate(port, turn["username"], turn["credential"])
    assert kind == 0x0103, f"allocate failed: {attributes.get(0x0009)}"
    assert hub.cli("peer", "list", "home").stdout == peers_before, "nobody joined"
    member = Agent(hub, "home", token)
    assert member.join()["self"]["public_key"] == member.public_key, "the single-use token's slot is still free"
    assert hub.metrics()["riftgate_hub_ice_servers_requests_total"] == 1


def test_a_wrong_token_gets_no_ice_servers(hub):
    asker = Agent(hub, "home", "rgt_" + "A" * 43)
    asker.connect()
    asker.expect_error("unauthorized")
    assert asker.expect_closed() == 4401


def netcheck(hub, *arguments, stdin=None, as_json=True):
    binary = os.path.join(os.environ.get("RIFTGATE_BIN_DIR", ""), "riftgate")
    if not os.path.exists(binary):
        pytest.skip("RIFTGATE_BIN_DIR does not hold the riftgate binary")
    return subprocess.run([binary, "netcheck", "--config", "/nonexistent/riftgate.toml", "--hub", f"ws://127.0.0.1:{hub.port}",
                           "--network", "home", "--stun-port", str(hub.stun_port), *(["--json"] if as_json else []), *arguments],
                          input=stdin, capture_output=True, text=True, timeout=60)


def test_netcheck_checks_turn_with_a_token_alone(hub_factory, coturn, tmp_path):
    """`riftgate netcheck --token-file`: no agent, no configuration; the hub gives the credentials, coturn accepts them."""
    port, secret_file = coturn
    hub = hub_factory(("--turn-secret-file", str(secret_file), "--turn-url", f"turn:127.0.0.1:{port}"), start=False)
    _, token = hub.create_token("home")
    hub.start()
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    result = netcheck(hub, "--token-file", str(token_file))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["turn"] == "reachable" and report["turn_credentials_from"] == "hub", report
    assert [server["url"] for server in report["turn_servers"]] == [f"turn:127.0.0.1:{port}"], report
    assert token not in result.stdout + result.stderr
    # From standard input, without the warning a token on the command line gets.
    piped = netcheck(hub, "--token", "-", stdin=token + "\n")
    assert json.loads(piped.stdout)["turn"] == "reachable" and "warning" not in piped.stderr, piped.stderr
    # A wrong token: the report still comes, TURN not checked, and netcheck fails saying why.
    token_file.write_text("rgt_" + "A" * 43 + "\n")
    refused = netcheck(hub, "--token-file", str(token_file))
    assert refused.returncode == 77, refused
    assert json.loads(refused.stdout)["turn"] == "not checked (the hub refused the token (unauthorized))", refused.stdout
    assert "refused" in refused.stderr and "unauthorized" in refused.stderr, refused.stderr


def test_netcheck_with_a_token_on_a_hub_without_turn(hub):
    result = netcheck(hub, "--token", "-", stdin=hub.token)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["turn"] == "none offered" and report["turn_servers"] == [] and report["turn_credentials_from"] == "hub"
    text = netcheck(hub, "--token", "-", stdin=hub.token, as_json=False).stdout
    assert "TURN: none offered (no TURN servers on this network)" in text, text


def test_netcheck_with_a_token_says_when_the_hub_is_too_old(tmp_path):
    """A hub from before PROTOCOL.md §6.12 refuses ice_servers as it refuses anything but hello before welcome
    (not_authenticated, close 4400): netcheck reports TURN as not checked and still succeeds."""
    import threading
    from websockets.sync.server import serve

    def old_hub(connection):
        connection.send(json.dumps({"type": "challenge", "versions": [1, 2], "hub_key": riftproto.b64(bytes(32)),
                                    "nonce": riftproto.b64(bytes(32))}))
        message = json.loads(connection.recv(timeout=10))
        assert message["type"] == "ice_servers"
        connection.send(json.dumps({"type": "error", "code": "not_authenticated",
                                    "message": "send a valid hello first (unknown_type: unknown message type ice_servers)"}))
        connection.close(4400, "not_authenticated")

    with serve(old_hub, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]

        class OldHub:
            pass
        hub = OldHub()
        hub.port, hub.stun_port = port, port
        result = netcheck(hub, "--token", "-", "--stun-alt-port", str(port), stdin="rgt_" + "A" * 43)
        server.shutdown()
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["turn"] == "not checked (hub too old to answer ice_servers: TURN not checked)", report
    assert "turn_servers" not in report and "turn_credentials_from" not in report, report
