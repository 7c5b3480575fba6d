"""UDP endpoints for checking what a lab router lets through and how it maps ports.

A `UdpEndpoint` is a small Python process inside a namespace that binds one UDP port, logs every datagram it receives
(source address, source port, payload) and sends datagrams from that same port on request, so a test can play both
sides of a NAT mapping: the inside host's outbound flow and an outside host's reply or unsolicited packet.
"""
from __future__ import annotations

import os
import subprocess

from lab import Host, wait_for

# Reads "ADDRESS PORT PAYLOAD" lines on stdin and sends PAYLOAD from the bound socket; prints "ADDRESS PORT PAYLOAD"
# for every datagram received. Exits when stdin closes.
SCRIPT = r"""
import selectors, socket, sys
sock = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
selector = selectors.DefaultSelector()
selector.register(sock, selectors.EVENT_READ)
selector.register(sys.stdin, selectors.EVENT_READ)
while True:
    for key, _ in selector.select():
        if key.fileobj is sock:
            data, (address, port, *_) = sock.recvfrom(2048)
            print(address, port, data.decode(errors="replace"), flush=True)
        else:
            line = sys.stdin.readline()
            if not line:
                sys.exit(0)
            address, port, payload = line.split(maxsplit=2)
            sock.sendto(payload.strip().encode(), (address, int(port)))
"""


class UdpEndpoint:
    """A UDP socket bound to `address:port` inside `host` (an IPv6 socket when `address` is IPv6, e.g. "::"); the
    lab stops it on close if the test does not."""

    def __init__(self, host: Host, port: int, log: str, address: str = "0.0.0.0"):
        self.host = host
        self.port = port
        self.log = log
        self.handle = open(log, "wb")
        self.process = subprocess.Popen(["ip", "netns", "exec", host.netns, "python3", "-c", SCRIPT, address, str(port)],
                                        stdin=subprocess.PIPE, stdout=self.handle, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        host.lab.processes.append((self.process, self.handle))
        wait_for(lambda: self._lines()[:1] == ["ready"], timeout=10, what=f"a UDP endpoint on {host.name}:{port}")

    def send(self, address: str, port: int, payload: str) -> None:
        """Sends one datagram (`payload` without spaces) from the bound port to `address:port`."""
        self.process.stdin.write(f"{address} {port} {payload}\n".encode())
        self.process.stdin.flush()

    def received(self) -> list[tuple[str, int, str]]:
        """Every datagram received so far: (source address, source port, payload)."""
        result = []
        for line in self._lines()[1:]:
            fields = line.split(maxsplit=2)
            if len(fields) == 3 and fields[1].isdigit():
                result.append((fields[0], int(fields[1]), fields[2]))
        return result

    def sources_of(self, payload: str) -> list[tuple[str, int]]:
        return [(address, port) for address, port, text in self.received() if text == payload]

    def wait_for(self, payload: str, timeout: float = 5) -> tuple[str, int]:
        """The source of the first datagram carrying `payload` (raises after `timeout`)."""
        return wait_for(lambda: (self.sources_of(payload) or [None])[0], timeout=timeout,
                        what=f"{payload!r} at {self.host.name}:{self.port}")

    def _lines(self) -> list[str]:
        return open(self.log, errors="replace").read().splitlines() if os.path.exists(self.log) else []
