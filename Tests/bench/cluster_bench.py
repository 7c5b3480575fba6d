"""Hub cluster (issue 14 item 6): release `riftgate-hub` processes sharing one PostgreSQL database and a 3-node
nats-server cluster on this host, driven by `cluster_loadgen.py` processes. Two phases, each on a fresh cluster:

- **relay**: same-hub against cross-hub relay at the same offered rates, alternating in one run (networks of 10:
  half with every member on one hub, half spread so that each sender's recipient is on another hub); p50/p99 of each
  kind and their ratio, and NATS messages and PostgreSQL statements per relayed signal;
- **capacity**: N agents (50,000 by default) in networks of 10 spread over 3 hubs, joined at once by several load
  generator processes (each process, like each hub, is capped at 20,000 open files here): agents welcomed, the join
  storm's duration, RSS per hub and per idle agent, CPU of hubs, PostgreSQL and NATS while idle, and PostgreSQL
  statements / transactions and NATS messages per join.

Runnable alone (`python Tests/bench/cluster_bench.py --bin-dir .build-bench-release/release`) or as the `cluster`
section of bench.py. Prints every figure and writes JSON + Markdown to bench-results/; never asserts a figure.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time

from cluster_services import (NATS_SERVER, NATSCluster, NATSCounters, PostgresCounters, PostgresUnavailable,
                              seed_networks, start_postgres)
from hub_bench import HubProcess
from procstats import ProcessSample
from workdirs import work_directory

HERE = os.path.dirname(os.path.abspath(__file__))
FILE_LIMIT = 20_000  # this machine's hard RLIMIT_NOFILE; a process holds at most about this many connections


def log(text: str) -> None:
    print(f"[cluster] {text}", file=sys.stderr, flush=True)


class LoadGenerator:
    """One `cluster_loadgen.py` process: commands on its stdin, JSON events from its stdout (read by a thread)."""

    def __init__(self, arguments: list[str], log_path: str):
        self.log = open(log_path, "w")
        self.process = subprocess.Popen([sys.executable, os.path.join(HERE, "cluster_loadgen.py"), *arguments],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.events: list[dict] = []
        self.arrived = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self.arrived:
                self.events.append(json.loads(line))
                self.arrived.notify_all()
        with self.arrived:
            self.arrived.notify_all()

    def send(self, command: str) -> None:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def next_event(self, name: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for index, event in enumerate(self.events):
                    if event.get("event") == name:
                        return self.events.pop(index)
                if self.process.poll() is not None:
                    raise RuntimeError(f"a load generator exited ({self.process.returncode}); see {self.log.name}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no '{name}' from a load generator within {timeout:.0f} s; see {self.log.name}")
                self.arrived.wait(1)

    def cpu_s(self) -> float:
        return ProcessSample(self.process.pid).sample().cpu

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.send("quit")
                self.process.wait(30)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(5)
        self.log.close()


class Cluster:
    """PostgreSQL (shared by the phases; a fresh database each), a fresh 3-node NATS cluster and `hubs` hubs; with
    `bus=False`, no NATS: one hub on PostgreSQL alone, the baseline a cluster member is compared with."""

    def __init__(self, hub_binary: str, postgres, scratch: str, out_dir: str, name: str, hubs: int, networks: int,
                 bus: bool = True):
        self.postgres = postgres
        started = time.monotonic()
        self.database, self.tokens = seed_networks(postgres, hub_binary, scratch, networks)
        log(f"{name}: {networks} networks and tokens seeded in {time.monotonic() - started:.1f} s")
        self.nats = NATSCluster(3) if bus else None
        self.hubs: list[HubProcess] = []
        try:
            for index in range(hubs):
                state = os.path.join(scratch, f"hub{index + 1}")
                os.makedirs(state, exist_ok=True)
                member = ("--nats", self.nats.urls, "--hub-id", f"bench-{index + 1}") if bus else ()
                self.hubs.append(HubProcess(hub_binary, state, os.path.join(out_dir, f"cluster-{name}-hub{index + 1}.log"),
                                            extra_args=("--database", self.database, *member)))
            for hub in self.hubs if bus else ():
                if not hub.wait_for_log("cluster bus connected", 30):
                    raise RuntimeError(f"a hub did not connect to NATS; see {hub.log_path}")
            time.sleep(2.5)  # every hub hears the others' first heartbeat and exchanges snapshots
        except BaseException:
            self.stop()
            raise
        self.pg = PostgresCounters(postgres, self.database)
        self.bus = NATSCounters(self.nats) if bus else None

    @property
    def ports(self) -> str:
        return ",".join(str(hub.port) for hub in self.hubs)

    @property
    def pids(self) -> str:
        return ",".join(str(hub.pid) for hub in self.hubs)

    def snapshot(self, loadgens: list[LoadGenerator]) -> dict:
        return {"time": time.monotonic(), "pg": self.pg.snapshot(), "nats": self.bus.snapshot() if self.bus else None,
                "hubs": [ProcessSample(hub.pid).sample() for hub in self.hubs],
                "loadgen_cpu_s": sum(generator.cpu_s() for generator in loadgens)}

    def delta(self, before: dict, after: dict) -> dict:
        seconds = after["time"] - before["time"]
        return {"seconds": round(seconds, 2), "pg": PostgresCounters.delta(before["pg"], after["pg"]),
                "nats": NATSCounters.delta(before["nats"], after["nats"]) if self.bus else NO_BUS,
                "hub_cpu_s": [round(b.cpu - a.cpu, 2) for a, b in zip(before["hubs"], after["hubs"])],
                "hub_rss_kib": [sample.rss_kib for sample in after["hubs"]],
                "loadgen_cpu_s": round(after["loadgen_cpu_s"] - before["loadgen_cpu_s"], 2)}

    def rejected(self) -> dict:
        found = {}
        for index, hub in enumerate(self.hubs):
            try:
                metrics = hub.metrics()
            except OSError:
                continue
            found[f"hub{index + 1}"] = {key: value for key, value in metrics.items()
                                        if value and key.startswith(("riftgate_hub_messages_rejected_total",
                                                                     "riftgate_hub_slow_connections_closed_total",
                                                                     "riftgate_hub_auth_failures_total"))}
        return found

    def stop(self) -> None:
        for hub in self.hubs:
            hub.stop()
        if self.nats:
            self.nats.stop()


NO_BUS = {"in_msgs": 0, "out_msgs": 0, "in_bytes": 0, "out_bytes": 0, "cpu_s": 0.0, "rss_kib": [], "subscriptions": []}


def per_unit(delta: dict, background: dict | None, units: int) -> dict:
    """`delta`'s PostgreSQL and NATS counts per unit (join, signal), less the background rate over the same time
    (measured before the storm: the hubs' change-marker polls and heartbeats) and less the last-seen flushes' UPDATEs
    (once a minute per hub, one per connected peer: counted apart, see last_seen_probe)."""
    def less(value, rate):
        return max(0.0, value - (rate or 0) * delta["seconds"])

    rates = background or {}
    pg, nats = delta["pg"], delta["nats"]
    units = max(1, units)
    statements = less(pg["statements"] - last_seen_updates(delta), rates.get("pg_statements_per_s"))
    commits = less(pg["xact_commit"], rates.get("pg_commits_per_s"))
    explicit = sum(calls for query, calls in pg["by_statement"].items() if query.upper().startswith("BEGIN"))
    return {
        "pg_statements": round(statements / units, 2),
        "pg_explicit_transactions": round(explicit / units, 3),
        "pg_xact_commit": round(commits / units, 2),
        "nats_in_msgs": round(less(nats["in_msgs"], rates.get("nats_in_per_s")) / units, 2),
        "nats_out_msgs": round(less(nats["out_msgs"], rates.get("nats_out_per_s")) / units, 2),
        "nats_in_bytes": round(less(nats["in_bytes"], rates.get("nats_in_bytes_per_s")) / units, 1),
    }


def background_rates(idle: dict) -> dict:
    seconds = max(1e-9, idle["seconds"])
    return {"pg_statements_per_s": round(idle["pg"]["statements"] / seconds, 2),
            "pg_commits_per_s": round(idle["pg"]["xact_commit"] / seconds, 2),
            "nats_in_per_s": round(idle["nats"]["in_msgs"] / seconds, 2),
            "nats_out_per_s": round(idle["nats"]["out_msgs"] / seconds, 2),
            "nats_in_bytes_per_s": round(idle["nats"]["in_bytes"] / seconds, 1),
            "pg_top_statements": dict(list(idle["pg"]["by_statement"].items())[:5])}


def split_networks(tokens: list[dict], processes: int) -> list[tuple[int, list[dict]]]:
    """Whole networks per process, as even as possible: [(first global index, tokens)]."""
    chunk = (len(tokens) + processes - 1) // processes
    return [(start, tokens[start:start + chunk]) for start in range(0, len(tokens), chunk)]


def start_loadgens(cluster: Cluster, scratch: str, out_dir: str, name: str, agents: int, network_size: int,
                   processes: int, placement: str) -> list[LoadGenerator]:
    generators = []
    networks = (agents + network_size - 1) // network_size
    for number, (first, tokens) in enumerate(split_networks(cluster.tokens[:networks], processes)):
        path = os.path.join(scratch, f"tokens-{number}.json")
        with open(path, "w") as handle:
            json.dump(tokens, handle)
        count = min(len(tokens) * network_size, agents - first * network_size)
        generators.append(LoadGenerator(
            ["--hub-ports", cluster.ports, "--hub-pids", cluster.pids, "--tokens", path, "--first-network", str(first),
             "--agents", str(count), "--network-size", str(network_size), "--placement", placement],
            os.path.join(out_dir, f"cluster-{name}-loadgen{number + 1}.log")))
    return generators


def run_storm(cluster: Cluster, generators: list[LoadGenerator], timeout: float) -> tuple[list[dict], dict, float]:
    """Has every load generator join all its agents at once and waits for each one's report; returns the reports,
    PostgreSQL's sessions sampled meanwhile, and the storm's wall time in seconds."""
    started = time.monotonic()
    for generator in generators:
        generator.send("storm")
    sampling = ActivitySampler(cluster.pg)
    try:
        events = [generator.next_event("storm", timeout) for generator in generators]
    finally:
        sampling.stop()
    return events, sampling.summary(), time.monotonic() - started


def storm(cluster: Cluster, generators: list[LoadGenerator], timeout: float) -> tuple[dict, dict, dict]:
    """Every generator's agents join at once; returns (storm figures, counter snapshot before, the background rates
    of PostgreSQL and NATS measured over 5 s before the storm, with no agent connected)."""
    ready = [generator.next_event("ready", 600) for generator in generators]
    per_hub = [sum(event["per_hub"][index] for event in ready) for index in range(len(cluster.hubs))]
    rss_before = [ProcessSample(hub.pid).sample().rss_kib for hub in cluster.hubs]
    background = background_rates(idle_window(cluster, generators, 5))
    before = cluster.snapshot(generators)
    events, sessions, wall = run_storm(cluster, generators, timeout)
    joined = sum(event["joined"] for event in events)
    converged = [event["converged_s"] for event in events]
    figures = {
        "agents": sum(event["agents"] for event in events), "joined": joined,
        "failed": sum(event["failed"] for event in events),
        "failure_reasons": merge_counts(event["failure_reasons"] for event in events),
        "agents_per_hub": per_hub, "load_generators": len(generators),
        "all_welcomed_s": max(event["all_welcomed_s"] for event in events),
        "converged_s": None if None in converged else max(converged),
        "storm_wall_s": round(wall, 2), "joins_per_s": round(joined / max(1e-9, max(event["all_welcomed_s"] for event in events)), 1),
        "join_latency_p99_ms_worst_process": max((event["join_latency_ms"]["p99"] or 0) for event in events),
        "hub_rss_before_kib": rss_before, "peer_left_seen": sum(event["peer_left_seen"] for event in events),
        "postgres_sessions_sampled": sessions,
    }
    return figures, before, background


class ActivitySampler:
    """Samples the bench database's sessions (pg_stat_activity) twice a second until stopped: whether the hubs'
    connections wait for the cluster-wide advisory lock, for I/O, or run."""

    def __init__(self, pg: PostgresCounters):
        self.pg, self.samples, self.done = pg, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(0.5):
            try:
                self.samples.append(self.pg.activity())
            except (AssertionError, OSError, subprocess.SubprocessError):
                pass

    def stop(self) -> None:
        self.done.set()
        self.thread.join(10)

    def summary(self) -> dict:
        """Mean number of sessions in each state over the samples."""
        totals = merge_counts(self.samples)
        count = max(1, len(self.samples))
        return {"samples": len(self.samples), **{state: round(value / count, 2)
                                                 for state, value in sorted(totals.items(), key=lambda item: -item[1])}}


def merge_counts(dicts) -> dict:
    merged: dict[str, int] = {}
    for counts in dicts:
        for key, value in counts.items():
            merged[key] = merged.get(key, 0) + value
    return merged


def idle_window(cluster: Cluster, generators: list[LoadGenerator], seconds: float) -> dict:
    first = cluster.snapshot(generators)
    time.sleep(seconds)
    return cluster.delta(first, cluster.snapshot(generators))


def cpu_percent(cpu_s, seconds: float):
    if isinstance(cpu_s, list):
        return [round(100 * value / seconds, 1) for value in cpu_s]
    return round(100 * cpu_s / seconds, 1)


def idle_figures(idle: dict, storm_figures: dict) -> dict:
    seconds = idle["seconds"]
    per_hub = storm_figures["agents_per_hub"]
    rss = idle["hub_rss_kib"]
    return {
        "window_s": seconds,
        "hub_rss_kib": rss,
        "hub_kib_per_agent": [round((after - before) / max(1, agents), 2)
                              for after, before, agents in zip(rss, storm_figures["hub_rss_before_kib"], per_hub)],
        "hub_cpu_percent": cpu_percent(idle["hub_cpu_s"], seconds),
        "postgres_cpu_percent": cpu_percent(idle["pg"]["cpu_s"], seconds),
        "nats_cpu_percent": cpu_percent(idle["nats"]["cpu_s"], seconds),
        "nats_rss_kib": idle["nats"]["rss_kib"], "nats_subscriptions": idle["nats"]["subscriptions"],
        "loadgen_cpu_percent": cpu_percent(idle["loadgen_cpu_s"], seconds),
    }


def run_relay_phase(hub_binary: str, postgres, out_dir: str, hubs: int, agents: int, network_size: int,
                    rates, step_seconds: float, rounds: int) -> dict:
    networks = (agents + network_size - 1) // network_size
    with work_directory(os.path.join(out_dir, "work"), "cluster-relay") as scratch:
        cluster = Cluster(hub_binary, postgres, scratch, out_dir, "relay", hubs, networks)
        generators: list[LoadGenerator] = []
        try:
            generators = start_loadgens(cluster, scratch, out_dir, "relay", agents, network_size, 1, "relay")
            storm_figures, before, background = storm(cluster, generators, 300)
            log(f"relay phase: {storm_figures['joined']}/{storm_figures['agents']} joined in "
                f"{storm_figures['all_welcomed_s']} s")
            time.sleep(3)
            steps: dict[str, list[dict]] = {"same": [], "cross": []}
            for round_number in range(rounds):
                order = ("same", "cross") if round_number % 2 == 0 else ("cross", "same")
                for rate in rates:
                    for kind in order:
                        first = cluster.snapshot(generators)
                        generators[0].send(f"relay {kind} {rate} {step_seconds}")
                        step = generators[0].next_event("relay", step_seconds + 60)
                        if "skipped" in step:
                            log(f"relay {kind} {rate}/s skipped: {step['skipped']}")
                            continue
                        delta = cluster.delta(first, cluster.snapshot(generators))
                        step["round"] = round_number + 1
                        step["last_seen_updates"] = last_seen_updates(delta)
                        step["during_last_seen_flush"] = step["last_seen_updates"] > 0
                        step["costs_per_signal"] = per_unit(delta, background, step["delivered"])
                        step["hub_cpu_percent_each"] = cpu_percent(delta["hub_cpu_s"], delta["seconds"])
                        step["postgres_cpu_percent"] = cpu_percent(delta["pg"]["cpu_s"], delta["seconds"])
                        step["nats_cpu_percent"] = cpu_percent(delta["nats"]["cpu_s"], delta["seconds"])
                        log(f"relay {kind} {rate}/s (round {round_number + 1}): {step['delivered']}/{step['sent']} "
                            f"delivered, p50 {step['latency_ms']['p50']} ms, p99 {step['latency_ms']['p99']} ms, "
                            f"hubs {step['hub_cpu_percent_each']} %, NATS {step['nats_cpu_percent']} %, per signal "
                            f"{step['costs_per_signal']}")
                        steps[kind].append(step)
            return {"hubs": hubs, "agents": agents, "network_size": network_size, "join": storm_figures,
                    "background_per_s": background, "steps": steps, "comparison": compare(steps, rates),
                    "hub_rejections": cluster.rejected(), "step_seconds": step_seconds, "rounds": rounds}
        finally:
            for generator in generators:
                generator.stop()
            cluster.stop()


def compare(steps: dict, rates) -> list[dict]:
    """Per rate: each kind's p50/p99 (median over the rounds not disturbed by a last-seen flush: with two, their mean)
    and cross / same."""
    def middle(values):
        return round(statistics.median(values), 3) if values else None

    rows = []
    for rate in rates:
        row = {"offered_per_s": rate}
        for kind in ("same", "cross"):
            every = [step for step in steps[kind] if step["offered_per_s"] == rate]
            # A step that overlapped a hub's last-seen flush measures the flush (see last_seen_probe), not the relay
            # path: left out of the comparison when a clean round of the same kind and rate exists.
            runs = [step for step in every if not step.get("during_last_seen_flush")] or every
            row[f"{kind}_rounds_used"] = len(runs)
            for key in ("p50", "p99"):
                row[f"{kind}_{key}_ms"] = middle([step["latency_ms"][key] for step in runs if step["latency_ms"][key] is not None])
            row[f"{kind}_delivered"] = f"{sum(s['delivered'] for s in runs)}/{sum(s['sent'] for s in runs)}"
            row[f"{kind}_hub_cpu_percent"] = middle([s["hub_cpu_percent"] for s in runs])
            row[f"{kind}_nats_out_per_signal"] = middle([s["costs_per_signal"]["nats_out_msgs"] for s in runs])
        for key in ("p50", "p99"):
            same, cross = row.get(f"same_{key}_ms"), row.get(f"cross_{key}_ms")
            row[f"ratio_{key}"] = round(cross / same, 2) if same and cross else None
        rows.append(row)
    return rows


def rejoin_storm(cluster: Cluster, generators: list[LoadGenerator], timeout: float, background: dict) -> dict:
    """Every agent disconnects; once every hub has processed the departures (each one a write transaction: the
    peer's last-seen time), all join again with the same keys (known peers, no address to allocate: what agents
    moving from a dead hub, or coming back after an outage of their own, ask of the cluster)."""
    before_leave = cluster.snapshot(generators)
    left_at = time.monotonic()
    for generator in generators:
        generator.send("leave")
    for generator in generators:
        generator.next_event("left", 60)
    drained = None
    while time.monotonic() - left_at < timeout:
        if sum(connected_peers(hub) for hub in cluster.hubs) == 0:
            drained = time.monotonic() - left_at
            break
        time.sleep(0.25)
    leave_delta = cluster.delta(before_leave, cluster.snapshot(generators))
    log(f"departures processed after {drained} s")
    time.sleep(1)
    before = cluster.snapshot(generators)
    events, sessions, _ = run_storm(cluster, generators, timeout)
    delta = cluster.delta(before, cluster.snapshot(generators))
    joined = sum(event["joined"] for event in events)
    welcomed = max(event["all_welcomed_s"] for event in events)
    converged = [event["converged_s"] for event in events]
    figures = {"agents": sum(event["agents"] for event in events), "joined": joined,
               "failed": sum(event["failed"] for event in events),
               "failure_reasons": merge_counts(event["failure_reasons"] for event in events),
               "all_welcomed_s": welcomed, "converged_s": None if None in converged else max(converged),
               "joins_per_s": round(joined / max(1e-9, welcomed), 1),
               "join_latency_p99_ms_worst_process": max((event["join_latency_ms"]["p99"] or 0) for event in events),
               "cpu_s": {"hubs": delta["hub_cpu_s"], "postgres": round(delta["pg"]["cpu_s"], 2),
                         "nats": round(delta["nats"]["cpu_s"], 2), "load_generators": delta["loadgen_cpu_s"]},
               "costs_per_join": per_unit(delta, background, joined),
               "statements": dict(list(delta["pg"]["by_statement"].items())[:16]),
               "postgres_sessions_sampled": sessions,
               "departures": {"processed_s": None if drained is None else round(drained, 2),
                              "pg_statements": leave_delta["pg"]["statements"],
                              "last_seen_updates": last_seen_updates(leave_delta),
                              "cpu_s": {"hubs": leave_delta["hub_cpu_s"], "postgres": round(leave_delta["pg"]["cpu_s"], 2),
                                        "nats": round(leave_delta["nats"]["cpu_s"], 2)},
                              "nats_in_msgs": leave_delta["nats"]["in_msgs"], "nats_out_msgs": leave_delta["nats"]["out_msgs"]}}
    log(f"rejoin storm: {figures}")
    return figures


def connected_peers(hub: HubProcess) -> float:
    """The hub's riftgate_hub_connected_peers gauge (its own authenticated sessions)."""
    return sum(value for key, value in hub.metrics().items() if key.startswith("riftgate_hub_connected_peers"))


