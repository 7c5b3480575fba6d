"""The hub load generator in several processes: one coordinator, K shard processes holding the agents.

One Python process spends about as much CPU on a join storm of 10,000 agents as the hub does (key exchange,
proofs, JSON), so with one process the storm measured the load generator as much as the hub. With `--processes K`
`hub_loadgen.py` becomes a coordinator that starts K copies of itself (`--shard I/K`), each holding whole networks
(contiguous blocks, so every relay pair stays inside one shard) and under the open-file limit on its own. The
coordinator tells all shards when to start each phase over their stdin and merges their answers (one JSON line each on
stdout): the storm's times are CLOCK_MONOTONIC, the same clock in every process, and latency samples are merged before
percentiles are taken. The load generator's CPU is the sum over the shards.

Shard commands (one line each): `storm`, `relay RATE SECONDS`, `rss`, `quit`.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from loadgen_relay import RelayMeasurement, hub_idle_figures, latency_summary, own_cpu, rate_steps
from procstats import ProcessSample, percentile


def log(text: str) -> None:
    print(f"[loadgen] {text}", file=sys.stderr, flush=True)


def shard_tokens(tokens: list[dict], agents: int, network_size: int, shard: int, shards: int) -> tuple[list[dict], int]:
    """The networks (and how many agents) of shard `shard` of `shards`: contiguous blocks of the networks in use."""
    networks = (agents + network_size - 1) // network_size
    first, last = networks * shard // shards, networks * (shard + 1) // shards
    count = min(agents, last * network_size) - first * network_size
    return tokens[first:last], count


# shard side ----------------------------------------------------------------------------------------------------------
async def run_shard(options, fleet, hub: ProcessSample, relay_ref: list) -> None:
    """Answers the coordinator's commands until `quit` (or the end of stdin). `relay_ref` holds the relay measurement
    the fleet's callbacks feed, once there is one."""
    loop = asyncio.get_running_loop()
    reply = lambda value: print(json.dumps(value), flush=True)  # noqa: E731
    reply({"event": "ready", "agents": len(fleet.agents)})
    relay: RelayMeasurement | None = None
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] == "storm":
            reply(await shard_storm(fleet, options.connect_concurrency, options.storm_timeout))
            relay = RelayMeasurement(fleet.agents)
            relay_ref[:] = [relay]
        elif words[0] == "relay":
            if relay is None:
                relay = RelayMeasurement(fleet.agents)
                relay_ref[:] = [relay]
            step = await relay.step(float(words[1]), float(words[2]), hub)
            step["latencies_ns"] = sorted(sample for samples in relay.latencies.values() for sample in samples)
            step["event"] = "relay"
            reply(step)
        elif words[0] == "rss":
            reply({"event": "rss", "rss_kib": ProcessSample(os.getpid()).sample().rss_kib, "peer_left": fleet.peer_left})
    fleet.close_all()
    await asyncio.sleep(0.5)


async def shard_storm(fleet, concurrency: int, timeout: float) -> dict:
    mine = own_cpu()
    timeline = await fleet.storm(concurrency, timeout)
    return {"event": "storm", **timeline, "converged_count": fleet.converged_count, "cpu_s": own_cpu() - mine,
            "pairs": len(RelayMeasurement(fleet.agents).pairs)}


