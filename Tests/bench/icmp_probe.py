"""Sends an ICMP echo request every few milliseconds until the first reply; prints when it came.

Run inside a namespace (`ip netns exec NS python3 icmp_probe.py 100.64.0.3`). It prints `ready` once its socket is
open, then, at the first echo reply from the target, the CLOCK_MONOTONIC time of that reply in seconds (the same clock
as the driver's `time.monotonic()`: namespaces share it). Send errors (no route yet, WireGuard has no peer yet) are
expected while the tunnel comes up and are ignored. Exits 1 if no reply arrives before the timeout. Needs root.
"""
import argparse
import os
import select
import socket
import struct
import sys
import time


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(identifier: int, sequence: int) -> bytes:
    header = struct.pack("!BBHHH", 8, 0, 0, identifier, sequence)
    payload = b"riftgate-bench-probe"
    return struct.pack("!BBHHH", 8, 0, checksum(header + payload), identifier, sequence) + payload


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target")
    parser.add_argument("--interval", type=float, default=0.01)
    parser.add_argument("--timeout", type=float, default=60)
    options = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setblocking(False)
    identifier = os.getpid() & 0xFFFF
    print("ready", flush=True)
    deadline = time.monotonic() + options.timeout
    sequence = 0
    next_send = time.monotonic()
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_send:
            sequence = (sequence + 1) & 0xFFFF
            try:
                sock.sendto(echo_request(identifier, sequence), (options.target, 0))
            except OSError:
                pass  # no route or no WireGuard peer yet
            next_send = now + options.interval
        readable, _, _ = select.select([sock], [], [], max(0.0, next_send - time.monotonic()))
        if not readable:
            continue
        packet, (source, _) = sock.recvfrom(2048)
        received = time.monotonic()
        header_length = (packet[0] & 0x0F) * 4
        kind, _, _, reply_id, _ = struct.unpack_from("!BBHHH", packet, header_length)
        if kind == 0 and reply_id == identifier and source == options.target:
            print(f"{received:.6f}", flush=True)
            return 0
    print("timeout", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
