"""The load generator's reconnect storm: every agent follows the agent's reconnect policy after the hub goes away.

`Backoff` mirrors `Sources/RiftAgent/Mesh/Backoff.swift` (integer milliseconds, step = initial × 2^failures capped,
delay drawn uniformly from the upper half of the step, reset after a welcome), and `POLICIES` the two steps the agent
has had: `new` is `HubLink.reconnectBackoff()` (500 ms up to a 4 s step), `old` the 30 s cap it replaced. One
`ReconnectStorm` supervises a joined fleet: when an agent's connection ends it waits `next_delay()`, tries once
(TCP connect, challenge, hello, welcome, all within `attempt_timeout` like the agent's 10 s connect timeout), and on a
failure waits again. Each attempt's start, TCP accept and welcome are timestamped (CLOCK_MONOTONIC, the same clock as
the orchestrator's), so the summary can be taken relative to the moment the restarted hub answered.
"""
from __future__ import annotations

import asyncio
import random
import time

from procstats import percentile
from wsclient import WebSocketConnection

POLICIES = {"new": (500, 4_000), "old": (500, 30_000)}


class Backoff:
    """Capped exponential backoff with upper-half jitter, exactly as the agent's `Backoff` computes it."""
    __slots__ = ("initial", "maximum", "attempts")

    def __init__(self, initial_ms: int, maximum_ms: int):
        self.initial, self.maximum, self.attempts = initial_ms, maximum_ms, 0

    def step(self) -> int:
        return min(self.initial << min(self.attempts, 20), self.maximum)

    def next_delay(self, generator: random.Random) -> int:
        step = self.step()
        self.attempts += 1
        return step // 2 + generator.randint(0, step - step // 2)

    def reset(self) -> None:
        self.attempts = 0