# coordinator side ----------------------------------------------------------------------------------------------------
class Shards:
    """K shard processes of `hub_loadgen.py`, commanded together."""

    def __init__(self, processes: list[asyncio.subprocess.Process]):
        self.processes = processes

    @classmethod
    async def start(cls, argv: list[str], count: int) -> "Shards":
        processes = [await asyncio.create_subprocess_exec(
            sys.executable, *argv, "--shard", f"{index}/{count}", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, limit=64 << 20) for index in range(count)]
        shards = cls(processes)
        ready = await shards.read_all(600)
        log(f"{count} shard processes ready: {[answer['agents'] for answer in ready]} agents")
        return shards

    async def command(self, line: str, timeout: float) -> list[dict]:
        for process in self.processes:
            process.stdin.write((line + "\n").encode())
        await asyncio.gather(*(process.stdin.drain() for process in self.processes))
        return await self.read_all(timeout)

    async def read_all(self, timeout: float) -> list[dict]:
        async def one(process):
            line = await process.stdout.readline()
            if not line:
                raise RuntimeError(f"a shard process exited ({await process.wait()})")
            return json.loads(line)
        return await asyncio.wait_for(asyncio.gather(*(one(process) for process in self.processes)), timeout)

    async def stop(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.stdin.write(b"quit\n")
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except asyncio.TimeoutError:
                process.kill()


async def coordinated_storm(shards: Shards, hub: ProcessSample, agents: int, timeout: float) -> dict:
    before, mine = hub.sample(), own_cpu()
    answers = await shards.command("storm", timeout + 120)
    after = hub.sample()
    started = min(answer["started"] for answer in answers)
    welcomed = max(answer["welcomed"] for answer in answers)
    converged = None if any(answer["converged"] is None for answer in answers) else max(answer["converged"] for answer in answers)
    join_times = sorted(time_s for answer in answers for time_s in answer["join_times"])
    reasons: dict[str, int] = {}
    for answer in answers:
        for reason, count in answer["failure_reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + count
    failed = sum(answer["failed"] for answer in answers)
    joined = agents - failed
    milliseconds = lambda seconds: None if seconds is None else round(seconds * 1000, 2)  # noqa: E731
    return {
        "agents": agents, "joined": joined, "failed": failed, "failure_reasons": reasons,
        "all_welcomed_s": round(welcomed - started, 3),
        "converged_s": round(converged - started, 3) if converged else None,
        "agents_converged": sum(answer["converged_count"] for answer in answers),
        "join_latency_ms": {"p50": milliseconds(percentile(join_times, 50)), "p99": milliseconds(percentile(join_times, 99))},
        "joins_per_s": round(joined / max(1e-9, welcomed - started), 1),
        "hub_cpu_s": round(after.cpu - before.cpu, 2),
        "loadgen_cpu_s": round(sum(answer["cpu_s"] for answer in answers) + own_cpu() - mine, 2),
        "loadgen_cpu_s_per_process": [round(answer["cpu_s"], 2) for answer in answers],
        "loadgen_processes": len(answers),
        "relay_pairs": sum(answer["pairs"] for answer in answers),
    }


async def coordinated_relay_step(shards: Shards, hub: ProcessSample, rate: float, seconds: float) -> dict:
    share = rate / len(shards.processes)
    before = hub.sample()
    started = time.monotonic()
    answers = await shards.command(f"relay {share} {seconds}", seconds + 120)
    after = hub.sample()
    wall = time.monotonic() - started
    everything = sorted(sample for answer in answers for sample in answer["latencies_ns"])
    errors: dict[str, int] = {}
    for answer in answers:
        for code, count in answer["errors"].items():
            errors[code] = errors.get(code, 0) + count
    sent, delivered = sum(answer["sent"] for answer in answers), sum(answer["delivered"] for answer in answers)
    return {
        "offered_per_s": rate, "sent": sent, "delivered": delivered, "errors": errors,
        "delivered_per_s": round(sum(answer["delivered_per_s"] for answer in answers), 1),
        "latency_ms": latency_summary(everything),
        "hub_cpu_percent": round(100 * (after.cpu - before.cpu) / wall, 1),
        "loadgen_cpu_percent": round(sum(answer["loadgen_cpu_percent"] for answer in answers), 1),
        "loadgen_system_cpu_percent": round(sum(answer["loadgen_system_cpu_percent"] for answer in answers), 1),
        "loadgen_cpu_percent_per_process": [answer["loadgen_cpu_percent"] for answer in answers],
        "sending_connections": sum(answer["sending_connections"] for answer in answers),
    }


async def run_coordinator(options, argv: list[str]) -> dict:
    """The whole benchmark (storm, idle, relay steps) with the agents in `options.processes` shard processes."""
    hub = ProcessSample(options.hub_pid)
    started = time.monotonic()
    idle_before = hub.sample()
    shards = await Shards.start(argv, options.processes)
    try:
        await asyncio.sleep(1)
        log(f"hub before the storm: {idle_before.rss_kib} KiB resident")
        storm = await coordinated_storm(shards, hub, options.agents, options.storm_timeout)
        log(f"join storm: {storm}")
        result = {"agents": options.agents, "network_size": options.network_size,
                  "networks": (options.agents + options.network_size - 1) // options.network_size,
                  "hub_rss_before_kib": idle_before.rss_kib, "join_storm": storm, "loadgen_processes": options.processes}
        await asyncio.sleep(options.settle_seconds)
        idle = hub.sample()
        await asyncio.sleep(options.idle_seconds)
        idle_after = hub.sample()
        sizes = await shards.command("rss", 60)
        result["idle"] = hub_idle_figures(idle_before, idle, idle_after, storm["joined"],
                                      sum(answer["rss_kib"] for answer in sizes))
        log(f"idle: {result['idle']}")
        result["relay"] = await rate_steps(options.rates, storm["relay_pairs"],
                                           lambda rate: coordinated_relay_step(shards, hub, rate, options.step_seconds), log)
        result["peer_left_seen"] = sum(answer["peer_left"] for answer in await shards.command("rss", 60))
        result["hub_rss_end_kib"] = hub.sample().rss_kib
        result["duration_s"] = round(time.monotonic() - started, 1)
        return result
    finally:
        await shards.stop()
