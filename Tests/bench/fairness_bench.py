"""Fairness between networks: relay latency in a quiet network, idle and while one token holder of another network
cycles join/leave as fast as the hub's join limits let it (issue 15, item 2).

A real `riftgate-hub` on 127.0.0.1 with two networks: `crowd` (default peer limit, `--crowd` connected agents) and
`quiet` (two agents relaying to each other at `--probe-rate` messages/s, one-way latency measured with the send time in
the sealed nonce, as `loadgen_relay.py` does). Three processes besides the hub, so that no client's CPU delays another's:
- `--role crowd`: holds the crowd's agents and reads every presence frame the hub fans out to them;
- `--role attack`: `--attack-workers` connections in a loop, each joining `crowd` with its own token (not the crowd's)
  and leaving as soon as it is welcomed. Fresh keys until the network is full, then the keys it already registered, in
  turn; a worker refused with `rate_limited` waits `--refusal-pause` before trying again (so refused attempts, which
  also cost the hub a TLS-less upgrade and a proof check, do not dominate);
- `--role probe`: the quiet network's two agents; one relay step per window.

Windows: idle (no attack), then attack (after `--warmup` seconds of attack, which spends the token's burst). Prints one
JSON object (median, p99 and max latency per window, the attacker's joins/s, the hub's CPU); asserts nothing.

    flock /tmp/riftgate-cpu.lock .venv/bin/python Tests/bench/fairness_bench.py --bin-dir .build-release/release
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "protoclient"))
sys.path.insert(0, HERE)

import nacl.public  # noqa: E402

import riftproto  # noqa: E402
from loadgen_agents import AgentFleet, SimulatedAgent  # noqa: E402
from loadgen_relay import RelayMeasurement  # noqa: E402
from procstats import ProcessSample  # noqa: E402
from wsclient import WebSocketConnection  # noqa: E402

TOKEN = re.compile(r"rgt_[A-Za-z0-9_-]+")


def log(text: str) -> None:
    print(f"[fairness] {text}", file=sys.stderr, flush=True)


# roles --------------------------------------------------------------------------------------------------------------
async def crowd(options) -> None:
    """Joins `--crowd` agents, says `ready` on stdout, and reads until stdin closes."""
    fleet = AgentFleet("127.0.0.1", options.port, on_signal=lambda *args: None, on_error=lambda code: None)
    fleet.populate([{"network": "crowd", "token": options.token}], options.crowd, options.crowd)
    await fleet.fetch_hub_key()
    gate = asyncio.Semaphore(50)
    await asyncio.wait_for(asyncio.gather(*(fleet.join(agent, gate) for agent in fleet.agents)), 300)
    members = sum(agent.phase == "member" for agent in fleet.agents)
    print(json.dumps({"event": "ready", "members": members}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    lost = sum(agent.connection is None or agent.connection.closed.done() for agent in fleet.agents)
    print(json.dumps({"event": "done", "members": members, "lost": lost, "peer_left_seen": fleet.peer_left}), flush=True)
    fleet.close_all()


class Attacker:
    """Join/leave cycles on one token, counted; see the module's description for the key policy."""

    def __init__(self, options):
        self.options = options
        self.fleet = AgentFleet("127.0.0.1", options.port, on_signal=lambda *args: None, on_error=lambda code: None)
        self.registered: list[SimulatedAgent] = []
        self.next_registered = 0
        self.full = False
        self.counts: dict[str, int] = {}
        self.index = 0

    def pick(self) -> SimulatedAgent:
        if self.full and self.registered:
            agent = self.registered[self.next_registered % len(self.registered)]
            self.next_registered += 1
            return agent
        self.index += 1
        agent = SimulatedAgent(self.index, "crowd", self.options.token, 0)
        agent.box = None
        return agent

    async def cycle(self) -> None:
        agent = self.pick()
        loop = asyncio.get_running_loop()
        agent.phase, agent.known, agent.error = "challenge", set(), None
        agent.joined = loop.create_future()
        connection = None
        try:
            _, connection = await asyncio.wait_for(loop.create_connection(
                lambda: WebSocketConnection(self.fleet.request("crowd", agent.token), self.fleet.on_message, agent),
                "127.0.0.1", self.options.port), 10)
            await asyncio.wait_for(connection.opened, 10)
            await asyncio.wait_for(agent.joined, 10)
            self.counts["joined"] = self.counts.get("joined", 0) + 1
            if agent not in self.registered and not self.full:
                self.registered.append(agent)
        except ConnectionError as error:
            code = agent.error or "connection"
            self.counts[code] = self.counts.get(code, 0) + 1
            if code == "network_full":
                self.full = True
            if code in ("rate_limited", "network_full"):
                await asyncio.sleep(self.options.refusal_pause)
            elif code == "connection":
                log(f"attack connection failed: {error}")
                await asyncio.sleep(0.1)
        except (OSError, asyncio.TimeoutError) as error:
            self.counts[type(error).__name__] = self.counts.get(type(error).__name__, 0) + 1
            await asyncio.sleep(0.1)
        finally:
            if connection is not None:
                connection.close()
                try:
                    await asyncio.wait_for(connection.closed, 5)
                except asyncio.TimeoutError:
                    pass

    async def run(self) -> None:
        """Cycles until stdin says `stop`; prints the counts of each `report` line's window."""
        async def worker():
            while not stopping.is_set():
                await self.cycle()
        stopping = asyncio.Event()
        workers = [asyncio.create_task(worker()) for _ in range(self.options.attack_workers)]
        loop = asyncio.get_running_loop()
        window_start, window_counts = time.monotonic(), dict(self.counts)
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if line in ("report", "stop", ""):
                now = time.monotonic()
                delta = {key: value - window_counts.get(key, 0) for key, value in self.counts.items()}
                print(json.dumps({"event": "report", "seconds": round(now - window_start, 2), "counts": delta,
                                  "registered_keys": len(self.registered)}), flush=True)
                window_start, window_counts = now, dict(self.counts)
            if line in ("stop", ""):
                break
        stopping.set()
        await asyncio.wait(workers, timeout=15)


