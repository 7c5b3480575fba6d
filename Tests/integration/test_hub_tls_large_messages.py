"""Messages near the hub's size limit over `wss://`, each arriving as several TLS records of up to 16 KiB.

The hub reads a connection 2 KiB at a time (`receiveBufferBytes`), so most of a record is already decrypted in
OpenSSL's buffer, where no socket event will announce it, when lws returns from a read. While later records are still
in the kernel, epoll keeps reporting the socket; the message's last record is the one at risk, so the sizes below leave
it nearly full. lws must go on reading it without waiting for the network: on lws' own poll() loop it fakes POLLIN
for such connections before every poll; on the libev loop a WebSocket read loops while `SSL_pending` says more is
buffered, and an idle watcher covers the rest. If both miss it, the rest of the message waits for the next unrelated
event, which on an idle hub is the next heartbeat, seconds away. Hence: an otherwise idle hub, and a bound well under
a heartbeat interval on every message. (Checked to fail, on both loops, with the hub's `SSL_pending` forced to 0.)
"""
import time

import riftproto
from rgclient import sealed_blob
from test_hub_tls_hostile import joined, tls_hub  # noqa: F401 (fixture)
from test_hub_transport import certificate  # noqa: F401 (fixture)

LARGEST_FRAME = 65_536  # Limits.maximumFrameBytes: one byte more is refused with frame_too_large
RECORD = 16_384  # the largest TLS record's plaintext
FRAME_HEADER = 2 + 2 + 4  # a client text frame of 126 to 65,535 bytes: opcode, 16-bit length, mask key
LARGEST_BOX = 32_768  # Limits.maximumSealedBytes
PROMPT = 2.0  # seconds; the hub's heartbeat runs every 20 s by default


def padded_offer(to, size, seed):
    """An offer of exactly `size` bytes of text: the largest sealed box that fits (at most the protocol's), padded with
    JSON whitespace; and the box the recipient must get."""
    overhead = len(riftproto.encode(riftproto.signal("offer", to, sealed_blob(seed=seed, size=0))))
    box = sealed_blob(seed=seed, size=min(LARGEST_BOX, (size - overhead) // 4 * 3))
    text = riftproto.encode(riftproto.signal("offer", to, box)).decode()
    assert len(text) <= size, f"the offer alone is {len(text)} bytes"
    return text[:-1] + " " * (size - len(text)) + "}", box


def relay_times(sender, recipient, sizes, first_seed=1):
    """Sends one padded offer of each size back to back; returns the seconds from the first send to each arrival."""
    boxes = []
    started = time.monotonic()
    for index, size in enumerate(sizes):
        text, box = padded_offer(recipient.public_key, size, seed=first_seed + index)
        sender.ws.send(text)
        boxes.append(box)
    arrivals = []
    for index, box in enumerate(boxes):
        remaining = started + PROMPT * (1 + index / 4) - time.monotonic()
        message = recipient.expect("offer", timeout=max(0.01, remaining), skip=("peer_joined",))
        arrivals.append(time.monotonic() - started)
        assert message["from"] == sender.public_key
        assert message["sealed"] == box, f"offer {index} arrived altered"
    return arrivals


def test_a_message_of_several_tls_records_arrives_promptly_on_an_idle_hub(tls_hub):  # noqa: F811
    a, b = joined(tls_hub, "a"), joined(tls_hub, "b")
    b.assert_silent(0.3)
    # 1 to 4 TLS records, the last one nearly full (400 bytes short), then the largest frame accepted.
    for size in [records * RECORD - 400 - FRAME_HEADER for records in (1, 2, 3, 4)] + [LARGEST_FRAME]:
        time.sleep(0.5)  # an idle hub: nothing else will wake it
        elapsed = relay_times(a, b, [size], first_seed=size % 251)[0]
        print(f"{size}-byte offer over wss:// relayed in {elapsed * 1000:.1f} ms")
        assert elapsed < PROMPT


def test_a_burst_of_the_largest_messages_arrives_promptly_and_in_order(tls_hub):  # noqa: F811
    a, b = joined(tls_hub, "a"), joined(tls_hub, "b")
    b.assert_silent(0.3)
    size = 4 * RECORD - 400 - FRAME_HEADER
    arrivals = relay_times(a, b, [size] * 12)
    print(f"12 offers of {size} bytes over wss:// relayed in {arrivals[-1] * 1000:.1f} ms")
    # Both directions at once: b answers a's burst with its own while a sends again.
    for round_ in range(3):
        text, _ = padded_offer(a.public_key, size, seed=100 + round_)
        b.ws.send(text)
        relay_times(a, b, [size] * 4, first_seed=10 * round_)
        message = a.expect("offer", timeout=PROMPT, skip=("peer_joined",))
        assert message["from"] == b.public_key
    a.assert_silent(0.2)
