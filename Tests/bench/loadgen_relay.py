"""The load generator's relay measurement: offers and candidates at a fixed offered rate, latency per delivery.

Messages go open-loop (the send schedule does not wait for deliveries) from agent 2k to agent 2k+1 of each network,
round-robin over all pairs, kinds in the ratio 1 offer : 3 candidates. Sealed boxes are random bytes sized like the
protocol vectors (the hub forwards them without opening them); the 24-byte nonce carries the send time
(CLOCK_MONOTONIC ns) and a sequence number, so each delivery is one latency sample.
"""
from __future__ import annotations

import asyncio
import base64
import os
import random
import resource
import struct
import time

import riftproto
from hub_passes import summary_line
from procstats import ProcessSample, percentile, runqueue_wait_s

# Sizes of real sealed boxes (Protocol/vectors/sealed): an offer with two candidates, one trickled candidate.
SEALED_BYTES = {"offer": 494, "candidate": 285}
KIND_CYCLE = ("offer", "candidate", "candidate", "candidate")
SLOW_NS = 5_000_000  # deliveries slower than this are kept with their receive time, to see whether the tail is bursts


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def own_system_cpu() -> float:
    """The kernel's share of `own_cpu` (system calls; on loopback also the TCP receive path they run)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def hub_idle_figures(before, idle, idle_after, joined: int, loadgen_rss_kib: int) -> dict:
    """The hub's idle figures from three samples of it: before the join storm, once it settled, and one idle window
    later; memory per agent counts the `joined` agents."""
    return {
        "hub_rss_kib": idle.rss_kib,
        "hub_rss_delta_kib": idle.rss_kib - before.rss_kib,
        "hub_kib_per_agent": round((idle.rss_kib - before.rss_kib) / max(1, joined), 2),
        "hub_cpu_percent": round(100 * (idle_after.cpu - idle.cpu) / (idle_after.time - idle.time), 2),
        "window_s": round(idle_after.time - idle.time, 1),
        "loadgen_rss_kib": loadgen_rss_kib,
    }


async def rate_steps(rates, senders: int, run_step, log) -> list[dict]:
    """Runs `run_step(rate)` for each offered rate in turn: skips a rate that would push a sender past the hub's
    100 msg/s per-connection limit, logs each step, and stops once the hub saturates (under 95 % delivered, or p99 over
    250 ms). Returns the steps run."""
    steps = []
    for rate in rates:
        if rate / max(1, senders) > 90:
            log(f"skipping {rate}/s: {senders} senders would exceed the hub's 100 msg/s per-connection limit")
            continue
        step = await run_step(rate)
        log(f"relay {rate}/s: {step['delivered_per_s']}/s delivered, latency {step['latency_ms']}, "
            f"hub {step['hub_cpu_percent']}% loadgen {step['loadgen_cpu_percent']}% "
            f"(kernel {step['loadgen_system_cpu_percent']}%)" + diagnostics(step))
        steps.append(step)
        if step["delivered"] < 0.95 * step["sent"] or (step["latency_ms"]["p99"] or 0) > 250:
            log("hub saturated: stopping the rate steps")
            break
    return steps


def diagnostics(step: dict) -> str:
    """The run-queue waits and slow-delivery windows of a step, and the hub's service-loop figures when read
    (`hub_passes.py`), for the log (a sharded step has no windows)."""
    loop = summary_line(step["hub_loop"]) if "hub_loop" in step else ""
    if "over_5ms" not in step:
        return loop
    slow = step["over_5ms"]
    return (f", run-queue waits hub {step['hub_runqueue_wait_ms']} ms loadgen {step['loadgen_runqueue_wait_ms']} ms, "
            f"over 5 ms: {slow['count']} in {slow['windows_10ms']} 10-ms windows at {slow['windows_at_ms'][:30]}" + loop)


def latency_summary(sorted_ns: list[int]) -> dict:
    def at(p):
        value = percentile(sorted_ns, p)
        return None if value is None else round(value / 1e6, 3)
    return {"count": len(sorted_ns), "p50": at(50), "p90": at(90), "p99": at(99), "p99.9": at(99.9), "max": at(100)}


def runqueue_waits(hub) -> tuple[float, float]:
    """(hub, this process) seconds waited for a CPU so far; `hub` is a `ProcessSample` or has `pids` (several hubs,
    summed)."""
    return sum(runqueue_wait_s(pid) for pid in getattr(hub, "pids", None) or [hub.pid]), runqueue_wait_s(os.getpid())


class RelayMeasurement:
    """Sends at fixed rates over the fleet's pairs and records what the fleet hands back (`record`, `record_error`)."""

    def __init__(self, agents):
        self.pairs = self._pairs(agents)
        self.latencies: dict[str, list[int]] = {kind: [] for kind in SEALED_BYTES}
        self.received = 0
        self.errors: dict[str, int] = {}
        self.slow: list[tuple[int, int]] = []  # (received ns, latency ns) over SLOW_NS

    @staticmethod
    def _pairs(agents) -> list:
        """(sender, {kind: (prefix, suffix)}) for agent 2k -> 2k+1 of each network, both already welcomed."""
        boxes = {kind: base64.b64encode(os.urandom(size)).decode() for kind, size in SEALED_BYTES.items()}
        by_network: dict[str, list] = {}
        for agent in agents:
            by_network.setdefault(agent.network, []).append(agent)
        pairs = []
        for members in by_network.values():
            for sender, recipient in zip(members[0::2], members[1::2]):
                if sender.phase != "member" or recipient.phase != "member":
                    continue
                templates = {kind: riftproto.signal_template(kind, recipient.public_key, boxes[kind])
                             for kind in SEALED_BYTES}
                pairs.append((sender, templates))
        random.Random(1).shuffle(pairs)
        return pairs

    def record(self, kind: str, nonce_base64: bytes, received_ns: int) -> None:
        sent = struct.unpack_from("<Q", base64.b64decode(nonce_base64))[0]
        self.latencies.setdefault(kind, []).append(received_ns - sent)
        if received_ns - sent > SLOW_NS:
            self.slow.append((received_ns, received_ns - sent))
        self.received += 1

    def record_error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1

    async def step(self, rate: float, seconds: float, hub: ProcessSample) -> dict:
        """`rate` messages/s for `seconds`, then up to 3 s for stragglers; latency and CPU of hub and generator."""
        for samples in self.latencies.values():
            samples.clear()
        self.received, self.errors, self.slow = 0, {}, []
        waits = runqueue_waits(hub)
        before, mine, kernel = hub.sample(), own_cpu(), own_system_cpu()
        started = time.monotonic()
        sent = cursor = 0
        pairs, count = self.pairs, len(self.pairs)
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(rate * elapsed) - sent
            for _ in range(max(0, due)):
                sender, templates = pairs[cursor]
                cursor = cursor + 1 if cursor + 1 < count else 0
                prefix, suffix = templates[KIND_CYCLE[sent & 3]]
                sent += 1
                sender.connection.send_text(prefix + base64.b64encode(struct.pack("<QQQ", time.monotonic_ns(), sent, 0))
                                            + suffix)
            await asyncio.sleep(0.001)
        window = time.monotonic() - started
        deadline = time.monotonic() + 3
        while self.received + sum(self.errors.values()) < sent and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        after, mine_after, kernel_after = hub.sample(), own_cpu(), own_system_cpu()
        return self.summary(rate, sent, window, time.monotonic() - started, before, after, mine_after - mine,
                            kernel_after - kernel, (waits, runqueue_waits(hub)))

    def summary(self, rate: float, sent: int, window: float, wall: float, before, after, loadgen_cpu: float,
                loadgen_system_cpu: float, waits) -> dict:
        """One step's figures: `window` is the sending time, `wall` includes the wait for stragglers; `before` and
        `after` are the hub's samples, `loadgen_cpu` the generator's CPU seconds over `wall` (`loadgen_system_cpu` of
        them in the kernel); `waits` is `runqueue_waits` at the start and at the end. Diagnostics: how long hub and
        generator waited for a CPU, and in how many 10 ms windows (by receive time) the deliveries over 5 ms arrived."""
        windows = sorted({received // 10_000_000 for received, _ in self.slow})
        everything = sorted(sample for samples in self.latencies.values() for sample in samples)
        return {
            "offered_per_s": rate, "sent": sent, "delivered": self.received, "errors": dict(self.errors),
            "delivered_per_s": round(self.received / window, 1),
            "latency_ms": latency_summary(everything),
            "by_kind": {kind: latency_summary(sorted(samples)) for kind, samples in self.latencies.items()},
            "hub_cpu_percent": round(100 * (after.cpu - before.cpu) / wall, 1),
            "loadgen_cpu_percent": round(100 * loadgen_cpu / wall, 1),
            "loadgen_system_cpu_percent": round(100 * loadgen_system_cpu / wall, 1),
            "sending_connections": min(len(self.pairs), sent),
            "hub_runqueue_wait_ms": round(1000 * (waits[1][0] - waits[0][0]), 1),
            "loadgen_runqueue_wait_ms": round(1000 * (waits[1][1] - waits[0][1]), 1),
            "over_5ms": {"count": len(self.slow), "windows_10ms": len(windows),
                         "span_ms": round(10 * (windows[-1] - windows[0] + 1)) if windows else 0,
                         "windows_at_ms": [10 * (window - windows[0]) for window in windows[:50]]},
        }