async def attack(options) -> None:
    attacker = Attacker(options)
    first = SimulatedAgent(0, "crowd", options.token, 0)
    attacker.fleet.agents = [first]
    await attacker.fleet.fetch_hub_key()
    print(json.dumps({"event": "attacking"}), flush=True)
    await attacker.run()


async def probe(options) -> None:
    """Two quiet agents, one relay step of `--probe-rate` msg/s for `--seconds`; prints the step's figures."""
    relay: RelayMeasurement | None = None
    fleet = AgentFleet("127.0.0.1", options.port, on_signal=lambda *args: relay and relay.record(*args),
                       on_error=lambda code: relay and relay.record_error(code))
    fleet.populate([{"network": "quiet", "token": options.token}], 2, 2)
    await fleet.fetch_hub_key()
    await asyncio.wait_for(asyncio.gather(*(fleet.join(agent, asyncio.Semaphore(2)) for agent in fleet.agents)), 60)
    relay = RelayMeasurement(fleet.agents)
    await asyncio.sleep(0.5)
    step = await relay.step(options.probe_rate, options.seconds, ProcessSample(options.hub_pid))
    print(json.dumps(step), flush=True)
    fleet.close_all()
    await asyncio.sleep(0.2)


# orchestration ------------------------------------------------------------------------------------------------------
def role(name: str, options, token: str, port: int, hub_pid: int, **extra) -> subprocess.Popen:
    command = [sys.executable, os.path.abspath(__file__), "--role", name, "--port", str(port), "--token", token,
               "--hub-pid", str(hub_pid), "--crowd", str(options.crowd), "--probe-rate", str(options.probe_rate),
               "--attack-workers", str(options.attack_workers), "--refusal-pause", str(options.refusal_pause)]
    for key, value in extra.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def read_event(process: subprocess.Popen, event: str) -> dict:
    for line in process.stdout:
        message = json.loads(line)
        if message.get("event") == event:
            return message
    raise RuntimeError(f"{event}: the role exited")


