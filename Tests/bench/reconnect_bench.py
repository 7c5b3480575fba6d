"""Reconnect after a hub outage: N agents held by the load generator, the hub SIGKILLed, kept down, restarted.

For each policy (`new`: the agent's 4 s step cap, `old`: the 30 s cap it replaced) one run on a fresh copy of the
cached state: a release hub listens on a fixed loopback port below the ephemeral range (so none of the agents' own
connection attempts can take it, by TCP self-connect, while the hub is down); `hub_loadgen.py --reconnect-policy`
joins N agents and arms the policy; the hub is killed with SIGKILL, kept down for `outage_s`, and restarted on the
same port and state directory. Its CPU and resident memory are sampled every 250 ms from the moment it listens again
until the load generator reports every agent back, and the kernel's TCP counters (listen-queue overflows, SYN
retransmissions; machine-wide) are read before the restart and after. With `profile`, one more storm per policy runs
with `perf record` on the restarted hub (its figures are not used, as sampling perturbs them). Figures are reported,
never asserted.
"""
from __future__ import annotations

import json
import os

import perf_profile
import queue
import random
import shutil
import socket
import subprocess
import sys
import threading
import time

from hub_bench import HubProcess, prepare_state, rss_peak
from procstats import ProcessSample
from workdirs import work_directory

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE_S = 0.25


def log(text: str) -> None:
    print(f"[reconnect] {text}", file=sys.stderr, flush=True)


def run_reconnect(bin_dir: str, out_dir: str, cache_dir: str, agents: int = 10_000, network_size: int = 10,
                  outage_s: float = 30, policies=("new", "old"), relay_rate: float = 1000, relay_after_s: float = 5,
                  reconnect_timeout_s: float = 120, profile: bool = False) -> dict:
    """One storm per policy, in the order given; returns {"agents", "outage_s", "runs": [...], "profiles"}."""
    hub_binary = os.path.join(bin_dir, "riftgate-hub")
    pristine, tokens_file = prepare_state(hub_binary, cache_dir, (agents + network_size - 1) // network_size)
    results = {"agents": agents, "network_size": network_size, "outage_s": outage_s, "relay_rate": relay_rate,
               "relay_after_s": relay_after_s, "runs": []}
    for policy in policies:
        results["runs"].append(one_storm(hub_binary, pristine, tokens_file, out_dir, agents, network_size, outage_s,
                                         policy, relay_rate, relay_after_s, reconnect_timeout_s))
    if profile and perf_profile.available():
        results["profiles"] = {}
        for policy in policies:
            profiled = one_storm(hub_binary, pristine, tokens_file, out_dir, agents, network_size, outage_s, policy,
                                 relay_rate, relay_after_s, reconnect_timeout_s, profile=True)
            results["profiles"][policy] = profiled["reconnect"].get("profile_top", [])
    return results


TCP_COUNTERS = ("ListenOverflows", "ListenDrops", "TCPReqQFullDrop", "TCPSynRetrans")


def tcp_counters() -> dict[str, int]:
    """The machine's TcpExt counters that show a listen queue overflowing (from /proc/net/netstat)."""
    with open("/proc/net/netstat") as handle:
        lines = handle.read().splitlines()
    for names, values in zip(lines[0::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], (int(value) for value in values.split()[1:])))
            return {name: table.get(name, 0) for name in TCP_COUNTERS}
    return {}


def fixed_port() -> int:
    """A free loopback port below the ephemeral range (the agents' source ports are drawn from that range)."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
        low = int(handle.read().split()[0])
    for port in random.Random().sample(range(max(1024, low - 12_000), low), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free loopback port below the ephemeral range")


class LineReader:
    """The load generator's stdout, line by line, with a timeout per line."""

    def __init__(self, stream):
        self.lines: queue.Queue = queue.Queue()

        def pump():
            for line in stream:
                self.lines.put(line)
            self.lines.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def json_line(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"the load generator said nothing for {timeout:.0f} s") from None
            if line is None:
                raise RuntimeError("the load generator exited early")
            if line.startswith("{"):
                return json.loads(line)


class HubSampler:
    """/proc samples of one process every 250 ms in a thread, until `stop()`."""

    def __init__(self, pid: int, origin: float):
        self.origin, self.samples, self.done = origin, [], threading.Event()
        source = ProcessSample(pid)

        def loop():
            while not self.done.is_set():
                try:
                    self.samples.append(source.sample())
                except OSError:
                    return
                self.done.wait(SAMPLE_S)

        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.done.set()
        self.thread.join(5)

    def summary(self, until_s: float | None) -> dict:
        """CPU per second from the restart, over the window up to `until_s`, and resident memory."""
        samples = self.samples
        if len(samples) < 2:
            return {}
        per_second, start = [], samples[0]
        for sample in samples[1:]:
            if sample.time - start.time >= 1.0 - 1e-3:
                per_second.append(round(100 * (sample.cpu - start.cpu) / (sample.time - start.time), 1))
                start = sample
        window = [s for s in samples if until_s is None or s.time - self.origin <= until_s + SAMPLE_S] or samples
        cpu_s = window[-1].cpu - samples[0].cpu
        wall = max(1e-9, window[-1].time - samples[0].time)
        return {"cpu_s_until_all_back": round(cpu_s, 2), "cpu_percent_until_all_back": round(100 * cpu_s / wall, 1),
                "cpu_percent_per_s": per_second[:40], "peak_cpu_percent_1s": max(per_second, default=None),
                "rss_at_restart_kib": samples[0].rss_kib, "rss_peak_sampled_kib": max(s.rss_kib for s in samples),
                "rss_end_kib": samples[-1].rss_kib}


