"""A ping that runs in the background while a fault is injected, and what it saw: replies, losses, longest outage.

`ping -D -O -i <interval>` prints a Unix timestamp on every line and reports each request that got no answer before
the next one was due, so the longest stretch without replies measures how long traffic was cut.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass

from lab import Host

REPLY = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)")
MISSING = re.compile(r"^\[(\d+\.\d+)\] no answer yet for icmp_seq=(\d+)")


@dataclass
class PingSummary:
    """What a background ping saw."""
    sent: int
    received: int
    lost: int           # requests reported unanswered (not counting the one in flight when stopped)
    longest_gap: float  # seconds between consecutive replies (or start/stop and the nearest reply)
    lost_after_first_reply: int = 0  # of `lost`, the requests sent after the first one answered

    def __str__(self) -> str:
        return f"{self.received}/{self.sent} replies, {self.lost} lost, longest gap {self.longest_gap:.1f} s"


class Pinger:
    """`ping` from `host` to `target` every `interval` seconds until `stop()`."""

    def __init__(self, host: Host, target: str, log: str, interval: float = 0.2, in_flight: float = 0):
        """`in_flight`: requests reported unanswered less than that many seconds before `stop()` may still have been on
        their way (a slow path's round trip spans several intervals) and are not counted lost."""
        self.interval = interval
        self.in_flight = in_flight
        self.log = log
        self.started = time.time()
        self.handle = open(log, "wb")
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", host.netns, "ping", "-D", "-O", "-n", "-i", str(interval), "-W", "1", target],
            stdout=self.handle, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> PingSummary:
        """Stops the ping (SIGINT, so it prints its summary) and returns what it saw."""
        stopped = time.time()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.handle.close()
        replies: dict[int, float] = {}
        missing: dict[int, float] = {}
        sent = 0
        with open(self.log, errors="replace") as text:
            for line in text:
                match = REPLY.match(line)
                if match:
                    replies.setdefault(int(match.group(2)), float(match.group(1)))
                unanswered = MISSING.match(line)
                if unanswered:
                    missing.setdefault(int(unanswered.group(2)), float(unanswered.group(1)))
                transmitted = re.match(r"^(\d+) packets transmitted", line)
                if transmitted:
                    sent = int(transmitted.group(1))
        marks = [self.started] + sorted(replies.values()) + [stopped]
        gap = max(later - earlier for earlier, later in zip(marks, marks[1:]))
        unanswered = {seq for seq, reported in missing.items()
                      if seq not in replies and reported < stopped - self.in_flight}
        first = min(replies, default=None)
        return PingSummary(sent=max(sent, len(replies)), received=len(replies), lost=len(unanswered), longest_gap=gap,
                           lost_after_first_reply=sum(1 for seq in unanswered if first is not None and seq > first))
