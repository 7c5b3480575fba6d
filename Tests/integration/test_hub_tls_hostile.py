"""Hostile clients on the TLS listener (`wss://`): handshakes that never finish, bytes that are not TLS, and the
malformed-input cases of the plain listener, repeated over TLS. The hub must drop them within a bound and keep
serving everyone else."""
import socket
import subprocess
import ssl
import time

import pytest
import riftproto
from rgclient import Agent
from test_hub_robustness import raw_frame
from test_hub_transport import certificate  # noqa: F401 (fixture)


@pytest.fixture
def tls_hub(hub_factory, certificate):  # noqa: F811
    cert, key = certificate
    hub = hub_factory(("--tls-cert", str(cert), "--tls-key", str(key)), start=False)
    _, hub.token = hub.create_token("home")
    hub.ssl_context = ssl.create_default_context(cafile=str(cert))
    hub.start()
    assert hub.scheme == "wss"
    return hub


def joined(hub, name):
    agent = Agent(hub, "home", hub.token, name=name)
    agent.welcome = agent.join()
    return agent


def closed_by_hub(sock, timeout):
    """Waits until the hub closes the TCP connection; returns the seconds it took, or None."""
    started = time.monotonic()
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
    except (socket.timeout, TimeoutError):
        return None
    except OSError:
        pass
    return time.monotonic() - started


def stall_handshakes(hub, count=50):
    """`count` connections that send half a ClientHello (or nothing) and stall: slowloris on TLS."""
    stalled = []
    for index in range(count):
        sock = socket.create_connection(("127.0.0.1", hub.port), timeout=5)
        if index % 2:
            sock.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # the start of a ClientHello, then nothing
        stalled.append(sock)
    return stalled


def test_handshakes_that_never_finish_are_dropped(tls_hub):
    a = joined(tls_hub, "a")
    stalled = stall_handshakes(tls_hub)
    waits = [closed_by_hub(sock, timeout=30) for sock in stalled[:4]]
    for sock in stalled:
        sock.close()
    assert all(wait is not None for wait in waits), f"stalled TLS handshakes were never dropped: {waits}"
    print(f"stalled TLS handshakes dropped after {max(waits):.1f} s")
    b = joined(tls_hub, "b")
    a.signal("offer", b.public_key)
    assert b.expect("offer", skip=("peer_joined",))["from"] == a.public_key


def test_an_agent_joins_while_handshakes_stall(tls_hub):
    a = joined(tls_hub, "a")
    stalled = stall_handshakes(tls_hub)
    try:
        b = joined(tls_hub, "b")
        a.signal("offer", b.public_key)
        assert b.expect("offer", skip=("peer_joined",))["from"] == a.public_key
    finally:
        for sock in stalled:
            sock.close()


def test_bytes_that_are_not_tls_are_refused_and_the_hub_stays_up(tls_hub):
    for garbage in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00" * 512, b"\x16\x03\x03\xff\xff" + b"A" * 2000):
        with socket.create_connection(("127.0.0.1", tls_hub.port), timeout=5) as sock:
            sock.sendall(garbage)
            assert closed_by_hub(sock, timeout=10) is not None
    assert joined(tls_hub, "after-garbage").welcome["network"] == "home"


def test_malformed_input_over_tls_gets_the_same_answers(tls_hub):
    """The plain listener's refusals hold over TLS: malformed JSON before hello, oversized frames, endless
    continuations."""
    early = Agent(tls_hub, "home", tls_hub.token).connect()
    early.read_challenge()
    early.ws.send("{not json")
    early.expect_error("not_authenticated")
    assert early.expect_closed() == 4400

    big = joined(tls_hub, "big")
    big.ws.send("x" * 65_537)
    big.expect_error("frame_too_large", skip=("peer_joined",))
    assert big.expect_closed() == 1009

    context = tls_hub.ssl_context
    raw = context.wrap_socket(socket.create_connection(("127.0.0.1", tls_hub.port), timeout=5), server_hostname="127.0.0.1")
    raw.sendall(riftproto.upgrade_request("127.0.0.1", tls_hub.port, riftproto.network_path("home"),
                                          riftproto.bearer(tls_hub.token)))
    response = b""
    while b"\r\n\r\n" not in response:
        response += raw.recv(4096)
    assert response.startswith(b"HTTP/1.1 101")
    started = time.monotonic()
    try:
        raw.sendall(raw_frame(0x1, b"{", final=False) + raw_frame(0x0, final=False) * 2_000)
    except OSError:
        pass
    assert closed_by_hub(raw, timeout=10) is not None
    assert time.monotonic() - started < 10
    assert joined(tls_hub, "still-served").welcome["network"] == "home"


def test_client_initiated_renegotiation_is_refused(tls_hub):
    """TLS 1.2 lets a client ask for a new handshake at any time, which costs the server a full handshake each time
    (a CPU-exhaustion lever, and the old CVE-2009-3555 class). TLS 1.3 has no renegotiation; over TLS 1.2 the hub
    (OpenSSL 3's default) must answer with a `no_renegotiation` alert, and keep serving."""
    request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    script = f"printf '{request}'; sleep 1; printf 'R\\n'; sleep 2"
    result = subprocess.run(f"({script}) | openssl s_client -connect 127.0.0.1:{tls_hub.port} -tls1_2",
                            shell=True, capture_output=True, text=True, timeout=30)
    output = result.stdout + result.stderr
    assert "Protocol  : TLSv1.2" in output, output[-2000:]
    assert "RENEGOTIATING" in output, "openssl s_client did not try to renegotiate"
    assert "no renegotiation" in output, f"the hub did not refuse the renegotiation: {output[-2000:]}"
    assert joined(tls_hub, "after-renegotiation").welcome["network"] == "home"


def test_the_hub_issues_no_session_tickets(tls_hub):
    """Agents never resume a TLS session, so the hub sends no TLS 1.3 NewSessionTicket after the handshake: no bytes
    or work per join for nothing, and no post-handshake message for a client that reads and writes one connection from
    two threads to trip over (Python's websockets sync client lost its upgrade request that way, about one join in a
    hundred on a loaded machine: the intermittent TLS failures of earlier CI runs)."""
    request = "GET /healthz HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n"
    result = subprocess.run(f"(printf '{request}'; sleep 1) | openssl s_client -connect 127.0.0.1:{tls_hub.port} -msg",
                            shell=True, capture_output=True, text=True, timeout=30)
    output = result.stdout + result.stderr
    assert "TLSv1.3" in output, output[-2000:]
    assert "HTTP/1.1 200" in output, output[-2000:]
    assert "NewSessionTicket" not in output, "the hub sent a TLS session ticket"
