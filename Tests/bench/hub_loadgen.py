"""Hub load generator: holds N authenticated agents across many networks and measures the hub.

Run by `hub_bench.py`, one process per N so that its CPU time is its own. Phases:
1. join storm: all N agents connect at once (at most `--connect-concurrency` TCP connects in flight), prove possession
   of their keys and wait for `welcome`; the storm has converged when every agent knows every other peer of its
   network (`loadgen_agents.py`);
2. idle: the hub's resident memory with N idle agents, and its CPU over one heartbeat interval;
3. relay steps at fixed offered rates (`loadgen_relay.py`), stopping once the hub saturates; by default over `ws://`
   on the storm's own sockets and epoll (`loadgen_relay_epoll.py`, `--relay-client`).

With `--url wss://…` every agent connects over TLS, trusting the certificate in `--ca-file` (the hub's self-signed one,
checked for the URL's host).

With `--processes K` the agents live in K shard processes (whole networks each) that a coordinator commands phase by
phase (`loadgen_shards.py`), so that the load generator's CPU is not what bounds the storm.

With `--reconnect-policy new|old` phases 2 and 3 are replaced by a reconnect storm (`loadgen_reconnect.py`, driven by
`reconnect_bench.py`): every agent follows that reconnect policy; the load generator prints `{"event": "ready"}` on
stdout, the orchestrator kills the hub and answers on stdin with `killed <monotonic s>` and, once the restarted hub
listens, `answered <monotonic s> <hub pid>`; one relay step (`--reconnect-relay-rate`) starts
`--reconnect-relay-after` seconds after that, and the phase ends when every agent is back (or after
`--reconnect-timeout`).

Prints one JSON object on stdout (its last line); progress goes to stderr. Never asserts a figure.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import ssl
import sys
import time

# The protocol encoding shared with the integration tests' client (Tests/protoclient/riftproto.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "protoclient"))

from loadgen_agents import AgentFleet  # noqa: E402
from loadgen_reconnect import ReconnectStorm  # noqa: E402
import loadgen_shards  # noqa: E402
from hub_passes import HubPassProbe  # noqa: E402
from loadgen_relay import RelayMeasurement, hub_idle_figures, own_cpu, rate_steps  # noqa: E402
from loadgen_relay_epoll import EpollRelay  # noqa: E402
from procstats import ProcessSample, percentile  # noqa: E402


def log(text: str) -> None:
    print(f"[loadgen] {text}", file=sys.stderr, flush=True)


def milliseconds(seconds) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def hub_endpoint(options) -> tuple[str, int, ssl.SSLContext | None]:
    """(host, port, TLS context or None) of `--url`, ws:// or wss://."""
    scheme, _, address = options.url.rstrip("/").partition("://")
    if scheme not in ("ws", "wss"):
        raise SystemExit(f"--url must be ws:// or wss://, not {options.url}")
    host, port = address.rsplit(":", 1)
    if scheme == "ws":
        return host, int(port), None
    if not options.ca_file:
        raise SystemExit("a wss:// hub needs --ca-file (the certificate to trust)")
    return host, int(port), ssl.create_default_context(cafile=options.ca_file)


def storm_client(options, tls) -> str:
    """`--storm-client`, or its default: epoll for ws://, asyncio for wss://."""
    return options.storm_client or ("asyncio" if tls else "epoll")


def relay_client(options, tls) -> str:
    """`--relay-client`, or its default: epoll when the storm runs on epoll in this one process (not for the reconnect
    storm, whose agents reconnect on asyncio), asyncio otherwise."""
    if options.relay_client == "epoll":
        if (tls is not None or storm_client(options, tls) != "epoll" or options.reconnect_policy
                or options.processes > 1):
            raise SystemExit("--relay-client epoll needs ws://, the epoll storm client, one process and no "
                             "reconnect storm")
        return "epoll"
    if options.relay_client == "asyncio" or options.reconnect_policy or options.processes > 1:
        return "asyncio"
    return storm_client(options, tls)


