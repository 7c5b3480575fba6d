"""Holds every packet an NFQUEUE rule (`iptables -j NFQUEUE`) hands it for a fixed delay (plus random jitter), then lets it go on: the
delay `netem` would add, on a kernel that has no `netem` but has NFQUEUE.

Run inside a router's namespace (netlink is per namespace): `python3 delay_queue.py --queue 7 --delay-ms 100
--jitter-ms 10`. It speaks the nfnetlink_queue protocol directly (no libnetfilter_queue): binds the queue, asks for
the packets' metadata only, and answers each with NF_ACCEPT once its time is due. With jitter the verdicts, and so
the packets, may leave out of order, as with netem's jitter. Prints "ready" once bound, then one line per second
with the packets held and released. Stops on SIGTERM.
"""
import argparse
import errno
import heapq
import os
import random
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN = 1, 2, 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NF_ACCEPT = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NLMSG_HEADER = struct.Struct("=IHHII")


def attribute(kind: int, payload: bytes) -> bytes:
    """One netlink attribute, padded to four bytes."""
    data = struct.pack("=HH", 4 + len(payload), kind) + payload
    return data + b"\0" * (-len(data) % 4)


class Queue:
    """A bound nfnetlink queue: packets in, verdicts out."""

    def __init__(self, number: int):
        self.number = number
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((0, 0))
        self.sequence = 0
        self.request(NFQNL_MSG_CONFIG, attribute(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, 0)))
        self.request(NFQNL_MSG_CONFIG, attribute(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META)))
        self.request(NFQNL_MSG_CONFIG, attribute(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 65536)))

    def message(self, kind: int, body: bytes, flags: int) -> bytes:
        self.sequence += 1
        payload = struct.pack("!BBH", socket.AF_UNSPEC, 0, self.number) + body
        return NLMSG_HEADER.pack(NLMSG_HEADER.size + len(payload), (NFNL_SUBSYS_QUEUE << 8) | kind, flags,
                                 self.sequence, 0) + payload

    def request(self, kind: int, body: bytes) -> None:
        """Sends a configuration message and fails loudly if the kernel refuses it."""
        self.sock.send(self.message(kind, body, NLM_F_REQUEST | NLM_F_ACK))
        reply = self.sock.recv(65536)
        length, kind_, _, _, _ = NLMSG_HEADER.unpack_from(reply)
        if kind_ == NLMSG_ERROR:
            (error,) = struct.unpack_from("=i", reply, NLMSG_HEADER.size)
            if error:
                raise OSError(-error, f"nfnetlink_queue refused the configuration: {os.strerror(-error)}")

    def accept(self, packet_id: int) -> None:
        # NLM_F_REQUEST is needed: without it the kernel ignores the verdict and the packet stays queued.
        self.sock.send(self.message(NFQNL_MSG_VERDICT, attribute(NFQA_VERDICT_HDR,
                                                                  struct.pack("!II", NF_ACCEPT, packet_id)), NLM_F_REQUEST))

    def packet_ids(self) -> list[int]:
        """The ids of the packets one receive brought (a netlink datagram may carry several messages)."""
        data = self.sock.recv(1 << 20)
        ids, offset = [], 0
        while offset + NLMSG_HEADER.size <= len(data):
            length, kind, _, _, _ = NLMSG_HEADER.unpack_from(data, offset)
            if length < NLMSG_HEADER.size:
                break
            if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                position, end = offset + NLMSG_HEADER.size + 4, offset + length
                while position + 4 <= end:
                    size, attr = struct.unpack_from("=HH", data, position)
                    if size < 4:
                        break
                    if attr & 0x7FFF == NFQA_PACKET_HDR:
                        ids.append(struct.unpack_from("!I", data, position + 4)[0])
                    position += (size + 3) & ~3
            offset += (length + 3) & ~3
        return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    options = parser.parse_args()
    queue = Queue(options.queue)
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    print("ready", flush=True)
    held: list[tuple[float, int]] = []
    released, report = 0, time.monotonic() + 1
    while running[0]:
        now = time.monotonic()
        timeout = max(0.0, min(held[0][0] - now if held else 0.2, 0.2))
        readable, _, _ = select.select([queue.sock], [], [], timeout)
        now = time.monotonic()
        if readable:
            try:
                arrived = queue.packet_ids()
            except OSError as error:  # ENOBUFS: the kernel dropped messages for us (a burst); those packets are lost
                if error.errno != errno.ENOBUFS:
                    raise
                arrived = []
            for packet_id in arrived:
                delay = options.delay_ms + random.uniform(-options.jitter_ms, options.jitter_ms)
                heapq.heappush(held, (now + max(0.0, delay) / 1000, packet_id))
        while held and held[0][0] <= now:
            queue.accept(heapq.heappop(held)[1])
            released += 1
        if now >= report:
            print(f"held {len(held)} released {released}", flush=True)
            report = now + 1
    for _, packet_id in held:  # let nothing be lost to the stop
        queue.accept(packet_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