class ReconnectStorm:
    """Keeps every agent of `fleet` connected under `policy` and records when each one came back."""

    def __init__(self, fleet, policy: str, attempt_timeout: float = 10.0, seed: int | None = None):
        self.fleet, self.policy = fleet, policy
        self.initial_ms, self.maximum_ms = POLICIES[policy]
        self.attempt_timeout = attempt_timeout
        self.random = random.Random(seed)
        self.attempts: list[float] = []      # every attempt's start
        self.accepted: list[float] = []      # TCP connects completed (the kernel's handshake, before accept())
        self.lost_at: dict[int, float] = {}  # agent index -> first loss after `arm()`
        self.back_at: dict[int, float] = {}  # agent index -> first welcome after that loss
        self.served: list[float] = []        # that successful attempt: its start to the welcome, seconds
        self.failures: list[tuple[float, str]] = []  # (when, why) of every failed attempt
        self.everyone_back: asyncio.Future | None = None
        self.tasks: list[asyncio.Task] = []
        self.stopping = False

    def arm(self) -> None:
        """Starts one supervisor per welcomed agent (call after the join storm)."""
        self.everyone_back = asyncio.get_running_loop().create_future()
        self.tasks = [asyncio.create_task(self.supervise(agent)) for agent in self.fleet.agents if agent.phase == "member"]

    def stop(self) -> None:
        self.stopping = True
        for task in self.tasks:
            task.cancel()

    async def supervise(self, agent) -> None:
        backoff = Backoff(self.initial_ms, self.maximum_ms)
        while not self.stopping:
            await asyncio.shield(agent.connection.closed)  # the agent's `.lost`
            agent.phase = "lost"
            self.lost_at.setdefault(agent.index, time.monotonic())
            while not self.stopping:
                await asyncio.sleep(backoff.next_delay(self.random) / 1000)
                if await self.attempt(agent):
                    backoff.reset()
                    if agent.index not in self.back_at:
                        self.back_at[agent.index] = agent.welcomed_at
                        self.served.append(agent.welcomed_at - agent.started)
                        if len(self.back_at) == len(self.tasks) and not self.everyone_back.done():
                            self.everyone_back.set_result(time.monotonic())
                    break

    async def attempt(self, agent) -> bool:
        """One connect up to the welcome; False (after closing what was opened) on any failure."""
        loop = asyncio.get_running_loop()
        fleet = self.fleet
        agent.phase, agent.known, agent.error = "challenge", set(), None
        agent.joined = loop.create_future()
        started = agent.started = time.monotonic()
        self.attempts.append(started)
        connection = None
        try:
            _, connection = await asyncio.wait_for(loop.create_connection(
                lambda: WebSocketConnection(fleet.request(agent.network, agent.token), fleet.on_message, agent),
                fleet.host, fleet.port), self.attempt_timeout)
            self.accepted.append(time.monotonic())
            agent.connection = connection
            remaining = self.attempt_timeout - (time.monotonic() - started)
            done, _ = await asyncio.wait({agent.joined, connection.closed}, timeout=max(0.0, remaining),
                                         return_when=asyncio.FIRST_COMPLETED)
            if agent.joined in done and agent.joined.exception() is None:
                return True
            reason = "closed before the welcome" if connection.closed in done else "timeout"
            if agent.joined.done() and agent.joined.exception() is not None:
                reason = agent.error or "refused"
        except asyncio.TimeoutError:
            reason = "connect timeout"
        except OSError as error:
            reason = type(error).__name__
        self.failures.append((time.monotonic(), reason))
        agent.phase = "failed"
        if connection is not None:
            if connection.opened.done() and not connection.opened.cancelled():
                connection.opened.exception()  # seen: no 'Future exception was never retrieved' at exit
            connection.close()
        return False

    # summary -----------------------------------------------------------------------------------------------------------
    def summary(self, killed_at: float, answered_at: float, bin_ms: int = 250, window_s: float = 5.0) -> dict:
        """Everything relative to `answered_at` (the restarted hub's listening line)."""
        delays = sorted(back - answered_at for back in self.back_at.values())
        served = sorted(self.served)
        first_accept = min((t for t in self.accepted if t >= answered_at - 0.5), default=None)
        bins = int(window_s * 1000 // bin_ms)
        accepted_bins, welcomed_bins = [0] * bins, [0] * bins
        for moment in self.accepted:
            slot = int((moment - answered_at) * 1000 // bin_ms)
            if 0 <= slot < bins:
                accepted_bins[slot] += 1
        for moment in self.back_at.values():
            slot = int((moment - answered_at) * 1000 // bin_ms)
            if 0 <= slot < bins:
                welcomed_bins[slot] += 1
        outage = max(1e-9, answered_at - killed_at)
        refused = sum(1 for t in self.attempts if killed_at <= t < answered_at)

        def by_reason(after: bool) -> dict[str, int]:
            counts: dict[str, int] = {}
            for moment, reason in self.failures:
                if (moment >= answered_at) == after:
                    counts[reason] = counts.get(reason, 0) + 1
            return counts

        def ms(value):
            return None if value is None else round(value * 1000, 1)
        return {
            "policy": self.policy, "backoff_ms": {"initial": self.initial_ms, "maximum_step": self.maximum_ms},
            "agents": len(self.tasks), "lost": len(self.lost_at), "back": len(self.back_at),
            "not_back": len(self.tasks) - len(self.back_at),
            "outage_s": round(outage, 2),
            "first_accept_after_listening_ms": ms(None if first_accept is None else first_accept - answered_at),
            "last_welcome_after_listening_s": round(delays[-1], 3) if delays else None,
            "reconnect_delay_ms": {p: ms(percentile(delays, q)) for p, q in
                                   (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))},
            "back_within_5s": sum(1 for delay in delays if delay <= 5.0),
            "successful_attempt_ms": {p: ms(percentile(served, q)) for p, q in
                                      (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))},
            "attempts_during_outage_per_s": round(refused / outage, 1),
            "attempts_total": len(self.attempts),
            "failed_attempts_during_outage": by_reason(False), "failed_attempts_after_restart": by_reason(True),
            "bin_ms": bin_ms,
            "accepted_per_bin": accepted_bins, "welcomed_per_bin": welcomed_bins,
            "accepted_per_s_first_5s": round(sum(accepted_bins) / window_s, 1),
            "peak_accepted_per_s": round(max(accepted_bins, default=0) * 1000 / bin_ms, 1),
        }