def run_probe(options, token: str, hub) -> dict:
    process = role("probe", options, token, hub.port, hub.pid, seconds=options.seconds)
    output, _ = process.communicate(timeout=options.seconds + 120)
    return json.loads(output.strip().splitlines()[-1])


def orchestrate(options) -> dict:
    from hub_bench import HubProcess
    hub_binary = os.path.join(options.bin_dir, "riftgate-hub")
    state = tempfile.mkdtemp(prefix="riftgate-fairness-")
    tokens = {}
    for network in ("crowd", "quiet"):
        subprocess.run([hub_binary, "network", "create", network, "--state-dir", state], check=True, capture_output=True)
    for network, label in (("crowd", "crowd"), ("crowd", "attacker"), ("quiet", "probe")):
        output = subprocess.run([hub_binary, "token", "create", network, "--label", label, "--state-dir", state],
                                check=True, capture_output=True, text=True).stdout
        tokens[label] = TOKEN.search(output).group(0)
    hub = HubProcess(hub_binary, state, os.path.join(state, "hub.log"))
    result: dict = {"crowd": options.crowd, "probe_rate": options.probe_rate, "window_s": options.seconds}
    crowd_process = attack_process = None
    try:
        crowd_process = role("crowd", options, tokens["crowd"], hub.port, hub.pid)
        result["crowd_members"] = read_event(crowd_process, "ready")["members"]
        log(f"{result['crowd_members']} crowd agents joined; idle window")
        time.sleep(2)
        result["idle"] = run_probe(options, tokens["probe"], hub)
        log(f"idle: {result['idle']['latency_ms']}")
        attack_process = role("attack", options, tokens["attacker"], hub.port, hub.pid)
        read_event(attack_process, "attacking")
        time.sleep(options.warmup)
        attack_process.stdin.write("report\n")
        attack_process.stdin.flush()
        result["attack_warmup"] = read_event(attack_process, "report")
        clients = {"crowd": ProcessSample(crowd_process.pid), "attacker": ProcessSample(attack_process.pid)}
        before, started = {name: sample.sample() for name, sample in clients.items()}, time.monotonic()
        result["attack"] = run_probe(options, tokens["probe"], hub)
        wall = time.monotonic() - started
        result["client_cpu_percent"] = {name: round(100 * (sample.sample().cpu - before[name].cpu) / wall, 1)
                                        for name, sample in clients.items()}
        attack_process.stdin.write("stop\n")
        attack_process.stdin.flush()
        result["attack_window"] = read_event(attack_process, "report")
        window = result["attack_window"]
        result["attack_joins_per_s"] = round(window["counts"].get("joined", 0) / window["seconds"], 1)
        log(f"attack: {result['attack']['latency_ms']}, {result['attack_joins_per_s']} joins/s")
        crowd_process.stdin.close()
        result["crowd_after"] = read_event(crowd_process, "done")
        result["hub_metrics"] = {key: value for key, value in hub.metrics().items()
                                 if ("rejected" in key or "sessions" in key) and value}
    finally:
        for process in (attack_process, crowd_process):
            if process is not None and process.poll() is None:
                process.kill()
        hub.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-dir", help="directory holding riftgate-hub (a release build for meaningful figures)")
    parser.add_argument("--role", choices=("crowd", "attack", "probe"))
    parser.add_argument("--port", type=int)
    parser.add_argument("--token")
    parser.add_argument("--hub-pid", type=int)
    parser.add_argument("--crowd", type=int, default=200)
    parser.add_argument("--probe-rate", type=float, default=50, help="quiet network's relay messages/s")
    parser.add_argument("--seconds", type=float, default=15, help="each measured window")
    parser.add_argument("--warmup", type=float, default=10, help="attack seconds before its window")
    parser.add_argument("--attack-workers", type=int, default=8)
    parser.add_argument("--refusal-pause", type=float, default=0.05)
    parser.add_argument("--output", help="also write the JSON here")
    options = parser.parse_args()
    if options.role:
        asyncio.run({"crowd": crowd, "attack": attack, "probe": probe}[options.role](options))
        return
    result = orchestrate(options)
    text = json.dumps(result, indent=1)
    if options.output:
        with open(options.output, "w") as handle:
            handle.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