def one_storm(hub_binary, pristine, tokens_file, out_dir, agents, network_size, outage_s, policy, relay_rate,
              relay_after_s, reconnect_timeout_s, profile: bool = False) -> dict:
    suffix = "-profile" if profile else ""
    with work_directory(os.path.join(out_dir, "work"), f"reconnect-{policy}{suffix}") as scratch:
        state = os.path.join(scratch, "state")
        shutil.copytree(pristine, state)
        port = fixed_port()
        log_path = os.path.join(out_dir, f"hub-reconnect-{policy}{suffix}.log")
        perf_data = os.path.join(out_dir, f"hub-reconnect-{policy}.perf.data")
        hub = HubProcess(hub_binary, state, log_path, listen=f"127.0.0.1:{port}")
        command = [sys.executable, os.path.join(HERE, "hub_loadgen.py"), "--url", f"ws://127.0.0.1:{port}",
                   "--tokens", tokens_file, "--agents", str(agents), "--network-size", str(network_size),
                   "--hub-pid", str(hub.pid), "--reconnect-policy", policy,
                   "--reconnect-relay-rate", str(relay_rate), "--reconnect-relay-after", str(relay_after_s),
                   "--reconnect-timeout", str(reconnect_timeout_s)]
        loadgen = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        restarted, sampler, perf = None, None, None
        try:
            reader = LineReader(loadgen.stdout)
            log(f"{policy} policy{' (profiled)' if profile else ''}, N = {agents}: hub pid {hub.pid} on 127.0.0.1:{port}; joining")
            ready = reader.json_line(900)
            rss_before_kill = ProcessSample(hub.pid).sample().rss_kib
            killed_at = hub.kill()
            loadgen.stdin.write(f"killed {killed_at}\n")
            loadgen.stdin.flush()
            log(f"{ready['agents']} agents welcomed; hub killed, down for {outage_s} s")
            time.sleep(max(0.0, outage_s - (time.monotonic() - killed_at)))
            tcp_before = tcp_counters()
            restarted, restart_failures = None, []
            while restarted is None:
                try:
                    restarted = HubProcess(hub_binary, state, log_path, listen=f"127.0.0.1:{port}")
                except RuntimeError as error:  # e.g. the port still taken
                    restart_failures.append(str(error))
                    if len(restart_failures) >= 10:
                        raise
                    time.sleep(0.5)
            sampler = HubSampler(restarted.pid, restarted.listening_at)
            perf = perf_profile.start(perf_data, pid=restarted.pid) if profile else None
            loadgen.stdin.write(f"answered {restarted.listening_at} {restarted.pid}\n")
            loadgen.stdin.flush()
            log(f"hub restarted (pid {restarted.pid}) {restarted.listening_at - killed_at:.1f} s after the kill")
            run = reader.json_line(reconnect_timeout_s + relay_after_s + 120)
            tcp_after = tcp_counters()
            sampler.stop()
            if perf is not None:
                perf_profile.finish(perf)
                perf = None
                run["reconnect"]["profile_top"] = perf_profile.top(perf_data)
            loadgen.wait(30)
            storm = run["reconnect"]
            storm["hub"] = sampler.summary(storm["last_welcome_after_listening_s"])
            storm["hub"]["rss_before_kill_kib"] = rss_before_kill
            storm["hub"]["rss_peak_kib"] = rss_peak(restarted.pid)
            storm["hub"]["restart_failures"] = restart_failures
            storm["tcp_counters"] = {name: tcp_after.get(name, 0) - tcp_before.get(name, 0) for name in tcp_after}
            metrics = restarted.metrics()
            storm["hub_metrics"] = {key: value for key, value in metrics.items()
                                    if key.startswith(("riftgate_hub_connections_total", "riftgate_hub_messages_relayed_total",
                                                       "riftgate_hub_slow_connections_closed_total"))
                                    or (key.startswith("riftgate_hub_messages_rejected_total") and value)}
            storm["hub_log_problems"] = log_problems(log_path)
            run["command"] = " ".join(command)
            return run
        finally:
            if perf is not None:
                perf_profile.finish(perf)
            if sampler is not None:
                sampler.stop()
            if loadgen.poll() is None:
                loadgen.kill()
                loadgen.wait(10)
            for process in (hub, restarted):
                if process is not None:
                    process.stop()


def log_problems(log_path: str, limit: int = 5) -> dict:
    """Warning, error and critical lines the hub logged (both lives), counted by message without the time stamp; the
    plain-ws:// warning printed at every start is left out. The first `limit` kinds are kept."""
    counts: dict[str, int] = {}
    with open(log_path, errors="replace") as handle:
        for line in handle:
            fields = line.split(" ", 2)
            if len(fields) < 3 or fields[1] not in ("warning", "error", "critical") or "plain ws://" in line:
                continue
            message = fields[2].split(": ", 1)[-1].strip()[:160]
            counts[message] = counts.get(message, 0) + 1
    kinds = sorted(counts.items(), key=lambda item: -item[1])
    return {"lines": sum(counts.values()), "top": [{"message": message, "count": count} for message, count in kinds[:limit]]}


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description="reconnect storm after a hub outage, alone")
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--out", default="bench-results")
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--outage-seconds", type=float, default=30)
    parser.add_argument("--policies", default="new,old")
    parser.add_argument("--profile", action="store_true", help="one more storm per policy under perf")
    arguments = parser.parse_args()
    os.makedirs(arguments.out, exist_ok=True)
    print(json.dumps(run_reconnect(arguments.bin_dir, arguments.out, os.path.join(arguments.out, "cache"),
                                   agents=arguments.agents, outage_s=arguments.outage_seconds,
                                   policies=arguments.policies.split(","), profile=arguments.profile), indent=2))
