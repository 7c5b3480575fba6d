"""Tunnel throughput and RTT: riftgate's tunnel next to a hand-configured wireguard-go pair, in the same run.

For each topology (see `bench_mesh.py`) both tunnels are up at once between the same two namespaces. Each iperf3
test (TCP 1 stream, TCP 4 streams, UDP unlimited) runs `rounds` times per tunnel, alternating which tunnel goes first
in each round so that drift on this noisy machine hits both alike; the result is the median of each and the ratio of
medians (also each round's ratio). Ping RTT through both tunnels is reported next to the raw underlay RTT.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time

import perf_profile
from bench_mesh import BenchMesh
from lab import Host, wait_for
from procstats import median, percentile
from workdirs import work_directory

IPERF_PORT = 5201
PATH_KEYS = ("path_type", "path_mode", "state", "local_candidate", "remote_candidate")
TESTS = {
    "tcp_1_stream": ["-P", "1"],
    "tcp_4_streams": ["-P", "4"],
    "udp": ["-u", "-b", "0", "-l", "1300"],  # 1300-byte datagrams fit the 1380 MTU with IPv4+UDP headers
    # B to A: on a relayed pair one side forwards (the one whose local candidate is its relay) and the other hands
    # over, and which side that is depends on the connect, so the bulk data's direction decides whether the forwarding
    # side sends (through libnice to coturn) or receives (from libnice to WireGuard). Both are measured every run.
    "tcp_1_stream_b_to_a": ["-P", "1", "-R"],
}


def log(text: str) -> None:
    print(f"[tunnel] {text}", file=sys.stderr, flush=True)


def iperf(client: Host, server_ip: str, args: list[str], seconds: float) -> dict:
    """One iperf3 run from `client` to the server at `server_ip`; receiver-side throughput in Mbit/s."""
    omit = [] if "-u" in args else ["-O", "1"]  # skip TCP slow start
    result = client.exec("iperf3", "-c", server_ip, "-p", str(IPERF_PORT), "-t", str(seconds), "-J", *omit, *args,
                         check=False, timeout=seconds + 30)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return {"error": (result.stderr or result.stdout).strip()[-300:]}
    if "error" in report:
        return {"error": report["error"]}
    end = report["end"]
    if "-u" in args:
        summary = end.get("sum_received") or end["sum"]
        return {"mbit_s": round(summary["bits_per_second"] / 1e6, 1),
                "lost_percent": round(end["sum"].get("lost_percent", 0.0), 2)}
    sent = end["sum_sent"]
    return {"mbit_s": round(end["sum_received"]["bits_per_second"] / 1e6, 1), "retransmits": sent.get("retransmits")}


def ping_rtt(client: Host, target: str, count: int = 100) -> dict:
    """RTT percentiles in ms of `count` pings 10 ms apart."""
    result = client.exec("ping", "-n", "-c", str(count), "-i", "0.01", "-W", "1", target, check=False, timeout=count * 0.1 + 20)
    samples = sorted(float(value) for value in re.findall(r"time=([\d.]+) ms", result.stdout))
    if not samples:
        return {"error": "no reply"}
    return {"count": len(samples), "p50_ms": round(percentile(samples, 50), 3), "p90_ms": round(percentile(samples, 90), 3),
            "min_ms": round(samples[0], 3), "lost": count - len(samples)}


def compare(client: Host, riftgate_ip: str, baseline_ip: str, rounds: int, seconds: float) -> dict:
    results = {}
    for test, args in TESTS.items():
        runs = {"riftgate": [], "wireguard_go": []}
        for round_index in range(rounds):
            order = [("riftgate", riftgate_ip), ("wireguard_go", baseline_ip)]
            if round_index % 2:
                order.reverse()
            for name, address in order:
                runs[name].append(iperf(client, address, args, seconds))
        rift = [run["mbit_s"] for run in runs["riftgate"] if "mbit_s" in run]
        base = [run["mbit_s"] for run in runs["wireguard_go"] if "mbit_s" in run]
        entry = {"riftgate_mbit_s": median(rift), "wireguard_go_mbit_s": median(base), "runs": runs}
        if rift and base and median(base):
            entry["ratio"] = round(median(rift) / median(base), 3)
            paired = [r["mbit_s"] / b["mbit_s"] for r, b in zip(runs["riftgate"], runs["wireguard_go"])
                      if "mbit_s" in r and "mbit_s" in b and b["mbit_s"]]
            entry["round_ratios"] = [round(value, 3) for value in paired]
        log(f"{test}: riftgate {entry['riftgate_mbit_s']} Mbit/s, wireguard-go {entry['wireguard_go_mbit_s']} Mbit/s, "
            f"ratio {entry.get('ratio')}")
        results[test] = entry
    return results


def profile_riftgate(client: Host, riftgate_ip: str, seconds: float, workdir: str, test: str = "tcp_1_stream") -> dict:
    """Where the machine's CPU goes while riftgate's tunnel carries one TCP stream (perf on every CPU), A to B or, with
    `test` "tcp_1_stream_b_to_a", B to A."""
    data = os.path.join(workdir, f"tunnel-{test}.perf.data")
    recorder = perf_profile.start(data)
    time.sleep(0.5)
    run = iperf(client, riftgate_ip, TESTS[test], seconds)
    perf_profile.finish(recorder)
    by_thread = perf_profile.top(data, sort="comm", limit=12, remove=False)
    by_symbol = perf_profile.top(data, sort="comm,dso,symbol", limit=20)
    return {"iperf": run, "by_thread": by_thread, "by_symbol": by_symbol}


def measure_topology(topology: str, rounds: int, seconds: float, work_root: str, profile: bool = True,
                     coturn_socket_buffer: int = 0) -> dict:
    with work_directory(work_root, f"tunnel-{topology}") as workdir:
        mesh = BenchMesh(topology, workdir, coturn_socket_buffer=coturn_socket_buffer)
        try:
            mesh.start_agents()
            ip_a, ip_b = mesh.overlay()
            started = time.monotonic()
            wait_for(lambda: mesh.hosts["a"].ping(ip_b), timeout=60, what="A to ping B through riftgate")
            path = wait_for(lambda: (p := mesh.path_of_b_at_a()).get("state") == "connected" and p, timeout=30,
                            what="A to report B connected")
            at_b = mesh.path_of_a_at_b()
            log(f"{topology}: riftgate up ({time.monotonic() - started:.1f} s), path at A {path.get('path_type')}/"
                f"{path.get('path_mode')} ({path.get('local_candidate')}), at B {at_b.get('path_mode')} "
                f"({at_b.get('local_candidate')})")
            baseline = mesh.baseline(IPERF_PORT)
            mesh.hosts["b"].spawn("iperf3", "-s", "-p", str(IPERF_PORT), log=os.path.join(workdir, "iperf3-server.log"))
            wait_for(lambda: f":{IPERF_PORT} " in mesh.hosts["b"].exec("ss", "-tln", check=False).stdout, timeout=10,
                     what="iperf3 to listen")
            underlay, underlay_meaning = mesh.underlay_target()
            result = {
                "topology": topology,
                "underlay_rtt_target": underlay_meaning,
                "riftgate_path": {key: path.get(key) for key in PATH_KEYS},
                "riftgate_path_at_b": {key: value for key, value in mesh.path_of_a_at_b().items() if key in PATH_KEYS},
                "mtu": 1380,
                "rtt": {
                    "underlay": ping_rtt(mesh.hosts["a"], underlay),
                    "riftgate": ping_rtt(mesh.hosts["a"], ip_b),
                    "wireguard_go": ping_rtt(mesh.hosts["a"], baseline.right_inner),
                },
            }
            log(f"{topology} RTT: {result['rtt']}")
            result["throughput"] = compare(mesh.hosts["a"], ip_b, baseline.right_inner, rounds, seconds)
            if profile and perf_profile.available():
                result["profile"] = profile_riftgate(mesh.hosts["a"], ip_b, seconds, workdir)
                result["profile_b_to_a"] = profile_riftgate(mesh.hosts["a"], ip_b, seconds, workdir,
                                                            test="tcp_1_stream_b_to_a")
            after = mesh.path_of_b_at_a()
            result["riftgate_path_after"] = {key: after.get(key) for key in PATH_KEYS}
            result["path_changed_during_run"] = any(after.get(key) != path.get(key) for key in ("path_type", "path_mode"))
            baseline.stop()
            mesh.b.down()
            mesh.a.down()
            return result
        except Exception:
            log("agent A log tail:\n" + mesh.a.log()[-3000:])
            log("agent B log tail:\n" + mesh.b.log()[-3000:])
            raise
        finally:
            mesh.close()


def run_tunnel(work_root: str, topologies=("lan", "home-nats", "hard-nats"), rounds: int = 3, seconds: float = 5,
               profile: bool = True, coturn_socket_buffer: int = 0) -> dict:
    results = {"rounds": rounds, "seconds_per_run": seconds, "coturn_socket_buffer": coturn_socket_buffer,
               "topologies": {}}
    for topology in topologies:
        try:
            results["topologies"][topology] = measure_topology(topology, rounds, seconds, work_root, profile,
                                                               coturn_socket_buffer)
        except Exception as error:  # one topology failing must not lose the others' figures
            log(f"{topology} failed: {error}")
            results["topologies"][topology] = {"topology": topology, "error": str(error)}
    return results
