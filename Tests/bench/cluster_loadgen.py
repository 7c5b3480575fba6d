"""Hub-cluster load generator: one of several processes, each holding the agents of whole networks, spread over the
hubs of a cluster on one host. Driven by `cluster_bench.py`; the agents, the join storm and the relay measurement are
the single-hub load generator's (`loadgen_agents.py`, `hub_loadgen.join_storm`, `loadgen_relay.py`).

Placement (`--placement`) of member m of network j (j counted across all processes, so processes agree):
- `spread`: hub (j + m) mod H — every network spans the hubs (the capacity run);
- `relay`: even networks are *same-hub* networks, all members on hub (j/2) mod H; odd networks are *cross-hub*
  networks, member m on hub (j/2 + m) mod H, so sender 2k and recipient 2k+1 are always on different hubs. Each hub
  sends and receives the same share of signals in both kinds.

Protocol on stdin/stdout, one JSON object per stdout line (progress on stderr):
  -> {"event": "ready", "agents": N}                      keys generated, the hubs' challenge key fetched
  <- storm                                                 join every agent at once
  -> {"event": "storm", ...join_storm figures...}
  <- leave                                                 close every connection (a later storm rejoins, same keys)
  -> {"event": "left"}
  <- relay same|cross RATE SECONDS                         one open-loop relay step over that kind of pairs
  -> {"event": "relay", "kind": ..., ...step figures...}
  <- quit                                                  close every connection, exit
Never asserts a figure.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "protoclient"))

from hub_loadgen import join_storm  # noqa: E402
from loadgen_agents import AgentFleet  # noqa: E402
from loadgen_relay import RelayMeasurement  # noqa: E402
from procstats import Sample, ProcessSample  # noqa: E402


def log(text: str) -> None:
    print(f"[cluster-loadgen {os.getpid()}] {text}", file=sys.stderr, flush=True)


def emit(event: dict) -> None:
    print(json.dumps(event), flush=True)


class HubsSample:
    """The hubs together, as one `ProcessSample` (CPU summed, RSS summed) for the measurements that take one."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.samples = [ProcessSample(pid) for pid in pids]

    def sample(self) -> Sample:
        parts = [sample.sample() for sample in self.samples]
        return Sample(time.monotonic(), sum(part.rss_kib for part in parts), sum(part.cpu for part in parts))


def hub_index(placement: str, network: int, member: int, hubs: int) -> int:
    if placement == "spread":
        return (network + member) % hubs
    base = network // 2
    return base % hubs if network % 2 == 0 else (base + member) % hubs


def network_kind(placement: str, network: int) -> str:
    return "same" if placement == "relay" and network % 2 == 0 else "cross"


async def run(options, tokens: list[dict]) -> None:
    ports = [int(port) for port in options.hub_ports.split(",")]
    global_index = {entry["network"]: options.first_network + offset for offset, entry in enumerate(tokens)}
    members: dict[str, int] = {}
    placed: dict[int, int] = {}
    measurement: RelayMeasurement | None = None

    def port_of(agent) -> int:
        return ports[placed[agent.index]]

    fleet = AgentFleet("127.0.0.1", ports[0], port_of=port_of,
                       on_signal=lambda *args: measurement and measurement.record(*args),
                       on_error=lambda code: measurement and measurement.record_error(code))
    fleet.populate(tokens, options.agents, options.network_size)
    for agent in fleet.agents:
        member = members.get(agent.network, 0)
        members[agent.network] = member + 1
        placed[agent.index] = hub_index(options.placement, global_index[agent.network], member, len(ports))
    await fleet.fetch_hub_key()
    hubs = HubsSample([int(pid) for pid in options.hub_pids.split(",")])
    by_kind = {kind: [agent for agent in fleet.agents if network_kind(options.placement, global_index[agent.network]) == kind]
               for kind in ("same", "cross")}
    emit({"event": "ready", "agents": len(fleet.agents),
          "per_hub": [sum(1 for hub in placed.values() if hub == index) for index in range(len(ports))]})
    loop = asyncio.get_running_loop()
    measurements: dict[str, RelayMeasurement] = {}
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] == "leave":
            # Every agent disconnects; a later `storm` joins them again with the same keys (known peers).
            fleet.close_all()
            await asyncio.sleep(0.5)
            for agent in fleet.agents:
                agent.converged, agent.connection = False, None
            fleet.converged_count = 0
            emit({"event": "left"})
        elif words[0] == "storm":
            storm = await join_storm(fleet, hubs, options.connect_concurrency, options.storm_timeout)
            log(f"join storm: {storm}")
            emit({"event": "storm", **storm, "peer_left_seen": fleet.peer_left})
        elif words[0] == "relay":
            kind, rate, seconds = words[1], float(words[2]), float(words[3])
            if kind not in measurements:
                measurements[kind] = RelayMeasurement(by_kind[kind])
            measurement = measurements[kind]
            pairs = len(measurement.pairs)
            if not pairs or rate / pairs > 90:
                emit({"event": "relay", "kind": kind, "skipped": f"{pairs} pairs cannot carry {rate}/s within the "
                                                                  f"hub's 100 msg/s per-connection limit"})
                continue
            step = await measurement.step(rate, seconds, hubs)
            measurement = None
            log(f"relay {kind} {rate}/s: latency {step['latency_ms']}")
            emit({"event": "relay", "kind": kind, "pairs": pairs, **step})
        else:
            raise SystemExit(f"unknown command {line!r}")
    fleet.close_all()
    await asyncio.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hub-ports", required=True, help="comma-separated ports of the hubs on 127.0.0.1")
    parser.add_argument("--hub-pids", required=True, help="comma-separated pids of the hubs (CPU figures)")
    parser.add_argument("--tokens", required=True, help="JSON file: [{network, token}, ...] for this process")
    parser.add_argument("--first-network", type=int, required=True, help="global index of the file's first network")
    parser.add_argument("--agents", type=int, required=True)
    parser.add_argument("--network-size", type=int, default=10)
    parser.add_argument("--placement", choices=("spread", "relay"), default="spread")
    parser.add_argument("--connect-concurrency", type=int, default=300)
    parser.add_argument("--storm-timeout", type=float, default=600)
    options = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < options.agents + 100:
        raise SystemExit(f"RLIMIT_NOFILE hard limit {hard} is below {options.agents + 100}: use more processes")
    with open(options.tokens) as handle:
        tokens = json.load(handle)
    asyncio.run(run(options, tokens))


if __name__ == "__main__":
    main()