def last_seen_updates(delta: dict) -> int:
    """How many `UPDATE peers SET last_seen_at` ran in the window: each hub's once-a-minute flush writes one per peer."""
    return sum(calls for query, calls in delta["pg"]["by_statement"].items()
               if query.startswith("UPDATE peers SET last_seen_at"))


def last_seen_probe(cluster: Cluster, generators: list[LoadGenerator], seconds: float, rate: float) -> dict:
    """A low-rate relay step (one generator's pairs, across hubs when the hubs are several) long enough to include
    every hub's once-a-minute last-seen round (written in chunks, one per 250 ms tick, under the cluster-wide write
    lock): its latency tail shows what the round stalls."""
    first = cluster.snapshot(generators)
    sampling = ActivitySampler(cluster.pg)
    generators[0].send(f"relay cross {rate} {seconds}")
    try:
        step = generators[0].next_event("relay", seconds + 120)
    finally:
        sampling.stop()
    delta = cluster.delta(first, cluster.snapshot(generators))
    updates = last_seen_updates(delta)
    probe = {"offered_per_s": rate, "seconds": seconds, "pairs": step.get("pairs"), "sent": step.get("sent"),
             "delivered": step.get("delivered"), "latency_ms": step.get("latency_ms"), "skipped": step.get("skipped"),
             "last_seen_updates": updates, "postgres_sessions_sampled": sampling.summary(),
             "hub_cpu_percent": cpu_percent(delta["hub_cpu_s"], delta["seconds"]),
             "postgres_cpu_percent": cpu_percent(delta["pg"]["cpu_s"], delta["seconds"])}
    log(f"last-seen probe: {probe}")
    return probe