async def join_storm(fleet: AgentFleet, hub: ProcessSample, concurrency: int, timeout: float) -> dict:
    before, mine = hub.sample(), own_cpu()
    timeline = await fleet.storm(concurrency, timeout)
    after, mine_after = hub.sample(), own_cpu()
    started, welcomed, converged_at = timeline["started"], timeline["welcomed"], timeline["converged"]
    join_times = sorted(timeline["join_times"])
    reasons = timeline["failure_reasons"]
    joined = len(fleet.agents) - timeline["failed"]
    return {
        "agents": len(fleet.agents), "joined": joined, "failed": timeline["failed"], "failure_reasons": reasons,
        "all_welcomed_s": round(welcomed - started, 3),
        "converged_s": round(converged_at - started, 3) if converged_at else None,
        "agents_converged": fleet.converged_count,
        "join_latency_ms": {"p50": milliseconds(percentile(join_times, 50)), "p99": milliseconds(percentile(join_times, 99))},
        "joins_per_s": round(joined / max(1e-9, welcomed - started), 1),
        "hub_cpu_s": round(after.cpu - before.cpu, 2), "loadgen_cpu_s": round(mine_after - mine, 2),
    }


async def run(options, tokens: list[dict]) -> dict:
    host, port, tls = hub_endpoint(options)
    hub = ProcessSample(options.hub_pid)
    relay: RelayMeasurement | None = None
    fleet = AgentFleet(host, port, on_signal=lambda *args: relay and relay.record(*args),
                       on_error=lambda code: relay and relay.record_error(code), tls=tls)
    started = time.monotonic()
    fleet.storm_client = storm_client(options, tls)
    fleet.relay_client = relay_client(options, tls)
    fleet.populate(tokens, options.agents, options.network_size)
    log(f"{len(fleet.agents)} keys generated in {time.monotonic() - started:.1f} s")
    await fleet.fetch_hub_key()
    await asyncio.sleep(1)
    idle_before = hub.sample()
    log(f"hub before the storm: {idle_before.rss_kib} KiB resident")
    storm = await join_storm(fleet, hub, options.connect_concurrency, options.storm_timeout)
    log(f"join storm: {storm}")
    result = {"agents": options.agents, "network_size": options.network_size,
              "networks": (options.agents + options.network_size - 1) // options.network_size,
              "hub_rss_before_kib": idle_before.rss_kib, "join_storm": storm, "relay_client": fleet.relay_client}
    if fleet.relay_client == "epoll":  # built now so that its epoll answers the hub's pings while the generator idles
        relay = EpollRelay(fleet.storm_engine, fleet.agents)
        relay.watch(asyncio.get_running_loop())
    if options.reconnect_policy:
        def start_relay() -> RelayMeasurement:
            nonlocal relay
            relay = RelayMeasurement(fleet.agents)
            return relay
        await asyncio.sleep(options.settle_seconds)
        result["reconnect"] = await reconnect_storm(fleet, options, start_relay)
        result["duration_s"] = round(time.monotonic() - started, 1)
        fleet.close_all()
        await asyncio.sleep(0.5)
        return result
    await asyncio.sleep(options.settle_seconds)
    idle = hub.sample()
    await asyncio.sleep(options.idle_seconds)
    idle_after = hub.sample()
    result["idle"] = hub_idle_figures(idle_before, idle, idle_after, storm["joined"],
                                  ProcessSample(os.getpid()).sample().rss_kib)
    log(f"idle: {result['idle']}")
    if fleet.relay_client != "epoll":
        relay = RelayMeasurement(fleet.agents)
    probe = HubPassProbe(options.hub_admin_url, options.hub_pid) if options.hub_admin_url else None

    async def relay_step(rate: float) -> dict:
        before = probe.snapshot() if probe else None
        step = await relay.step(rate, options.step_seconds, hub)
        if probe:
            step["hub_loop"] = probe.step_figures(before, probe.snapshot(), getattr(relay, "slow", []))
        return step

    result["relay"] = await rate_steps(options.rates, len(relay.pairs), relay_step, log)
    result["peer_left_seen"] = fleet.peer_left
    result["hub_rss_end_kib"] = hub.sample().rss_kib
    result["duration_s"] = round(time.monotonic() - started, 1)
    if isinstance(relay, EpollRelay):
        result["relay_connections_lost"] = relay.lost
        relay.close_all()
    fleet.close_all()
    await asyncio.sleep(0.5)
    return result


