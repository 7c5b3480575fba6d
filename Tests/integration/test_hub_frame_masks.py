"""RFC 6455 §5.1: the hub closes a client that sends an unmasked frame with 1002 (protocol error), over ws:// and wss://.

libwebsockets 4.1 does not check the mask bit; the hub's executable follows the bytes lws reads (CRiftFrameGuard). These
tests check both sides of that: unmasked frames (a ping, a text message after hello) are refused before the hub acts on
them, and masked input of every shape (split byte by byte across reads and TLS records, fragmented, 16- and 64-bit
lengths, keep-alive HTTP before the upgrade) is never mistaken for it.
"""
import socket
import time

import nacl.public
import pytest
import riftproto
from rgclient import Agent, RawWebSocket, sealed_blob
from test_hub_robustness import closed_with
from test_hub_tls_hostile import tls_hub  # noqa: F401 (fixture)
from test_hub_transport import certificate  # noqa: F401 (fixture)


@pytest.fixture(params=["ws", "wss"])
def any_hub(request):
    """The plain hub (`hub`, 1 s heartbeats) and the TLS one (`tls_hub`)."""
    return request.getfixturevalue("hub" if request.param == "ws" else "tls_hub")


def joined(hub, name, network="home", token=None):
    agent = Agent(hub, network, token or hub.token, name=name)
    agent.welcome = agent.join()
    return agent


def raw_client(hub, network="home", token=None, sock=None):
    return RawWebSocket(hub.port, riftproto.network_path(network), riftproto.bearer(token or hub.token),
                        ssl_context=hub.ssl_context, sock=sock)


def unmasked_frame(opcode, payload):
    assert len(payload) < 126
    return bytes([0x80 | opcode, len(payload)]) + payload


def send_slowly(sock, data, piece=1, pause=0.001):
    """Writes `data` in pieces of `piece` bytes, each its own TCP segment (and TLS record), so the hub reads it in
    many reads."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for start in range(0, len(data), piece):
        sock.sendall(data[start:start + piece])
        time.sleep(pause)


def test_an_unmasked_ping_over_tls_is_closed_with_protocol_error(tls_hub):  # noqa: F811
    """As test_hub_robustness.py's test over ws://: the bytes come through SSL_read instead of recv."""
    raw = raw_client(tls_hub)
    raw.recv_text()  # the challenge
    raw.sock.sendall(unmasked_frame(riftproto.OP_PING, b"ping"))
    assert closed_with(raw, timeout=3.0) == 1002
    raw.close()


def test_an_unmasked_message_after_hello_is_closed_and_never_relayed(any_hub):
    """The bystander in another network is served throughout; the offender's offer never reaches its recipient."""
    any_hub.create_network("work")
    _, work_token = any_hub.create_token("work")
    x, y = joined(any_hub, "x", "work", work_token), joined(any_hub, "y", "work", work_token)
    b = joined(any_hub, "b")
    raw = raw_client(any_hub)
    assert raw.join(nacl.public.PrivateKey.generate(), "home", "offender")["type"] == "welcome"
    offer = riftproto.encode(riftproto.signal("offer", b.public_key, sealed_blob()))
    assert len(offer) > 125
    # A 16-bit length, mask bit clear: the shape a sloppy client would send.
    raw.sock.sendall(bytes([0x81, 126]) + len(offer).to_bytes(2, "big") + offer)
    x.signal("offer", y.public_key)
    assert y.expect("offer", skip=("peer_joined",))["from"] == x.public_key
    assert closed_with(raw, timeout=3.0) == 1002
    raw.close()
    assert b.expect("peer_left", skip=("peer_joined",))  # the offender left; its offer never came before it
    b.assert_silent(0.3)


def padded_offer(to, size):
    """An offer of exactly `size` bytes (JSON whitespace pads it)."""
    text = riftproto.encode(riftproto.signal("offer", to, sealed_blob(size=min(30_000, size // 2))))
    assert len(text) <= size
    return text[:-1] + b" " * (size - len(text)) + b"}"


def test_masked_frames_of_every_shape_are_never_refused(any_hub):
    """Split byte by byte, fragmented, 7-, 16- and 64-bit lengths (65,536 bytes: the largest message), a ping between
    fragments: none is taken for an unmasked frame, and the connection stays open both ways."""
    b = joined(any_hub, "b")
    key = nacl.public.PrivateKey.generate()
    raw = raw_client(any_hub)
    assert raw.join(key, "home", "masked")["type"] == "welcome"
    assert b.expect("peer_joined")
    small = riftproto.encode(riftproto.signal("offer", b.public_key, sealed_blob(seed=1)))
    medium = padded_offer(b.public_key, 1_000)
    largest = padded_offer(b.public_key, 65_536)
    send_slowly(raw.sock, riftproto.masked_frame(riftproto.OP_TEXT, small))
    # In pieces of 9 bytes: each read is a piece of the message, and more than 256 pieces close with 1008.
    send_slowly(raw.sock, riftproto.masked_frame(riftproto.OP_TEXT, medium), piece=9)
    fragmented = (riftproto.masked_frame(riftproto.OP_TEXT, medium[:10], final=False)
                  + riftproto.masked_frame(riftproto.OP_PING, b"between")
                  + riftproto.masked_frame(riftproto.OP_CONTINUATION, medium[10:500], final=False)
                  + riftproto.masked_frame(riftproto.OP_CONTINUATION, medium[500:]))
    send_slowly(raw.sock, fragmented, piece=7)
    raw.sock.sendall(riftproto.masked_frame(riftproto.OP_TEXT, largest))
    raw.sock.sendall(riftproto.masked_frame(riftproto.OP_TEXT, small) * 20)
    for _ in range(4 + 20):
        assert b.expect("offer", timeout=10)["from"] == riftproto.b64(bytes(key.public_key))
    b.signal("answer", riftproto.b64(bytes(key.public_key)))
    while (message := raw.recv_text())["type"] != "answer":
        assert message["type"] != "error", message
    assert message["from"] == b.public_key
    raw.close()


def test_keep_alive_requests_before_the_upgrade_are_not_frames(any_hub):
    """/healthz twice on one connection, then the upgrade on the same connection: the HTTP requests are not parsed as
    frames, the frames after the upgrade are."""
    sock = socket.create_connection(("127.0.0.1", any_hub.port), timeout=5)
    if any_hub.ssl_context is not None:
        sock = any_hub.ssl_context.wrap_socket(sock, server_hostname="127.0.0.1")
    for _ in range(2):
        send_slowly(sock, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", piece=5)
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(4096)
            assert chunk, "the hub closed the keep-alive connection"
            response += chunk
        head, body = response.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200"), head
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
        while len(body) < length:
            body += sock.recv(4096)
    raw = raw_client(any_hub, sock=sock)
    key = nacl.public.PrivateKey.generate()
    assert raw.join(key, "home", "kept-alive")["type"] == "welcome"
    raw.send_frame(riftproto.OP_PING, b"still")
    raw.sock.sendall(unmasked_frame(riftproto.OP_PING, b"now"))
    assert closed_with(raw, timeout=3.0) == 1002
    raw.close()