def run_capacity_phase(hub_binary: str, postgres, out_dir: str, hubs: int, agents: int, network_size: int,
                       processes: int, idle_seconds: float, storm_timeout: float, name: str = "capacity",
                       bus: bool = True, probe_seconds: float = 65, probe_rate: float = 500) -> dict:
    networks = (agents + network_size - 1) // network_size
    with work_directory(os.path.join(out_dir, "work"), f"cluster-{name}") as scratch:
        cluster = Cluster(hub_binary, postgres, scratch, out_dir, name, hubs, networks, bus=bus)
        generators: list[LoadGenerator] = []
        try:
            generators = start_loadgens(cluster, scratch, out_dir, name, agents, network_size, processes, "spread")
            storm_figures, before, background = storm(cluster, generators, storm_timeout)
            after_storm = cluster.snapshot(generators)
            storm_delta = cluster.delta(before, after_storm)
            log(f"{name}: {storm_figures}")
            time.sleep(3)
            # One whole last-seen period (60 s): each hub's flush is part of what idle agents cost.
            idle = idle_window(cluster, generators, idle_seconds)
            # Transactions reach pg_stat_database up to a second or so late: count them from before the storm to the
            # end of the idle window, less the background over that whole time.
            through_idle = cluster.delta(before, cluster.snapshot(generators))
            join_costs = per_unit(storm_delta, background, storm_figures["joined"])
            join_costs["pg_xact_commit"] = per_unit(through_idle, background, storm_figures["joined"])["pg_xact_commit"]
            probe = last_seen_probe(cluster, generators, probe_seconds, probe_rate) if probe_seconds > 0 else None
            rejoin = rejoin_storm(cluster, generators, storm_timeout, background)
            result = {
                "rejoin": rejoin,
                "last_seen_probe": probe,
                "hubs": hubs, "agents": agents, "network_size": network_size, "placement": "spread",
                "nats": bus,
                "join": storm_figures,
                "join_cpu_s": {"hubs": storm_delta["hub_cpu_s"], "postgres": round(storm_delta["pg"]["cpu_s"], 2),
                               "nats": round(storm_delta["nats"]["cpu_s"], 2), "load_generators": storm_delta["loadgen_cpu_s"]},
                "costs_per_join": join_costs,
                "join_statements": dict(list(storm_delta["pg"]["by_statement"].items())[:15]),
                "idle": {**idle_figures(idle, storm_figures), "last_seen_updates": last_seen_updates(idle)},
                "background_per_s": background,
                "hub_rejections": cluster.rejected(),
                "hub_alive": [hub.process.poll() is None for hub in cluster.hubs],
            }
            log(f"{name} idle: {result['idle']}")
            log(f"{name} per join: {join_costs}")
            return result
        finally:
            for generator in generators:
                generator.stop()
            cluster.stop()