async def read_command(expected: str, timeout: float) -> list[str]:
    """The orchestrator's next line on stdin, which must start with `expected`."""
    line = await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline), timeout)
    words = line.split()
    if not words or words[0] != expected:
        raise SystemExit(f"expected '{expected}' from the orchestrator, got {line!r}")
    return words[1:]


async def reconnect_storm(fleet: AgentFleet, options, start_relay) -> dict:
    """Arms the agents' reconnect policy, waits for the orchestrator's kill and restart, measures the way back."""
    storm = ReconnectStorm(fleet, options.reconnect_policy, attempt_timeout=options.attempt_timeout)
    storm.arm()
    print(json.dumps({"event": "ready", "agents": len(storm.tasks)}), flush=True)
    killed_at = float((await read_command("killed", 60))[0])
    log(f"hub killed; {options.reconnect_policy} policy {storm.initial_ms}-{storm.maximum_ms} ms")
    answered_at, hub_pid = (await read_command("answered", options.reconnect_timeout + 120))[:2]
    answered_at, hub = float(answered_at), ProcessSample(int(hub_pid))
    log(f"hub answering again (pid {hub_pid}), {time.monotonic() - answered_at:.2f} s ago")
    mine = own_cpu()

    async def relay_step() -> dict:
        await asyncio.sleep(max(0.0, answered_at + options.reconnect_relay_after - time.monotonic()))
        relay = start_relay()
        rate = options.reconnect_relay_rate
        if not relay.pairs or rate / len(relay.pairs) > 90:
            return {"skipped": f"{len(relay.pairs)} welcomed sender pairs at +{options.reconnect_relay_after} s: "
                               f"{rate}/s would exceed the hub's 100 msg/s per-connection limit"}
        step = await relay.step(rate, options.step_seconds, hub)
        step["started_after_listening_s"] = options.reconnect_relay_after
        step["pairs"] = len(relay.pairs)
        return step

    relay_task = asyncio.create_task(relay_step()) if options.reconnect_relay_rate > 0 else None
    try:
        back_at = await asyncio.wait_for(asyncio.shield(storm.everyone_back),
                                         max(1.0, answered_at + options.reconnect_timeout - time.monotonic()))
        log(f"every agent back {back_at - answered_at:.2f} s after the hub answered")
    except asyncio.TimeoutError:
        log(f"{len(storm.tasks) - len(storm.back_at)} agents still not back after {options.reconnect_timeout} s")
    loadgen_cpu = own_cpu() - mine
    window = time.monotonic() - answered_at
    relay_result = await relay_task if relay_task else None
    storm.stop()
    summary = storm.summary(killed_at, answered_at)
    summary["loadgen_cpu_percent_until_all_back"] = round(100 * loadgen_cpu / max(1e-9, window), 1)
    summary["relay"] = relay_result
    log(f"reconnect storm: { {key: value for key, value in summary.items() if not key.endswith('_bin')} }")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="ws://127.0.0.1:PORT or wss://127.0.0.1:PORT")
    parser.add_argument("--ca-file", help="for wss://: the certificate (PEM) to trust")
    parser.add_argument("--tokens", required=True, help="JSON file: [{network, token}, ...]")
    parser.add_argument("--agents", type=int, required=True)
    parser.add_argument("--network-size", type=int, default=10)
    parser.add_argument("--hub-pid", type=int, required=True)
    parser.add_argument("--hub-admin-url", help="http://127.0.0.1:PORT of the hub's admin listener: each relay step "
                        "also reports the hub's service-loop figures (hub_passes.py)")
    parser.add_argument("--rates", type=lambda text: [float(x) for x in text.split(",")], default=[1000, 2000, 5000, 10000])
    parser.add_argument("--step-seconds", type=float, default=5)
    parser.add_argument("--settle-seconds", type=float, default=3)
    parser.add_argument("--idle-seconds", type=float, default=20, help="one heartbeat interval by default")
    parser.add_argument("--connect-concurrency", type=int, default=500)
    parser.add_argument("--storm-client", choices=("epoll", "asyncio"),
                        help="join storm on plain sockets and epoll (loadgen_storm.py; the default for ws://) or on "
                             "asyncio (the default for wss://)")
    parser.add_argument("--relay-client", choices=("epoll", "asyncio"),
                        help="relay steps on the epoll storm's own sockets (loadgen_relay_epoll.py; the default when "
                             "the storm runs on epoll in one process) or on asyncio (the default otherwise)")
    parser.add_argument("--storm-timeout", type=float, default=300)
    parser.add_argument("--reconnect-policy", choices=("new", "old"), help="run the reconnect storm with this policy")
    parser.add_argument("--attempt-timeout", type=float, default=10, help="one reconnect attempt (the agent's 10 s)")
    parser.add_argument("--reconnect-timeout", type=float, default=120, help="give up waiting this long after restart")
    parser.add_argument("--reconnect-relay-rate", type=float, default=1000, help="msg/s of the relay step; 0: none")
    parser.add_argument("--reconnect-relay-after", type=float, default=5, help="seconds after the hub answered")
    parser.add_argument("--processes", type=int, default=1, help="shard processes holding the agents (loadgen_shards.py)")
    parser.add_argument("--shard", help=argparse.SUPPRESS)  # I/K: run as shard I of K, commanded on stdin
    options = parser.parse_args()
    with open(options.tokens) as handle:
        tokens = json.load(handle)
    if options.processes > 1 and not options.shard:
        if options.relay_client == "epoll":
            raise SystemExit("--relay-client epoll runs in one process; the shards (--processes) relay on asyncio")
        if options.reconnect_policy:
            raise SystemExit("--processes applies to the capacity run, not to the reconnect storm")
        argv = strip_option(sys.argv, "--processes")
        json.dump(asyncio.run(loadgen_shards.run_coordinator(options, argv)), sys.stdout)
        print()
        return
    agents = options.agents
    if options.shard:
        shard, shards = (int(part) for part in options.shard.split("/"))
        tokens, agents = loadgen_shards.shard_tokens(tokens, options.agents, options.network_size, shard, shards)
        options.connect_concurrency = max(1, options.connect_concurrency // shards)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < agents + 100:
        raise SystemExit(f"RLIMIT_NOFILE hard limit {hard} is below {agents + 100}: raise it (ulimit -Hn), or use --processes")
    if options.shard:
        asyncio.run(shard_main(options, tokens, agents))
        return
    json.dump(asyncio.run(run(options, tokens)), sys.stdout)
    print()


def strip_option(argv: list[str], name: str) -> list[str]:
    """`argv` minus `name VALUE` and `name=VALUE`."""
    result, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == name:
            skip = True
        elif not arg.startswith(name + "="):
            result.append(arg)
    return result


async def shard_main(options, tokens: list[dict], agents: int) -> None:
    """One shard of `--processes`: its networks' agents, commanded by the coordinator (`loadgen_shards.run_shard`)."""
    host, port, tls = hub_endpoint(options)
    relay_ref: list = []
    fleet = AgentFleet(host, port, on_signal=lambda *args: relay_ref and relay_ref[0].record(*args),
                       on_error=lambda code: relay_ref and relay_ref[0].record_error(code), tls=tls)
    fleet.storm_client = storm_client(options, tls)
    fleet.populate(tokens, agents, options.network_size)
    await fleet.fetch_hub_key()
    await loadgen_shards.run_shard(options, fleet, ProcessSample(options.hub_pid), relay_ref)


if __name__ == "__main__":
    main()