def run_cluster(bin_dir: str, out_dir: str, hubs: int = 3, relay_agents: int = 2000, rates=(1000, 5000),
                step_seconds: float = 5, rounds: int = 2, capacity_agents: int = 50_000, network_size: int = 10,
                loadgen_processes: int | None = None, idle_seconds: float = 60, storm_timeout: float = 900,
                phases=("relay", "capacity", "single"), probe_seconds: float = 65) -> dict:
    if NATS_SERVER is None:
        return {"skipped": "nats-server is not installed (deploy/install-deps.sh installs it)"}
    hub_binary = os.path.join(bin_dir, "riftgate-hub")
    try:
        postgres = start_postgres()
    except PostgresUnavailable as absent:
        return {"skipped": str(absent)}
    results: dict = {"hubs": hubs, "nats_nodes": 3, "database": "PostgreSQL (one server, fsync off as in the tests)",
                     "phases": list(phases)}
    try:
        results["postgres_version"] = postgres.psql("SHOW server_version").strip()
        if "relay" in phases:
            results["relay"] = run_relay_phase(hub_binary, postgres, out_dir, hubs, relay_agents, network_size, rates,
                                               step_seconds, rounds)
        if "capacity" in phases:
            processes = loadgen_processes or max(2, -(-capacity_agents // 12_500))
            if capacity_agents / processes > FILE_LIMIT - 500:
                raise ValueError(f"{processes} load generators cannot hold {capacity_agents} agents under the file limit")
            results["capacity"] = run_capacity_phase(hub_binary, postgres, out_dir, hubs, capacity_agents,
                                                     network_size, processes, idle_seconds, storm_timeout,
                                                     probe_seconds=probe_seconds)
        if "single" in phases:
            # The same-run baseline: one hub on PostgreSQL without NATS, holding one cluster member's share.
            share = -(-capacity_agents // hubs)
            results["single"] = run_capacity_phase(hub_binary, postgres, out_dir, 1, share, network_size,
                                                   max(2, -(-share // 12_500)), idle_seconds, storm_timeout,
                                                   name="single", bus=False, probe_seconds=probe_seconds)
    finally:
        postgres.destroy()
    return results


if __name__ == "__main__":
    import argparse
    import datetime

    sys.path.insert(0, HERE)
    from report import markdown_report
    from procstats import machine

    parser = argparse.ArgumentParser(description="hub cluster benchmark alone (figures printed, never asserted)")
    parser.add_argument("--bin-dir", required=True, help="release riftgate-hub (.build-bench-release/release)")
    parser.add_argument("--out", default="bench-results")
    parser.add_argument("--phases", default="relay,capacity,single",
                        help="relay, capacity (the 3-hub cluster), single (one hub on PostgreSQL, no NATS: baseline)")
    parser.add_argument("--hubs", type=int, default=3)
    parser.add_argument("--relay-agents", type=int, default=2000)
    parser.add_argument("--rates", default="1000,5000")
    parser.add_argument("--step-seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2, help="alternating same/cross rounds per rate")
    parser.add_argument("--agents", type=int, default=50_000, help="agents of the capacity phase")
    parser.add_argument("--loadgen-processes", type=int, default=None)
    parser.add_argument("--idle-seconds", type=float, default=60, help="idle window (60 s: one last-seen flush per hub)")
    arguments = parser.parse_args()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = os.path.join(arguments.out, f"cluster-{stamp}")
    os.makedirs(out, exist_ok=True)
    section = run_cluster(os.path.abspath(arguments.bin_dir), out, hubs=arguments.hubs,
                          relay_agents=arguments.relay_agents, rates=[float(r) for r in arguments.rates.split(",")],
                          step_seconds=arguments.step_seconds, rounds=arguments.rounds, capacity_agents=arguments.agents,
                          loadgen_processes=arguments.loadgen_processes, idle_seconds=arguments.idle_seconds,
                          phases=[p.strip() for p in arguments.phases.split(",") if p.strip()])
    revision = subprocess.run(["git", "-C", HERE, "describe", "--always", "--dirty"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    results = {"started_utc": stamp, "machine": machine(), "source": revision, "binaries": os.path.abspath(arguments.bin_dir),
               "sections": {"cluster": section}, "command": " ".join(sys.argv)}
    with open(os.path.join(out, "results.json"), "w") as handle:
        json.dump(results, handle, indent=2)
    with open(os.path.join(out, "results.md"), "w") as handle:
        handle.write(markdown_report(results))
    print(markdown_report(results))
    log(f"results: {out}/results.json and results.md")
